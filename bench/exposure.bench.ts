/**
 * The window of exposure (issue 13.8): how long a key an attacker widened stays widened once the guard hears of
 * it. A remediate-mode key gets a public kms:Decrypt statement; the real drift handler, wired as deployed
 * (initDriftHandler: the state table on moto holds the idempotency records, ledger, bindings, intents and
 * outbox), gets the PutKeyPolicy event and restores the key. Measured: the handler's invocation -> the
 * restoring PutKeyPolicy returns,
 *
 *   warm   in this process, the same handler invoked again and again (median / p95), timed by SDK middleware on
 *          the guard's clients, which also lists every AWS call made on the way;
 *   cold   a fresh node process per run that loads the packaged drift bundle (`serverless package`) and
 *          invokes it once (bench/fixtures/exposure-cold.cjs, timed by Node's http diagnostics channels),
 *
 * beside a bare GetKeyPolicy + PutKeyPolicy pair against the same moto in the same run (warm: alternating with
 * the handler; cold: a new SDK client in a fresh process). Goal: warm ratio <= 2.
 *
 * moto answers one request at a time (one Python process), so concurrent calls queue there and the ratio on
 * bare loopback counts the calls on the path, whichever service they go to. AWS runs KMS and DynamoDB as
 * services of their own, so every figure is measured twice: with every service in one moto process, and with
 * DynamoDB in a second moto process (AWS_ENDPOINT_URL_DYNAMODB), where a DynamoDB call and a KMS call overlap
 * as they do on AWS (calls to one service still queue). Each is also measured with a fixed delay per call
 * (bench/fixtures/latency-proxy.cjs, --exposure-rtt=<ms>, default 10), where concurrent calls overlap as
 * they do against AWS, so the ratio counts the round trips on the path.
 *
 * Usage: npm run bench -- exposure [--exposure-runs=40] [--exposure-cold-runs=7] [--exposure-rtt=10]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetKeyPolicyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { type MotoServer, startMoto } from '../dev/moto-server';
import {
  createFindingsTopic,
  createKeyWithPolicy,
  createWorldClients,
  destroyWorldClients,
  eventBridgeEnvelope,
  MOTO_ACCOUNT_ID,
  PUBLIC_DECRYPT_STATEMENT,
  policyWithStatement,
  putKeyPolicyRecord,
  readShippedPolicyTemplate,
  WORLD_PLACEHOLDERS,
  WORLD_REGION,
  type WorldClients,
  type WorldKey,
  worldClientConfig,
  writeManifest,
} from '../dev/world';
import { initDriftHandler } from '../src/app/drift-handler';
import type { Guard } from '../src/app/guard-deps';
import { createKmsClient } from '../src/aws/clients';
import { createStateTable } from '../src/aws/state-table';
import { renderPlaceholders } from '../src/manifest';
import { BENCH_STAGE, packageFunctions } from './package';

const WARM_GOAL_RATIO = 2;
const WARM_UP_RUNS = 3;
const FUNCTION_NAME = `kms-policy-guard-${BENCH_STAGE}-drift`;
const GUARD_ROLE_ARN = `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/kms-policy-guard-${WORLD_REGION}`;
const ATTACKER = `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/Mallory`;
const STATE_TABLE = `kms-policy-guard-${BENCH_STAGE}-state`;
const COLD_RUNNER = join(__dirname, 'fixtures/exposure-cold.cjs');
const LATENCY_PROXY = join(__dirname, 'fixtures/latency-proxy.cjs');

class ExposureBenchError extends Error {
  override readonly name = 'ExposureBenchError';
}

function flag(name: string, fallback: number): number {
  const prefix = `--${name}=`;
  const raw = process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new ExposureBenchError(`--${name} must be a number >= 0`);
  return value;
}

// ---------------------------------------------------------------------------------------------------------
// The world

interface World {
  clients: WorldClients;
  /** The key under attack: remediate mode, matched by key ID. */
  key: WorldKey;
  /** A key of its own for the bare GetKeyPolicy + PutKeyPolicy pair. */
  pairKey: WorldKey;
  desiredPolicy: string;
  widenedPolicy: string;
  topicArn: string;
  manifestPath: string;
  workDir: string;
}

async function buildWorld(moto: MotoServer, dynamoMoto: MotoServer, workDir: string): Promise<World> {
  const clients = createWorldClients(worldClientConfig(moto.endpoint));
  const template = readShippedPolicyTemplate('payments-data.json');
  const desiredPolicy = renderPlaceholders(template, WORLD_PLACEHOLDERS, 'payments-data.json');
  const widenedPolicy = policyWithStatement(desiredPolicy, PUBLIC_DECRYPT_STATEMENT);
  const key = await createKeyWithPolicy(clients.kms, {
    policy: desiredPolicy,
    description: 'exposure bench',
  });
  const pairKey = await createKeyWithPolicy(clients.kms, { policy: widenedPolicy, description: 'bare pair' });
  const manifestPath = writeManifest(join(workDir, 'manifest'), {
    keys: [
      {
        name: 'payments-data',
        match: { keyId: key.keyId },
        mode: 'remediate',
        policyFile: 'payments-data.json',
        policyTemplate: template,
      },
    ],
    // Every run is a restore of its own, never paused or reported as a fight with the guard.
    flapping: { maxReapplies: 100, windowMinutes: 1 },
  });
  const topic = await createFindingsTopic(clients, { topicName: 'exposure-findings', queueName: 'exposure' });
  // The state table on both servers: all services in one process, or DynamoDB in a process of its own.
  await createStateTable(clients.dynamodb, STATE_TABLE);
  const dynamodb = new DynamoDBClient(worldClientConfig(dynamoMoto.endpoint));
  try {
    await createStateTable(dynamodb, STATE_TABLE);
  } finally {
    dynamodb.destroy();
  }
  return {
    clients,
    key,
    pairKey,
    desiredPolicy,
    widenedPolicy,
    topicArn: topic.topicArn,
    manifestPath,
    workDir,
  };
}

/** The attacker's change, straight to moto (never through the latency proxy, never timed). */
async function widen(world: World): Promise<Record<string, unknown>> {
  await world.clients.kms.send(
    new PutKeyPolicyCommand({ KeyId: world.key.keyId, PolicyName: 'default', Policy: world.widenedPolicy }),
  );
  return eventBridgeEnvelope(
    putKeyPolicyRecord({
      keyArn: world.key.keyArn,
      actorArn: ATTACKER,
      eventId: randomUUID(),
      policy: world.widenedPolicy,
    }),
  );
}

async function assertRestored(world: World): Promise<void> {
  const { Policy } = await world.clients.kms.send(
    new GetKeyPolicyCommand({ KeyId: world.key.keyId, PolicyName: 'default' }),
  );
  if (Policy !== world.desiredPolicy) throw new ExposureBenchError('the handler did not restore the key');
}

/** Where the guard's calls go: one endpoint for every service, or DynamoDB's own. */
interface Endpoints {
  endpoint: string;
  dynamodb?: string;
}

/** The drift function's environment as deployed, against `endpoints` (moto, or the latency proxy). */
function driftEnvironment(world: World, { endpoint, dynamodb }: Endpoints): Record<string, string> {
  return {
    ...(dynamodb === undefined ? {} : { AWS_ENDPOINT_URL_DYNAMODB: dynamodb }),
    PATH: process.env.PATH ?? '',
    HOME: world.workDir,
    AWS_REGION: WORLD_REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_ENDPOINT_URL: endpoint,
    AWS_EC2_METADATA_DISABLED: 'true',
    LAMBDA_TASK_ROOT: world.workDir,
    POWERTOOLS_SERVICE_NAME: 'kms-policy-guard',
    LOG_LEVEL: 'INFO',
    MANIFEST_PATH: world.manifestPath,
    TOPIC_ARN: world.topicArn,
    GUARD_ROLE_ARN,
    STATE_TABLE,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The latency proxy

interface LatencyProxy {
  endpoint: string;
  stop(): void;
}

async function startLatencyProxy(target: string, delayMs: number): Promise<LatencyProxy> {
  const child: ChildProcess = spawn(process.execPath, [LATENCY_PROXY, target, String(delayMs)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((ready, fail) => {
    child.once('error', fail);
    child.once('exit', (code) => fail(new ExposureBenchError(`latency proxy exited with ${code}`)));
    child.stdout?.once('data', (chunk: Buffer) => {
      const parsed = z.object({ port: z.number() }).safeParse(JSON.parse(chunk.toString('utf8')));
      if (parsed.success) ready(parsed.data.port);
      else fail(new ExposureBenchError(`latency proxy said ${chunk.toString('utf8')}`));
    });
  });
  child.removeAllListeners('exit');
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => child.kill('SIGTERM') };
}

// ---------------------------------------------------------------------------------------------------------
// Warm: the handler in this process, timed by SDK middleware

interface Call {
  operation: string;
  start: number;
  end: number;
}

type Next = (args: { request?: unknown }) => Promise<unknown>;

/** The part of a client's (smithy) middleware stack this bench uses. */
interface TimedStack {
  add(
    middleware: (next: Next, context: object) => Next,
    options: { step: 'initialize' | 'build'; priority: 'high' | 'low'; name: string },
  ): void;
}

interface Instrumented {
  handler: Awaited<ReturnType<typeof initDriftHandler>>;
  /** Calls since the last `reset`, times relative to it. */
  calls: Call[];
  reset(): void;
  /** When the PutKeyPolicy response reached this process (Node's http diagnostics channel), relative to `reset`. */
  putResponseAt(): number | undefined;
  destroy(): void;
}

/** `kms:PutKeyPolicy`, `dynamodb:PutItem`, `sns:Publish` from a serialized request. */
function operationOf(service: string, request: unknown): string {
  const parsed = z
    .object({ headers: z.record(z.string(), z.string()), body: z.unknown().optional() })
    .safeParse(request);
  if (!parsed.success) return `${service}:?`;
  const target = parsed.data.headers['x-amz-target'];
  if (target !== undefined) return `${service}:${target.slice(target.lastIndexOf('.') + 1)}`;
  const body = typeof parsed.data.body === 'string' ? parsed.data.body : '';
  return `${service}:${new URLSearchParams(body).get('Action') ?? '?'}`;
}

async function instrumentedHandler(env: Record<string, string>): Promise<Instrumented> {
  let origin = performance.now();
  const calls: Call[] = [];
  let putResponse: number | undefined;
  let guard: Guard | undefined;
  const handler = await initDriftHandler(env, (built) => {
    guard = built;
    const dynamodb = built.stateTable?.client;
    if (!dynamodb) throw new ExposureBenchError('the guard has no state table');
    // Each client's stack is typed by its own commands; this bench only reads `request` and times `next`.
    const stacks: [string, TimedStack][] = [
      ['kms', built.kms.middlewareStack as unknown as TimedStack],
      ['sns', built.sns.middlewareStack as unknown as TimedStack],
      ['dynamodb', dynamodb.middlewareStack as unknown as TimedStack],
    ];
    for (const [service, stack] of stacks) {
      const byContext = new WeakMap<object, Call>();
      // Outermost: the whole send, retries included, as the caller awaits it.
      stack.add(
        (next, context) => async (args) => {
          const call: Call = {
            operation: `${service}:?`,
            start: performance.now() - origin,
            end: Number.NaN,
          };
          byContext.set(context, call);
          calls.push(call);
          try {
            return await next(args);
          } finally {
            call.end = performance.now() - origin;
          }
        },
        { step: 'initialize', priority: 'high', name: 'benchTiming' },
      );
      // The operation's name, from the serialized request.
      stack.add(
        (next, context) => async (args) => {
          const call = byContext.get(context);
          if (call) call.operation = operationOf(service, args.request);
          return next(args);
        },
        { step: 'build', priority: 'low', name: 'benchOperationName' },
      );
    }
  });
  const onRequest = (message: unknown) => {
    const request = (message as { request: ClientRequest }).request;
    if (request.getHeader('x-amz-target') === 'TrentService.PutKeyPolicy' && putResponse === undefined) {
      (request as ClientRequest & { benchPut?: boolean }).benchPut = true;
    }
  };
  const onResponse = (message: unknown) => {
    const request = (message as { request: ClientRequest & { benchPut?: boolean } }).request;
    if (request.benchPut && putResponse === undefined) putResponse = performance.now() - origin;
  };
  diagnostics.subscribe('http.client.request.start', onRequest);
  diagnostics.subscribe('http.client.response.finish', onResponse);
  return {
    handler,
    calls,
    reset: () => {
      calls.length = 0;
      putResponse = undefined;
      origin = performance.now();
    },
    putResponseAt: () => putResponse,
    destroy: () => {
      diagnostics.unsubscribe('http.client.request.start', onRequest);
      diagnostics.unsubscribe('http.client.response.finish', onResponse);
      guard?.destroy();
    },
  };
}

function lambdaContext(): Context {
  const deadline = Date.now() + 60_000;
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${WORLD_REGION}:${MOTO_ACCOUNT_ID}:function:${FUNCTION_NAME}`,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${FUNCTION_NAME}`,
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

const summarySchema = z.object({ status: z.string(), finding: z.object({ kind: z.string() }).optional() });

function assertRemediated(response: unknown): void {
  const summary = summarySchema.safeParse(response);
  if (!summary.success || summary.data.finding?.kind !== 'remediated') {
    throw new ExposureBenchError(`expected a remediated finding, got ${JSON.stringify(response)}`);
  }
}

/** Runs `body` with the handler's log lines (JSON on stdout) discarded: they are written, not shown. */
async function quietly<T>(body: () => Promise<T>): Promise<T> {
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    return await body();
  } finally {
    process.stdout.write = write;
  }
}

interface WarmRun {
  pathMs: number;
  channelMs: number;
  pairMs: number;
  calls: Call[];
}

/** Runs `body` with `env` in process.env: the SDK clients read their endpoint and credentials from it. */
async function withEnvironment<T>(env: Record<string, string>, body: () => Promise<T>): Promise<T> {
  const saved = new Map(Object.keys(env).map((name) => [name, process.env[name]]));
  Object.assign(process.env, env);
  try {
    return await body();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

async function warmRuns(world: World, endpoints: Endpoints, runs: number): Promise<WarmRun[]> {
  const env = driftEnvironment(world, endpoints);
  return withEnvironment(env, () => warmRunsIn(world, env, endpoints.endpoint, runs));
}

async function warmRunsIn(
  world: World,
  env: Record<string, string>,
  endpoint: string,
  runs: number,
): Promise<WarmRun[]> {
  const instrumented = await instrumentedHandler(env);
  const pair = createKmsClient({
    region: WORLD_REGION,
    endpoint,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  const results: WarmRun[] = [];
  try {
    for (let index = 0; index < WARM_UP_RUNS + runs; index += 1) {
      const event = await widen(world);
      instrumented.reset();
      const response = await quietly(() => instrumented.handler(event, lambdaContext()));
      assertRemediated(response);
      await assertRestored(world);
      const calls = [...instrumented.calls];
      const put = calls.find((call) => call.operation === 'kms:PutKeyPolicy');
      const channelMs = instrumented.putResponseAt();
      if (!put || channelMs === undefined) throw new ExposureBenchError('no PutKeyPolicy on the path');
      const pairStarted = performance.now();
      await pair.send(new GetKeyPolicyCommand({ KeyId: world.pairKey.keyId, PolicyName: 'default' }));
      await pair.send(
        new PutKeyPolicyCommand({
          KeyId: world.pairKey.keyId,
          PolicyName: 'default',
          Policy: world.desiredPolicy,
        }),
      );
      const pairMs = performance.now() - pairStarted;
      if (index >= WARM_UP_RUNS) {
        results.push({
          pathMs: put.end,
          channelMs,
          pairMs,
          calls: calls.filter((call) => call.start < put.end),
        });
      }
    }
  } finally {
    pair.destroy();
    instrumented.destroy();
  }
  return results;
}

// ---------------------------------------------------------------------------------------------------------
// Cold: a fresh process per run, the packaged bundle

const coldResultSchema = z.object({
  loadMs: z.number(),
  response: z.unknown(),
  calls: z.array(z.object({ target: z.string(), start: z.number(), end: z.number().nullable() })),
});

interface ColdRun {
  loadMs: number;
  pathMs: number;
  pairMs: number;
  callsBeforePut: number;
}

function runChild(args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((done, fail) => {
    const stderr: Buffer[] = [];
    const child = spawn(process.execPath, [COLD_RUNNER, ...args], {
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', fail);
    child.once('exit', (code) =>
      code === 0
        ? done()
        : fail(
            new ExposureBenchError(
              `cold run exited with ${code}: ${Buffer.concat(stderr).toString().slice(-2000)}`,
            ),
          ),
    );
  });
}

async function coldRuns(
  world: World,
  bundlePath: string,
  endpoints: Endpoints,
  runs: number,
): Promise<ColdRun[]> {
  const env = driftEnvironment(world, endpoints);
  const results: ColdRun[] = [];
  const desiredFile = join(world.workDir, 'desired.json');
  writeFileSync(desiredFile, world.desiredPolicy);
  for (let index = 0; index < runs; index += 1) {
    const event = await widen(world);
    const eventFile = join(world.workDir, `event-${index}.json`);
    const resultFile = join(world.workDir, `cold-${index}.json`);
    const pairFile = join(world.workDir, `pair-${index}.json`);
    writeFileSync(eventFile, JSON.stringify(event));
    await runChild(['bundle', bundlePath, eventFile, resultFile, FUNCTION_NAME], env);
    const result = coldResultSchema.parse(JSON.parse(readFileSync(resultFile, 'utf8')));
    assertRemediated(result.response);
    await assertRestored(world);
    const putIndex = result.calls.findIndex((call) => call.target === 'TrentService.PutKeyPolicy');
    const put = result.calls[putIndex];
    if (!put || put.end === null) throw new ExposureBenchError('no PutKeyPolicy in the cold run');
    await world.clients.kms.send(
      new PutKeyPolicyCommand({
        KeyId: world.pairKey.keyId,
        PolicyName: 'default',
        Policy: world.widenedPolicy,
      }),
    );
    await runChild(['pair', world.pairKey.keyId, desiredFile, pairFile], env);
    const pairMs = z.object({ pairMs: z.number() }).parse(JSON.parse(readFileSync(pairFile, 'utf8'))).pairMs;
    results.push({ loadMs: result.loadMs, pathMs: put.end, pairMs, callsBeforePut: putIndex + 1 });
  }
  return results;
}

// ---------------------------------------------------------------------------------------------------------
// Report

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

const median = (values: number[]) => quantile(values, 0.5);
const ms = (value: number) => `${value.toFixed(1)} ms`;

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...rows.map(line),
  ].join('\n');
}

function callsByOperation(calls: Call[]): string {
  const counts = new Map<string, number>();
  for (const call of calls) counts.set(call.operation, (counts.get(call.operation) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([operation, count]) => (count === 1 ? operation : `${operation} x${count}`))
    .join(', ');
}

/** The calls of one run on a time line: `kms:DescribeKey 3.1-7.9` per line, overlapping calls side by side. */
function timeline(calls: Call[]): string {
  return calls
    .map(
      (call) =>
        `  ${call.start.toFixed(1).padStart(6)} - ${call.end.toFixed(1).padStart(6)} ms  ${call.operation}`,
    )
    .join('\n');
}

function warmRow(label: string, runs: WarmRun[]): string[] {
  const path = runs.map((run) => run.pathMs);
  const pair = runs.map((run) => run.pairMs);
  const ratio = median(path) / median(pair);
  return [
    label,
    `warm (${runs.length} runs)`,
    `${ms(median(path))} / ${ms(quantile(path, 0.95))}`,
    `${ms(median(pair))} / ${ms(quantile(pair, 0.95))}`,
    ratio.toFixed(2),
    ratio <= WARM_GOAL_RATIO ? 'met' : 'MISSED',
  ];
}

function coldRow(label: string, runs: ColdRun[]): string[] {
  const path = runs.map((run) => run.pathMs);
  const pair = runs.map((run) => run.pairMs);
  return [
    label,
    `cold (${runs.length} fresh processes; module load ${ms(median(runs.map((run) => run.loadMs)))})`,
    `${ms(median(path))} / ${ms(quantile(path, 0.95))}`,
    `${ms(median(pair))} / ${ms(quantile(pair, 0.95))}`,
    (median(path) / median(pair)).toFixed(2),
    '(goal is warm)',
  ];
}

export async function run(): Promise<void> {
  const warmCount = flag('exposure-runs', 40);
  const coldCount = flag('exposure-cold-runs', 7);
  const rttMs = flag('exposure-rtt', 10);
  const workDir = mkdtempSync(join(tmpdir(), 'kms-guard-exposure-bench-'));
  let moto: MotoServer | undefined;
  let dynamoMoto: MotoServer | undefined;
  const proxies: LatencyProxy[] = [];
  let world: World | undefined;
  try {
    moto = await startMoto();
    dynamoMoto = await startMoto();
    const proxy = await startLatencyProxy(moto.endpoint, rttMs);
    proxies.push(proxy);
    const dynamoProxy = await startLatencyProxy(dynamoMoto.endpoint, rttMs);
    proxies.push(dynamoProxy);
    const worldDir = join(workDir, 'world');
    mkdirSync(worldDir);
    world = await buildWorld(moto, dynamoMoto, worldDir);
    // Packaged with the world's manifest validated and recorded, as a deployment's own manifest is: the cold
    // runs load it as the deployed function loads policies/manifest.yaml.
    const packaged = await packageFunctions(join(workDir, 'build'), [world.manifestPath]);
    const drift = packaged.functions.find((fn) => fn.name === 'drift');
    if (!drift) throw new ExposureBenchError('no drift package');
    const variants: { label: string; endpoints: Endpoints }[] = [
      { label: 'moto, one process', endpoints: { endpoint: moto.endpoint } },
      {
        label: 'moto, DynamoDB apart',
        endpoints: { endpoint: moto.endpoint, dynamodb: dynamoMoto.endpoint },
      },
      { label: `moto, one process + ${rttMs} ms per call`, endpoints: { endpoint: proxy.endpoint } },
      {
        label: `moto, DynamoDB apart + ${rttMs} ms per call`,
        endpoints: { endpoint: proxy.endpoint, dynamodb: dynamoProxy.endpoint },
      },
    ];
    const rows: string[][] = [];
    const details: string[] = [];
    for (const variant of variants) {
      const warm = await warmRuns(world, variant.endpoints, warmCount);
      const cold = await coldRuns(world, drift.bundlePath, variant.endpoints, coldCount);
      rows.push(warmRow(variant.label, warm), coldRow(variant.label, cold));
      const byPath = [...warm].sort((a, b) => a.pathMs - b.pathMs);
      const typical = byPath[Math.floor(byPath.length / 2)];
      if (!typical) continue;
      const channelGap = median(warm.map((run) => run.pathMs - run.channelMs));
      details.push(
        `${variant.label}: ${typical.calls.length} AWS calls on the path (warm): ${callsByOperation(typical.calls)};` +
          ` cold: ${median(cold.map((run) => run.callsBeforePut))}.` +
          ` SDK middleware saw PutKeyPolicy return ${channelGap.toFixed(2)} ms (median) after its response reached the process.`,
        `median warm run, ${variant.label} (ms after the invocation):\n${timeline(typical.calls)}`,
      );
    }
    console.log(
      'Window of exposure: a remediate-mode key widened with a public kms:Decrypt; the drift handler as deployed' +
        ' (state table on moto) restores it. invocation -> restoring PutKeyPolicy returned, beside a bare' +
        ` GetKeyPolicy + PutKeyPolicy pair in the same run. Node ${process.version}, ${cpus().length} CPUs,` +
        ` load average ${(loadavg()[0] ?? 0).toFixed(1)} at the end.\n`,
    );
    console.log(
      table(
        [
          'AWS',
          'run',
          'invocation -> PutKeyPolicy returned (median / p95)',
          'bare GetKeyPolicy + PutKeyPolicy (median / p95)',
          'ratio of medians',
          `goal <= ${WARM_GOAL_RATIO} (warm)`,
        ],
        rows,
      ),
    );
    for (const detail of details) console.log(`\n${detail}`);
  } finally {
    if (world) destroyWorldClients(world.clients);
    for (const proxy of proxies) proxy.stop();
    await moto?.stop();
    await dynamoMoto?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

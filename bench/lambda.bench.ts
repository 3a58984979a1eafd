/**
 * Every Lambda function as it is deployed: the real zips of `serverless package` (serverless-esbuild with the
 * options and plugins in serverless.yml, bench/package.ts), run in fresh node processes against moto on loopback.
 *
 *   size        zipped size of each function's package (goal <= 400 KB, issue 13.8), its bundle, and the source map
 *               written beside the package (not in the zip)
 *   cold init   median over COLD_RUNS fresh processes of the bundle's module load, timed inside the process, so
 *               over an empty node process (Lambda's Init phase; goal <= 100 ms), wall clock and CPU time; and of
 *               the first invocation after it. The audit as deployed: AUDIT_QUEUE_URL set, so it fans out (one
 *               unit here: this account and Region); the audit without it (checking the keys itself, which no
 *               deployed stack runs) has a row of its own, without a goal
 *   AWS calls   requests per drift event by mode (alert in sync, alert drift, remediate, dry-run), counted by
 *               service:operation at a proxy in front of moto; target alert = 2 (GetKeyPolicy + Publish).
 *               DynamoDB (idempotency, ledger) is reported separately, with STATE_TABLE set as deployed, and a
 *               duplicate delivery of the same event shows what idempotency leaves of it.
 *
 * LAMBDA_BENCH_CPU_PROFILE_DIR=<dir> also writes a V8 CPU profile of every cold start there (open in Chrome
 * DevTools, with the map from the package's sourcemaps/ directory) to see where the time goes.
 *
 * Two versions of the code compared (./cold-pairs.ts): --lambda-keep=<dir> keeps this run's packages, and a later run
 * with --lambda-against=<dir> [--lambda-pairs=40] loads those and its own alternately in fresh processes.
 * LAMBDA_BENCH_NODE=<node binary> runs every fresh process on that node (Lambda's is nodejs22.x).
 *
 * Figures are on this machine's node (Lambda runs nodejs22.x on arm64) against moto, whose answers take a
 * few milliseconds each: a real cold start adds the runtime's own bootstrap and real network latency.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PutRuleCommand } from '@aws-sdk/client-eventbridge';
import { PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { CreateQueueCommand } from '@aws-sdk/client-sqs';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import * as z from 'zod';
import { type MotoServer, startMoto } from '../dev/moto-server';
import {
  createFindingsTopic,
  createKeyWithPolicy,
  createWorldClients,
  destroyWorldClients,
  drainQueue,
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
import { createStateTable } from '../src/aws/state-table';
import { KMS_POLICY_CHANGE_EVENT_PATTERN } from '../src/guard/event-pattern';
import { renderPlaceholders } from '../src/manifest';
import {
  assertKeepable,
  type ColdStart,
  coldStartNode,
  comparePairs,
  keepPackages,
  loadKept,
  median,
  pairsFlag,
  stringFlag,
} from './cold-pairs';
import { BENCH_STAGE, type FunctionName, type PackagedFunction, packageFunctions } from './package';

const RUNNER = join(__dirname, 'fixtures/invoke-bundle.cjs');
/** 400 KB, read strictly: 400,000 bytes (issue 13.8). */
const ZIP_GOAL_BYTES = 400_000;
/** Module load of a bundle over an empty node process (issue 13.8). */
const COLD_INIT_GOAL_MS = 100;
const ALERT_CALLS_TARGET = 2;
const COLD_RUNS = 7;
const STAGE = BENCH_STAGE;
const GUARD_ROLE_ARN = `arn:aws:iam::${MOTO_ACCOUNT_ID}:role/kms-policy-guard-${WORLD_REGION}`;
const ALICE = `arn:aws:iam::${MOTO_ACCOUNT_ID}:user/Alice`;
const SLACK_PARAMETER = '/kms-policy-guard/slack-webhook-url';

class LambdaBenchError extends Error {
  override readonly name = 'LambdaBenchError';
}

// ---------------------------------------------------------------------------------------------------------
// A counting proxy in front of moto, and a Slack webhook stand-in

/** `kms:GetKeyPolicy`, `sns:Publish`, `dynamodb:PutItem`, … from a signed SDK request. */
function operationOf(request: IncomingMessage, body: string): string {
  const authorization = String(request.headers.authorization ?? '');
  const service = /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\//.exec(authorization)?.[1] ?? 'unknown';
  const target = request.headers['x-amz-target'];
  if (typeof target === 'string') return `${service}:${target.slice(target.lastIndexOf('.') + 1)}`;
  const action = new URLSearchParams(body).get('Action');
  if (action) return `${service}:${action}`;
  const rpcV2 = /\/operation\/([^/?]+)/.exec(request.url ?? '');
  return `${service}:${rpcV2?.[1] ?? `${request.method} ${request.url}`}`;
}

class CountingProxy {
  private server: Server | undefined;
  private invocation = 0;
  private counts: Map<string, number>[] = [new Map()];

  async start(target: URL): Promise<string> {
    this.server = createServer((request, response) => this.handle(target, request, response));
    const server = this.server;
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new LambdaBenchError('proxy has no port');
    return `http://127.0.0.1:${address.port}`;
  }

  reset(): void {
    this.invocation = 0;
    this.counts = [new Map()];
  }

  /** Requests per service:operation seen during invocation `index` (0-based) since the last reset. */
  countsOf(index: number): Map<string, number> {
    return this.counts[index] ?? new Map();
  }

  stop(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((done) => server.close(() => done()));
  }

  private handle(target: URL, request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      if (request.url === '/__bench/mark') {
        this.invocation += 1;
        this.counts[this.invocation] = new Map();
        response.writeHead(204).end();
        return;
      }
      const body = Buffer.concat(chunks);
      const operation = operationOf(request, body.toString('utf8'));
      const current = this.counts[this.invocation] ?? new Map<string, number>();
      current.set(operation, (current.get(operation) ?? 0) + 1);
      this.counts[this.invocation] = current;
      const upstream = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: request.method,
          path: request.url,
          headers: request.headers,
        },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      upstream.on('error', (error) => response.writeHead(502).end(String(error)));
      upstream.end(body);
    });
  }
}

/** Answers every POST with 200 `ok`, as Slack's incoming webhook does, and counts them. */
class WebhookStandIn {
  posts = 0;
  private server: Server | undefined;

  async start(): Promise<string> {
    this.server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        this.posts += 1;
        response.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      });
    });
    const server = this.server;
    await new Promise<void>((ready) => server.listen(0, '127.0.0.1', ready));
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new LambdaBenchError('webhook has no port');
    return `http://127.0.0.1:${address.port}/services/TBENCH/BBENCH/benchwebhooksecret`;
  }

  stop(): Promise<void> {
    const server = this.server;
    if (!server) return Promise.resolve();
    server.closeAllConnections();
    return new Promise((done) => server.close(() => done()));
  }
}

// ---------------------------------------------------------------------------------------------------------
// The world on moto

type DriftMode = 'alert-in-sync' | 'alert-drift' | 'remediate' | 'dry-run';
const DRIFT_MODES: DriftMode[] = ['alert-in-sync', 'alert-drift', 'remediate', 'dry-run'];

interface World {
  clients: WorldClients;
  keys: Record<DriftMode, WorldKey>;
  desiredPolicy: string;
  driftedPolicy: string;
  topicArn: string;
  findingsQueueUrl: string;
  stateTable: string;
  /** The organization audit's queue (serverless.yml AuditWorkQueue): the audit fans out to it, as deployed. */
  auditQueueName: string;
  driftRuleName: string;
  manifestPath: string;
  auditManifestPath: string;
}

async function buildWorld(motoEndpoint: string, workDir: string, webhookUrl: string): Promise<World> {
  const config = worldClientConfig(motoEndpoint);
  const clients = createWorldClients(config);
  const template = readShippedPolicyTemplate('payments-data.json');
  const desiredPolicy = renderPlaceholders(template, WORLD_PLACEHOLDERS, 'payments-data.json');
  const driftedPolicy = policyWithStatement(desiredPolicy, PUBLIC_DECRYPT_STATEMENT);
  const create = (mode: DriftMode) =>
    createKeyWithPolicy(clients.kms, {
      policy: mode === 'alert-in-sync' ? desiredPolicy : driftedPolicy,
      description: `bench ${mode}`,
    });
  const keys: Record<DriftMode, WorldKey> = {
    'alert-in-sync': await create('alert-in-sync'),
    'alert-drift': await create('alert-drift'),
    remediate: await create('remediate'),
    'dry-run': await create('dry-run'),
  };
  const managed = (mode: DriftMode) => ({
    name: `bench-${mode}`,
    match: { keyId: keys[mode].keyId },
    mode: mode.startsWith('alert') ? ('alert' as const) : (mode as 'remediate' | 'dry-run'),
    policyFile: `${mode}.json`,
    policyTemplate: template,
  });
  const manifestPath = writeManifest(join(workDir, 'manifest'), { keys: DRIFT_MODES.map(managed) });
  // The audit's cold start checks one key in sync; the others exist in the account but are not its business.
  const auditManifestPath = writeManifest(join(workDir, 'audit-manifest'), {
    keys: [managed('alert-in-sync')],
    unmanagedKeys: 'ignore',
  });
  const topic = await createFindingsTopic(clients, {
    topicName: 'kms-policy-guard-findings',
    queueName: 'bench-findings',
  });
  const stateTable = `kms-policy-guard-${STAGE}-state`;
  await createStateTable(clients.dynamodb, stateTable);
  const auditQueueName = `kms-policy-guard-${STAGE}-audit-work`;
  await clients.sqs.send(new CreateQueueCommand({ QueueName: auditQueueName }));
  const driftRuleName = `kms-policy-guard-${STAGE}-drift`;
  await clients.events.send(
    new PutRuleCommand({
      Name: driftRuleName,
      EventPattern: JSON.stringify(KMS_POLICY_CHANGE_EVENT_PATTERN),
    }),
  );
  const ssm = new SSMClient(config);
  await ssm.send(new PutParameterCommand({ Name: SLACK_PARAMETER, Type: 'SecureString', Value: webhookUrl }));
  ssm.destroy();
  return {
    clients,
    keys,
    desiredPolicy,
    driftedPolicy,
    topicArn: topic.topicArn,
    findingsQueueUrl: topic.queue.url,
    stateTable,
    auditQueueName,
    driftRuleName,
    manifestPath,
    auditManifestPath,
  };
}

/** Puts the drifted document back on a key (uncounted: straight to moto), as someone's change would. */
async function drift(world: World, mode: DriftMode): Promise<void> {
  if (mode === 'alert-in-sync') return;
  await world.clients.kms.send(
    new PutKeyPolicyCommand({
      KeyId: world.keys[mode].keyId,
      PolicyName: 'default',
      Policy: world.driftedPolicy,
    }),
  );
}

function driftEvent(world: World, mode: DriftMode): Record<string, unknown> {
  return eventBridgeEnvelope(
    putKeyPolicyRecord({ keyArn: world.keys[mode].keyArn, actorArn: ALICE, eventId: randomUUID() }),
  );
}

function scheduledEvent(): Record<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: MOTO_ACCOUNT_ID,
    time: new Date().toISOString(),
    region: WORLD_REGION,
    resources: [`arn:aws:events:${WORLD_REGION}:${MOTO_ACCOUNT_ID}:rule/kms-policy-guard-${STAGE}-audit`],
    detail: {},
  };
}

/** An SNS event carrying the finding message the drift function really published. */
async function snsEventWithPublishedFinding(world: World): Promise<Record<string, unknown>> {
  const [message] = await drainQueue(world.clients.sqs, world.findingsQueueUrl);
  const envelope = z
    .object({
      MessageId: z.string(),
      TopicArn: z.string(),
      Subject: z.string().optional(),
      Message: z.string(),
    })
    .parse(JSON.parse(message?.Body ?? '{}'));
  return {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: `${envelope.TopicArn}:bench`,
        Sns: {
          Type: 'Notification',
          MessageId: envelope.MessageId,
          TopicArn: envelope.TopicArn,
          Subject: envelope.Subject ?? null,
          Message: envelope.Message,
          Timestamp: new Date().toISOString(),
          SignatureVersion: '1',
          Signature: 'bench',
          SigningCertUrl: 'https://sns.invalid/cert.pem',
          UnsubscribeUrl: 'https://sns.invalid/unsubscribe',
          MessageAttributes: {},
        },
      },
    ],
  };
}

// ---------------------------------------------------------------------------------------------------------
// Fresh processes

const invocationSchema = z.object({
  ms: z.number(),
  cpuMs: z.number(),
  response: z.unknown().optional(),
  error: z.object({ name: z.unknown(), message: z.unknown() }).optional(),
});
const runnerResultSchema = z.object({
  loadMs: z.number(),
  loadCpuMs: z.number(),
  invocations: z.array(invocationSchema),
});
type RunnerResult = z.infer<typeof runnerResultSchema>;

interface Harness {
  /** The node binary of every fresh process (LAMBDA_BENCH_NODE, else this one). */
  node: string;
  workDir: string;
  proxyUrl: string;
  home: string;
  world: World;
}

/** The function's environment as packaged, with the stack's references replaced by the local world. */
function environmentFor(
  harness: Harness,
  fn: PackagedFunction,
  options: { stateTable: boolean },
): Record<string, string> {
  const { world } = harness;
  const local: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: harness.home,
    AWS_REGION: WORLD_REGION,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_ENDPOINT_URL: harness.proxyUrl,
    AWS_EC2_METADATA_DISABLED: 'true',
    LAMBDA_TASK_ROOT: fn.dir,
  };
  const environment: Record<string, string> = { ...fn.environment, ...local };
  delete environment.NODE_OPTIONS;
  if (fn.handler !== 'notify-slack') {
    environment.TOPIC_ARN = world.topicArn;
    environment.GUARD_ROLE_ARN = GUARD_ROLE_ARN;
    environment.MANIFEST_PATH = fn.name === 'drift' ? world.manifestPath : world.auditManifestPath;
    if (options.stateTable) environment.STATE_TABLE = world.stateTable;
  }
  if (fn.name === 'audit-worker' || fn.name === 'audit') {
    // The organization audit's queue (serverless.yml sets it for both, a !Ref the packaged template does not
    // resolve): the audit fans out to it, as deployed; the worker's cold start is measured on an empty batch.
    environment.AUDIT_QUEUE_URL = `${harness.proxyUrl}/${MOTO_ACCOUNT_ID}/${world.auditQueueName}`;
  }
  if (fn.name === 'audit') {
    environment.DRIFT_RULE_NAME = world.driftRuleName;
    // The stack's !GetAtt / !Sub function ARNs, in the local world's account and Region. The world has
    // neither the functions, the schedule nor a trail: the audit reports them as guard-degraded, and the
    // bench counts the health checks' calls as the deployed audit makes them.
    environment.DRIFT_FUNCTION_ARN = `arn:aws:lambda:${WORLD_REGION}:${MOTO_ACCOUNT_ID}:function:kms-policy-guard-${STAGE}-drift`;
    environment.AUDIT_FUNCTION_ARN = `arn:aws:lambda:${WORLD_REGION}:${MOTO_ACCOUNT_ID}:function:kms-policy-guard-${STAGE}-audit`;
    environment.AUDIT_REPORT_UNMANAGED = 'false';
  }
  if (fn.handler === 'notify-slack') {
    environment.SLACK_WEBHOOK_PARAM = SLACK_PARAMETER;
    environment.SLACK_WEBHOOK_ALLOW_INSECURE_LOCAL = '1';
  }
  return environment;
}

async function runFresh(
  harness: Harness,
  fn: PackagedFunction,
  events: unknown[],
  environment: Record<string, string>,
  mark: boolean,
  profileName: string = fn.name,
): Promise<RunnerResult> {
  const id = randomUUID();
  const eventsFile = join(harness.workDir, `events-${id}.json`);
  const resultFile = join(harness.workDir, `result-${id}.json`);
  writeFileSync(eventsFile, JSON.stringify(events));
  const env = mark ? { ...environment, BENCH_MARK_URL: `${harness.proxyUrl}/__bench/mark` } : environment;
  const stderr: Buffer[] = [];
  const code = await new Promise<number | null>((done, fail) => {
    const profileDir = process.env.LAMBDA_BENCH_CPU_PROFILE_DIR;
    const profile =
      profileDir && !mark ? ['--cpu-prof', '--cpu-prof-dir', resolve(profileDir, profileName)] : [];
    const child = spawn(
      harness.node,
      [...profile, RUNNER, fn.bundlePath, eventsFile, resultFile, `kms-policy-guard-${STAGE}-${fn.name}`],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.once('error', fail);
    child.once('exit', done);
  });
  if (code !== 0) {
    throw new LambdaBenchError(
      `${fn.name} exited with ${code}: ${Buffer.concat(stderr).toString('utf8').slice(-2000)}`,
    );
  }
  return runnerResultSchema.parse(JSON.parse(readFileSync(resultFile, 'utf8')));
}

/** The audit as deployed (AUDIT_QUEUE_URL set: it fans out), and without the queue (it checks the keys itself). */
type AuditVariant = 'fan-out' | 'direct';
const AUDIT_VARIANTS: readonly AuditVariant[] = ['fan-out', 'direct'];

/** The environment of an audit variant over environmentFor's (an empty AUDIT_QUEUE_URL is no queue). */
function auditOverride(variant: AuditVariant): Record<string, string> {
  return variant === 'direct' ? { AUDIT_QUEUE_URL: '' } : {};
}

function assertNoError(fn: PackagedFunction, result: RunnerResult, what: string): void {
  for (const invocation of result.invocations) {
    if (invocation.error) {
      throw new LambdaBenchError(`${fn.name} ${what} failed: ${JSON.stringify(invocation.error)}`);
    }
  }
}

interface ColdInit {
  /** Module load of the bundle (Lambda's Init phase), timed inside a fresh process: over an empty node process. */
  loadMs: number;
  /** CPU time of that module load (user + system): what a busy machine inflates least. */
  loadCpuMs: number;
  firstInvokeMs: number;
}

/** The first event of a cold start: one the function handles as it does in the stack. */
function coldEvent(harness: Harness, fn: PackagedFunction): Record<string, unknown> {
  if (fn.name === 'drift') return driftEvent(harness.world, 'alert-in-sync');
  if (fn.name === 'audit') return scheduledEvent();
  // An SQS batch without a unit: the worker's init is all there is to measure without an organization.
  if (fn.name === 'audit-worker') return { Records: [] };
  return publishedFinding();
}

async function coldInit(
  harness: Harness,
  fn: PackagedFunction,
  override: Record<string, string> = {},
  profileName: string = fn.name,
): Promise<ColdInit> {
  const samples: ColdInit[] = [];
  const environment = { ...environmentFor(harness, fn, { stateTable: true }), ...override };
  for (let index = 0; index < COLD_RUNS; index += 1) {
    const result = await runFresh(harness, fn, [coldEvent(harness, fn)], environment, false, profileName);
    assertNoError(fn, result, 'cold start');
    samples.push({
      loadMs: result.loadMs,
      loadCpuMs: result.loadCpuMs,
      firstInvokeMs: result.invocations[0]?.ms ?? Number.NaN,
    });
  }
  return {
    loadMs: median(samples.map((sample) => sample.loadMs)),
    loadCpuMs: median(samples.map((sample) => sample.loadCpuMs)),
    firstInvokeMs: median(samples.map((sample) => sample.firstInvokeMs)),
  };
}

let publishedFindingEvent: Record<string, unknown> | undefined;

/** notify-slack's input: a finding the drift function published (kept from the first alert-drift run). */
function publishedFinding(): Record<string, unknown> {
  if (publishedFindingEvent) return publishedFindingEvent;
  throw new LambdaBenchError('no published finding yet: run the drift modes first');
}

// ---------------------------------------------------------------------------------------------------------
// Report

function kb(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} KB`;
}

function ms(value: number): string {
  return `${value.toFixed(0)} ms`;
}

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

function callList(counts: Map<string, number>, include: (operation: string) => boolean): string {
  const entries = [...counts.entries()]
    .filter(([operation]) => include(operation))
    .sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return '—';
  return entries.map(([operation, count]) => (count === 1 ? operation : `${operation} x${count}`)).join(', ');
}

function total(counts: Map<string, number>, include: (operation: string) => boolean): number {
  return [...counts.entries()]
    .filter(([operation]) => include(operation))
    .reduce((sum, [, count]) => sum + count, 0);
}

const isDynamo = (operation: string) => operation.startsWith('dynamodb:');
const notDynamo = (operation: string) => !isDynamo(operation);

function verdict(ok: boolean): string {
  return ok ? 'ok' : 'OVER GOAL';
}

// ---------------------------------------------------------------------------------------------------------

export async function run(): Promise<void> {
  // The pairing flags are checked before anything is built: a wrong directory fails now, not after the package.
  const keepDir = stringFlag('lambda-keep');
  if (keepDir !== undefined) assertKeepable(keepDir);
  const againstDir = stringFlag('lambda-against');
  const against = againstDir === undefined ? undefined : loadKept(againstDir);
  const pairs = pairsFlag();
  const node = coldStartNode();
  const workDir = mkdtempSync(join(tmpdir(), 'kms-guard-lambda-bench-'));
  let moto: MotoServer | undefined;
  const proxy = new CountingProxy();
  const webhook = new WebhookStandIn();
  let clients: WorldClients | undefined;
  try {
    // The world first: its manifests are the ones the functions load, and the package step validates them and
    // records the result in the bundles, as a deployment's policies/manifest.yaml is (scripts/esbuild-plugins.cjs).
    moto = await startMoto();
    const proxyUrl = await proxy.start(new URL(moto.endpoint));
    const webhookUrl = await webhook.start();
    const world = await buildWorld(moto.endpoint, workDir, webhookUrl);
    clients = world.clients;

    // Size: the real packages.
    const { functions, ms: packageMs } = await packageFunctions(workDir, [
      world.manifestPath,
      world.auditManifestPath,
    ]);
    console.log(
      `serverless package (${functions.length} functions, offline): ${(packageMs / 1000).toFixed(1)} s (1 KB = 1,000 bytes)\n`,
    );
    console.log(
      table(
        [
          'function',
          'zip',
          'bundle (zipped)',
          'bundle unzipped',
          'entry unzipped',
          'loaded at init (entry + static chunks)',
          'source map (beside)',
          'goal zip <= 400 KB',
        ],
        functions.map((fn) => [
          fn.name,
          `${kb(fn.zipBytes)} (${fn.zipBytes} B)`,
          kb(fn.bundleZippedBytes),
          kb(fn.bundleBytes),
          kb(fn.entryBytes),
          kb(fn.initBytes),
          fn.sourceMapBytes === undefined ? 'none' : kb(fn.sourceMapBytes),
          verdict(fn.zipBytes <= ZIP_GOAL_BYTES),
        ]),
      ),
    );

    const home = join(workDir, 'home-run');
    mkdirSync(home);
    const harness: Harness = { node: node.path, workDir, proxyUrl, home, world };
    const byName = (name: FunctionName): PackagedFunction => {
      const found = functions.find((fn) => fn.name === name);
      if (!found) throw new LambdaBenchError(`no package for ${name}`);
      return found;
    };
    const driftFn = byName('drift');

    // AWS calls per drift event, one fresh process per mode, without and with the state table.
    const callRows: string[][] = [];
    const outcomes: string[] = [];
    for (const stateTable of [false, true]) {
      for (const mode of DRIFT_MODES) {
        await drift(world, mode);
        await drainQueue(world.clients.sqs, world.findingsQueueUrl);
        const event = driftEvent(world, mode);
        proxy.reset();
        // With the state table the same event is delivered twice: the duplicate is answered from DynamoDB.
        const events = stateTable ? [event, event] : [event];
        const result = await runFresh(
          harness,
          driftFn,
          events,
          environmentFor(harness, driftFn, { stateTable }),
          true,
        );
        assertNoError(driftFn, result, mode);
        const first = proxy.countsOf(0);
        const status = z.object({ status: z.string() }).safeParse(result.invocations[0]?.response);
        outcomes.push(
          `${mode}${stateTable ? ' +STATE_TABLE' : ''}: ${status.success ? status.data.status : '?'}`,
        );
        callRows.push([
          mode,
          stateTable ? 'set' : 'not set',
          String(total(first, notDynamo)),
          callList(first, notDynamo),
          stateTable ? callList(first, isDynamo) : '—',
          stateTable ? callList(proxy.countsOf(1), () => true) : '—',
        ]);
        if (mode === 'alert-drift' && !publishedFindingEvent) {
          publishedFindingEvent = await snsEventWithPublishedFinding(world);
        }
      }
    }
    console.log('\nAWS calls per drift event (fresh process per row; counted at a proxy in front of moto)\n');
    console.log(
      table(
        [
          'mode',
          'STATE_TABLE',
          'KMS+SNS calls',
          'KMS + SNS',
          'DynamoDB (idempotency, ledger)',
          'same event again',
        ],
        callRows,
      ),
    );
    console.log(`\nresults: ${outcomes.join('; ')}`);
    const alertRow = callRows.find((row) => row[0] === 'alert-drift' && row[1] === 'not set');
    console.log(
      `alert (drift) calls: ${alertRow?.[2]} (target ${ALERT_CALLS_TARGET}: GetKeyPolicy + Publish) ${verdict(alertRow?.[2] === String(ALERT_CALLS_TARGET))}`,
    );

    // Other functions' calls, once each.
    const auditFn = byName('audit');
    const slackFn = byName('notify-slack');
    const auditCalls = new Map<AuditVariant, Map<string, number>>();
    for (const variant of AUDIT_VARIANTS) {
      proxy.reset();
      const audit = await runFresh(
        harness,
        auditFn,
        [scheduledEvent()],
        { ...environmentFor(harness, auditFn, { stateTable: true }), ...auditOverride(variant) },
        true,
      );
      assertNoError(auditFn, audit, `audit (${variant})`);
      auditCalls.set(variant, proxy.countsOf(0));
    }
    proxy.reset();
    const postsBefore = webhook.posts;
    const slack = await runFresh(
      harness,
      slackFn,
      [publishedFinding()],
      environmentFor(harness, slackFn, { stateTable: false }),
      true,
    );
    assertNoError(slackFn, slack, 'notify-slack');
    console.log(
      `audit, as deployed (fans out: 1 unit, this account and Region): ${callList(auditCalls.get('fan-out') ?? new Map(), () => true)}`,
    );
    console.log(
      `audit without AUDIT_QUEUE_URL (checks the keys itself: 1 managed key in sync, unmanaged not reported): ${callList(auditCalls.get('direct') ?? new Map(), () => true)}`,
    );
    console.log(
      `notify-slack (1 finding): ${callList(proxy.countsOf(0), () => true)}; webhook POSTs: ${webhook.posts - postsBefore}`,
    );

    // Cold init.
    const coldRows: string[][] = [];
    for (const fn of functions) {
      const figures = await coldInit(harness, fn);
      coldRows.push([
        fn.name === 'audit' ? 'audit (fans out, as deployed)' : fn.name,
        ms(figures.loadMs),
        ms(figures.loadCpuMs),
        ms(figures.firstInvokeMs),
        `${verdict(figures.loadMs <= COLD_INIT_GOAL_MS)} / ${verdict(figures.loadCpuMs <= COLD_INIT_GOAL_MS)}`,
      ]);
    }
    // Not deployed, no goal: the audit without AUDIT_QUEUE_URL, which checks the keys itself (its own chunk).
    const direct = await coldInit(harness, auditFn, auditOverride('direct'), 'audit-direct');
    coldRows.push([
      'audit without AUDIT_QUEUE_URL (checks the keys itself; not deployed, no goal)',
      ms(direct.loadMs),
      ms(direct.loadCpuMs),
      ms(direct.firstInvokeMs),
      '—',
    ]);
    // For comparison, not a goal: the same drift manifest changed after packaging (one comment line more), which
    // the function no longer trusts, so it loads and validates it in full at init, as any manifest it was not
    // packaged with (docs/architecture.md#the-manifest-validated-at-package-time).
    const changedManifest = join(dirname(world.manifestPath), 'manifest-changed-after-packaging.yaml');
    writeFileSync(
      changedManifest,
      `${readFileSync(world.manifestPath, 'utf8')}\n# changed after packaging\n`,
    );
    const unvalidated = await coldInit(harness, driftFn, { MANIFEST_PATH: changedManifest });
    coldRows.push([
      'drift, manifest changed after packaging (validated at init; no goal)',
      ms(unvalidated.loadMs),
      ms(unvalidated.loadCpuMs),
      ms(unvalidated.firstInvokeMs),
      '—',
    ]);
    const [load1 = 0] = loadavg();
    console.log(
      `\nCold init: median of ${COLD_RUNS} fresh node ${node.version} processes per function, the bundle's module load` +
        ` timed inside the process (so over an empty node process), STATE_TABLE set as deployed` +
        ` (${cpus().length} CPUs, load average ${load1.toFixed(1)} at the end)\n`,
    );
    console.log(
      table(
        ['function', 'cold init (load)', 'cold init, CPU', 'first invocation', 'goal <= 100 ms (wall / CPU)'],
        coldRows,
      ),
    );

    // What a cold start loads, for --lambda-keep and --lambda-against: each function as its cold init row ran it.
    const starts: ColdStart[] = functions.map((fn) => ({
      name: fn.name,
      bundlePath: fn.bundlePath,
      environment: environmentFor(harness, fn, { stateTable: true }),
      functionName: `kms-policy-guard-${STAGE}-${fn.name}`,
    }));
    if (against) {
      const { figures, notKept } = await comparePairs(against.functions, starts, pairs, workDir, node.path);
      console.log(
        `\nCold init against the package kept ${against.keptAt} (${againstDir}): both loaded alternately in fresh` +
          ` processes, a random order per round, ${pairs} rounds per function; CPU ms, medians; paired: the median` +
          ` of this run's load minus the kept one's, round by round\n`,
      );
      console.log(
        table(
          ['function', 'kept', 'this run', 'paired difference', 'rounds this run lower'],
          figures.map((figure) => [
            figure.name,
            figure.kept.toFixed(1),
            figure.current.toFixed(1),
            `${figure.pairedDifference > 0 ? '+' : ''}${figure.pairedDifference.toFixed(1)}`,
            `${figure.currentLower}/${figure.rounds}`,
          ]),
        ),
      );
      if (notKept.length > 0) console.log(`not in the kept package, not compared: ${notKept.join(', ')}`);
    }
    if (keepDir !== undefined) keepPackages(workDir, keepDir, starts);
  } finally {
    if (clients) destroyWorldClients(clients);
    await proxy.stop();
    await webhook.stop();
    await moto?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

/**
 * The organization for `npm run bench -- org` (bench/org.bench.ts), on a local moto server: a hub (moto's
 * default account, with keys of its own) and member accounts reached with AssumeRole on a role in each
 * (moto answers in the role's account), each with the spoke role and the same number of keys in every
 * Region; the hub's state table, findings topic and audit-work queue; the guard as the composition root
 * builds it, with every KMS request it sends counted by operation (SDK middleware, before retries); and a
 * stand-in for Lambda's SQS event source that drives the real audit-worker handler from the real queue.
 *
 * Only for the bench: dev/org-world.ts serves the tests and the demo.
 */
import { randomInt } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient, QueryCommand, ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateKeyCommand, KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type ReceiveMessageCommandOutput,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { actAs, createAuditWorkQueue } from '../dev/org-world';
import {
  createFindingsTopic,
  createWorldClients,
  destroyWorldClients,
  type FindingNotification,
  MOTO_ACCOUNT_ID,
  PUBLIC_DECRYPT_STATEMENT,
  policyWithStatement,
  receiveFindings,
  uniqueSuffix,
  type WorldClientConfig,
  type WorldClients,
  writeManifest,
} from '../dev/world';
import { buildGuard, type Guard } from '../src/app/guard-deps';
import type { OrgAuditHandlerDeps } from '../src/app/org-audit-deps';
import { AWS_RETRY_CONFIG } from '../src/aws/client-settings';
import { createKmsClient } from '../src/aws/clients';
import { DynamoAuditRuns } from '../src/aws/dynamo-runs';
import { KmsKeyPolicyStore } from '../src/aws/kms-store';
import { StaticDirectory } from '../src/aws/organization';
import { SpokeAccess } from '../src/aws/spoke-access';
import { SqsAuditQueue } from '../src/aws/sqs-audit-queue';
import { createStateTable } from '../src/aws/state-table';
import { DEFAULT_SPOKE_ROLE_NAME } from '../src/core/spoke-names';
import { runPool } from '../src/guard/concurrency';
import type { AuditRuns } from '../src/guard/ports';
import { loadManifest, renderDesiredPolicy } from '../src/manifest';
import type { LoadedManifest } from '../src/manifest/types';

export const HUB_ACCOUNT = MOTO_ACCOUNT_ID;
/** The hub's Region first. */
export const BENCH_REGIONS = ['us-east-1', 'eu-west-1'] as const;
export const HUB_REGION = BENCH_REGIONS[0];
export const SPOKE_ROLE = DEFAULT_SPOKE_ROLE_NAME;
export const GUARD_ROLE_ARN = `arn:aws:iam::${HUB_ACCOUNT}:role/kms-policy-guard-${HUB_REGION}`;
const TAG_KEY = 'kms-policy-guard';

/** What the worker's Lambda context needs to say (15 minutes left, as at the start of an invocation). */
export const WORKER_CONTEXT = {
  invokedFunctionArn: `arn:aws:lambda:${HUB_REGION}:${HUB_ACCOUNT}:function:kms-policy-guard-audit-worker`,
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Context;

/** The desired document of every bench key: the account's root may administer it (placeholders per key). */
const DESIRED = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'Enable IAM policies',
      Effect: 'Allow',
      Principal: { AWS: 'arn:{{Partition}}:iam::{{AccountId}}:root' },
      Action: 'kms:*',
      Resource: '*',
    },
  ],
});

/** A fresh 12-digit account ID (never moto's default, the hub's). */
function newAccountId(taken: ReadonlySet<string>): string {
  for (;;) {
    const id = `${randomInt(2, 10)}${String(randomInt(0, 1e11)).padStart(11, '0')}`;
    if (!taken.has(id) && id !== HUB_ACCOUNT) return id;
  }
}

export interface BenchOrg {
  endpoint: string;
  base: WorldClientConfig;
  hub: WorldClients;
  manifest: LoadedManifest;
  manifestDir: string;
  /** Every account with keys, the hub's first. */
  accounts: string[];
  keysPerUnit: number;
  /** Keys per unit created with a widened document (drift). */
  driftedPerUnit: number;
}

/**
 * The manifest (one entry: every key tagged kms-policy-guard=<tag>, alert mode) and the hub's clients. No
 * accounts yet: `addAccounts` creates them.
 */
export function createBenchOrg(
  endpoint: string,
  options: { keysPerUnit: number; driftedPerUnit: number },
): BenchOrg {
  const base: WorldClientConfig = {
    endpoint,
    region: HUB_REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
  const manifestDir = mkdtempSync(join(tmpdir(), 'kms-guard-bench-org-'));
  const tag = `bench-org-${uniqueSuffix()}`;
  const manifestPath = writeManifest(manifestDir, {
    unmanagedKeys: 'ignore',
    adminPrincipals: [],
    keys: [
      {
        name: 'org-bench',
        match: { tag: { key: TAG_KEY, value: tag } },
        mode: 'alert',
        policyFile: 'org-bench.json',
        policyTemplate: DESIRED,
      },
    ],
  });
  return {
    endpoint,
    base,
    hub: createWorldClients(base),
    manifest: loadManifest(manifestPath),
    manifestDir,
    accounts: [],
    keysPerUnit: options.keysPerUnit,
    driftedPerUnit: options.driftedPerUnit,
  };
}

function benchTag(org: BenchOrg): { TagKey: string; TagValue: string } {
  const tag = org.manifest.keys[0]?.match.tag;
  if (!tag) throw new Error('the bench manifest has no tag entry');
  return { TagKey: tag.key, TagValue: tag.value };
}

/**
 * Adds accounts until there are `total` (the hub first): each member gets the spoke role, and every account
 * `keysPerUnit` keys in every Region (`driftedPerUnit` of them widened). Everything runs `concurrency` calls
 * at a time. Returns the milliseconds it took.
 */
export async function addAccounts(org: BenchOrg, total: number, concurrency: number): Promise<number> {
  const started = performance.now();
  const taken = new Set(org.accounts);
  const added: string[] = [];
  if (org.accounts.length === 0 && total > 0) added.push(HUB_ACCOUNT);
  while (org.accounts.length + added.length < total) {
    const id = newAccountId(taken);
    taken.add(id);
    added.push(id);
  }
  // Clients acting in each new account and Region (AssumeRole: moto acts in the role's account).
  const clients = new Map<string, KMSClient>();
  let failures = 0;
  await runPool(added, concurrency, async (accountId) => {
    try {
      const acting = accountId === HUB_ACCOUNT ? org.base : await actAs(org.base, accountId, HUB_REGION);
      if (accountId !== HUB_ACCOUNT) {
        const iam = new IAMClient({ ...acting, ...AWS_RETRY_CONFIG });
        try {
          await iam.send(
            new CreateRoleCommand({
              RoleName: SPOKE_ROLE,
              AssumeRolePolicyDocument: JSON.stringify({
                Version: '2012-10-17',
                Statement: [
                  { Effect: 'Allow', Principal: { AWS: GUARD_ROLE_ARN }, Action: 'sts:AssumeRole' },
                ],
              }),
            }),
          );
        } finally {
          iam.destroy();
        }
      }
      for (const region of BENCH_REGIONS)
        clients.set(`${accountId}#${region}`, new KMSClient({ ...acting, region, maxAttempts: 8 }));
    } catch (error) {
      failures += 1;
      console.error(`account ${accountId}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  if (failures > 0) throw new Error(`${failures} accounts could not be set up`);
  const tag = benchTag(org);
  const entry = org.manifest.keys[0];
  if (!entry) throw new Error('the bench manifest has no entry');
  const jobs = added.flatMap((accountId) =>
    BENCH_REGIONS.flatMap((region) =>
      Array.from({ length: org.keysPerUnit }, (_, index) => ({ accountId, region, index })),
    ),
  );
  const policies = new Map<string, { desired: string; drifted: string }>();
  await runPool(jobs, concurrency, async ({ accountId, region, index }) => {
    const kms = clients.get(`${accountId}#${region}`);
    const where = `${accountId}#${region}`;
    let policy = policies.get(where);
    if (!policy) {
      const desired = renderDesiredPolicy(entry, { partition: 'aws', region, accountId });
      policy = { desired, drifted: policyWithStatement(desired, PUBLIC_DECRYPT_STATEMENT) };
      policies.set(where, policy);
    }
    try {
      if (!kms) throw new Error(`no client for ${where}`);
      await kms.send(
        new CreateKeyCommand({
          Policy: index < org.driftedPerUnit ? policy.drifted : policy.desired,
          Tags: [tag],
          // moto generates an RSA-2048 private key for every key it creates whose spec is not ECC (symmetric
          // keys included): ~0.1 s of CPU each. The guard reads every key with the same calls whatever its spec.
          KeySpec: 'ECC_NIST_P256',
          KeyUsage: 'SIGN_VERIFY',
        }),
      );
    } catch (error) {
      failures += 1;
      if (failures <= 3)
        console.error(`CreateKey in ${where}: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
  for (const client of clients.values()) client.destroy();
  if (failures > 0) throw new Error(`${failures} CreateKey calls failed`);
  org.accounts.push(...added);
  return performance.now() - started;
}

/**
 * The moto server's process (found by its port in /proc; Linux only), to read its CPU time: how much of a
 * run moto itself spends.
 */
export function motoProcess(port: number): { cpuSeconds: () => number | undefined } {
  let pid: string | undefined;
  try {
    pid = readdirSync('/proc').find((entry) => {
      if (!/^\d+$/.test(entry)) return false;
      try {
        const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
        return argv.some((arg) => arg.endsWith('moto_server')) && argv.includes(String(port));
      } catch {
        return false;
      }
    });
  } catch {
    pid = undefined;
  }
  return {
    cpuSeconds: () => {
      if (!pid) return undefined;
      try {
        // Fields after the command name: utime and stime are the 14th and 15th fields, in clock ticks (100/s).
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        return (Number(fields[11]) + Number(fields[12])) / 100;
      } catch {
        return undefined;
      }
    },
  };
}

/**
 * Milliseconds per request of one cheap call (ListKeys in a Region with no keys), sent one at a time: moto's
 * fixed cost per request.
 */
export async function probeRequestMs(org: BenchOrg, requests: number): Promise<number> {
  const kms = new KMSClient({ ...org.base, region: 'ap-southeast-2' });
  try {
    await kms.send(new ListKeysCommand({}));
    const started = performance.now();
    for (let index = 0; index < requests; index += 1) await kms.send(new ListKeysCommand({}));
    return (performance.now() - started) / requests;
  } finally {
    kms.destroy();
  }
}

/**
 * Milliseconds per DynamoDB Query of an empty partition of `tableName`, one at a time: on AWS it reads only
 * that partition; moto scans every item of the table.
 */
export async function probeQueryMs(org: BenchOrg, tableName: string, requests: number): Promise<number> {
  const dynamodb = new DynamoDBClient(org.base);
  try {
    const query = new QueryCommand({
      TableName: tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: 'bindings#000000000000#us-east-1' } },
    });
    await dynamodb.send(query);
    const started = performance.now();
    for (let index = 0; index < requests; index += 1) await dynamodb.send(query);
    return (performance.now() - started) / requests;
  } finally {
    dynamodb.destroy();
  }
}

/** Items in a table (DescribeTable's count is not live in moto: a paginated Scan, Select COUNT). */
export async function countItems(org: BenchOrg, tableName: string): Promise<number> {
  const dynamodb = new DynamoDBClient(org.base);
  try {
    let count = 0;
    let start: ScanCommandOutput['LastEvaluatedKey'];
    do {
      const page: ScanCommandOutput = await dynamodb.send(
        new ScanCommand({
          TableName: tableName,
          Select: 'COUNT',
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      count += page.Count ?? 0;
      start = page.LastEvaluatedKey;
    } while (start);
    return count;
  } finally {
    dynamodb.destroy();
  }
}

export function destroyBenchOrg(org: BenchOrg): void {
  destroyWorldClients(org.hub);
}

/** Requests counted by `service:Operation` (before the SDK's retries). */
export class CallCounter {
  readonly counts = new Map<string, number>();

  add(name: string): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + 1);
  }

  of(service: string): Map<string, number> {
    const prefix = `${service}:`;
    return new Map(
      [...this.counts]
        .filter(([name]) => name.startsWith(prefix))
        .map(([name, count]) => [name.slice(prefix.length), count]),
    );
  }

  /** Every request counted, of every service. */
  all(): number {
    return [...this.counts.values()].reduce((sum, count) => sum + count, 0);
  }

  total(service: string): number {
    return [...this.of(service).values()].reduce((sum, count) => sum + count, 0);
  }
}

interface Countable {
  middlewareStack: { add: (middleware: never, options: { step: 'initialize'; name: string }) => void };
}

/** Counts every command `client` sends, as `service:Operation`. */
export function countCalls(client: Countable, service: string, counter: CallCounter): void {
  const middleware =
    <A, R>(next: (args: A) => Promise<R>, context: { commandName?: string }) =>
    async (args: A): Promise<R> => {
      counter.add(`${service}:${(context.commandName ?? 'unknown').replace(/Command$/, '')}`);
      return next(args);
    };
  client.middlewareStack.add(middleware as never, { step: 'initialize', name: `benchCount_${service}` });
}

export interface HubRun {
  guard: Guard;
  deps: OrgAuditHandlerDeps;
  /** The moment the run summary was marked published (performance.now()), once it is. */
  publishedAt: () => number | undefined;
  /** Published summaries, counted per run (must be exactly one). */
  summaryPublications: () => number;
  /** Every report a worker recorded, in order: `first` is false for a unit that had already reported. */
  reports: { unit: string; first: boolean }[];
  counter: CallCounter;
  workQueue: { url: string; dlqUrl: string };
  inboxUrl: string;
  tableName: string;
  destroy(): void;
}

/**
 * A fresh hub for one run (its own state table, topic and queue, a cold guard: credentials, caches and
 * bindings as in a new container), guarding `accounts` (the hub's first) in the bench Regions. KMS, STS,
 * DynamoDB, SNS and the fan-out's SQS requests of the guard are counted.
 */
export async function createHubRun(
  org: BenchOrg,
  accounts: readonly string[],
  options: { visibilitySeconds: number; maxReceives: number },
): Promise<HubRun> {
  const suffix = uniqueSuffix();
  const topic = await createFindingsTopic(org.hub, {
    topicName: `bench-org-findings-${suffix}`,
    queueName: `bench-org-inbox-${suffix}`,
  });
  const tableName = `bench-org-state-${suffix}`;
  await createStateTable(org.hub.dynamodb, tableName);
  const workQueue = await createAuditWorkQueue(org.hub.sqs, `bench-org-work-${suffix}`, options);
  const counter = new CallCounter();
  const sts = new STSClient({ ...AWS_RETRY_CONFIG, ...org.base });
  countCalls(sts, 'sts', counter);
  const access = new SpokeAccess({
    sts,
    partition: 'aws',
    roleName: SPOKE_ROLE,
    sessionName: 'kms-policy-guard-hub',
    ownAccountId: HUB_ACCOUNT,
  });
  const members = accounts.filter((accountId) => accountId !== HUB_ACCOUNT);
  const kmsClients: KMSClient[] = [];
  const logger = new Logger({ serviceName: 'kms-policy-guard', logLevel: 'CRITICAL' });
  const guard = buildGuard({
    manifest: org.manifest,
    aws: { endpoint: org.endpoint, region: HUB_REGION, credentials: org.base.credentials },
    logger,
    repoRoot: org.manifestDir,
    topicArn: topic.topicArn,
    stateTable: tableName,
    guardPrincipalArn: GUARD_ROLE_ARN,
    guardedRegions: BENCH_REGIONS,
    hub: {
      settings: {
        hubAccountId: HUB_ACCOUNT,
        regions: BENCH_REGIONS,
        memberAccounts: members,
        spokeRoleName: SPOKE_ROLE,
        sessionName: 'kms-policy-guard-hub',
      },
      directory: new StaticDirectory(members, HUB_ACCOUNT),
      access,
      // What buildHub does for a location (createKmsClient with the spoke role's credentials), plus the count.
      storeFor: (location) => {
        const client = createKmsClient(
          access.settings(
            { endpoint: org.endpoint, region: HUB_REGION, credentials: org.base.credentials },
            location.accountId,
            location.region,
          ),
        );
        countCalls(client, 'kms', counter);
        kmsClients.push(client);
        return new KmsKeyPolicyStore(client);
      },
    },
  });
  countCalls(guard.kms, 'kms', counter);
  countCalls(guard.sns, 'sns', counter);
  const table = guard.stateTable;
  const hub = guard.hub;
  if (!table || !hub) throw new Error('the bench guard has no state table or hub');
  countCalls(table.client, 'dynamodb', counter);
  const sqs = new SQSClient({ ...AWS_RETRY_CONFIG, ...org.base });
  countCalls(sqs, 'sqs', counter);
  const dynamoRuns = new DynamoAuditRuns(table.tableName, table.client);
  let publishedAt: number | undefined;
  let publications = 0;
  const reports: HubRun['reports'] = [];
  const runs: AuditRuns = {
    start: (progress, units) => dynamoRuns.start(progress, units),
    report: async (runId, report) => {
      const recorded = await dynamoRuns.report(runId, report);
      reports.push({ unit: `${report.accountId}/${report.region}`, first: recorded.first });
      return recorded;
    },
    progress: (runId) => dynamoRuns.progress(runId),
    units: (runId) => dynamoRuns.units(runId),
    claimSummary: (runId, stale) => dynamoRuns.claimSummary(runId, stale),
    summaryPublished: async (runId) => {
      await dynamoRuns.summaryPublished(runId);
      publications += 1;
      publishedAt ??= performance.now();
    },
  };
  const deps: OrgAuditHandlerDeps = {
    ...guard.deps,
    logger,
    hub: hub.scope,
    runs,
    queue: new SqsAuditQueue(sqs, workQueue.url),
    hubLocation: { partition: 'aws', region: HUB_REGION, accountId: HUB_ACCOUNT },
  };
  return {
    guard,
    deps,
    publishedAt: () => publishedAt,
    summaryPublications: () => publications,
    reports,
    counter,
    workQueue,
    inboxUrl: topic.queue.url,
    tableName,
    destroy: () => {
      guard.destroy();
      sts.destroy();
      sqs.destroy();
      for (const client of kmsClients) client.destroy();
    },
  };
}

/** The findings the run published (from the topic's SQS subscriber). */
export async function runFindings(org: BenchOrg, run: HubRun, runId: string): Promise<FindingNotification[]> {
  return (await receiveFindings(org.hub.sqs, run.inboxUrl)).filter((item) =>
    item.finding.id.startsWith(`${runId}:`),
  );
}

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface Delivery {
  unit: string;
  receiveCount: number;
  /** performance.now() when it was received. */
  at: number;
  outcome: 'ok' | 'batch item failure' | 'invocation failed' | 'removed';
}

export interface PollerOptions {
  /** Invocations at once: Lambda's `maximumConcurrency` on the event source. */
  pollers: number;
  /** Stop once this says so (checked after every empty receive). */
  done: () => Promise<boolean> | boolean;
  timeoutMs: number;
  /** Messages the stand-in removes instead of delivering (a unit whose message is lost). */
  remove?: (body: string) => boolean;
}

function unitOf(body: string): string {
  try {
    const parsed = JSON.parse(body) as { type?: string; accountId?: string; region?: string };
    return parsed.type === 'unit' ? `${parsed.accountId}/${parsed.region}` : `(${parsed.type})`;
  } catch {
    return '(unreadable)';
  }
}

/**
 * What Lambda's SQS event source does, on the real queue: `pollers` concurrent loops, each receiving one
 * message (batch size 1, as deployed), invoking the handler with an SQS event (ApproximateReceiveCount
 * included), and deleting the message unless the handler reported it as a batch item failure or threw.
 * A failed message is left alone: SQS makes it visible again when its visibility timeout ends, as for Lambda.
 */
export async function pollLikeLambda(
  sqs: SQSClient,
  queueUrl: string,
  handler: SqsHandler,
  options: PollerOptions,
): Promise<{ invocations: number; deliveries: Delivery[] }> {
  const started = Date.now();
  const deliveries: Delivery[] = [];
  let invocations = 0;
  const poller = async (): Promise<void> => {
    for (;;) {
      if (Date.now() - started > options.timeoutMs) throw new Error('the pollers timed out');
      const received: ReceiveMessageCommandOutput = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 1,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
          WaitTimeSeconds: 0,
        }),
      );
      const [message] = received.Messages ?? [];
      if (!message) {
        if (await options.done()) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const body = message.Body ?? '';
      const receiveCount = Number(message.Attributes?.ApproximateReceiveCount ?? '1');
      const receipt = message.ReceiptHandle ?? '';
      const at = performance.now();
      if (options.remove?.(body)) {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt }));
        deliveries.push({ unit: unitOf(body), receiveCount, at, outcome: 'removed' });
        continue;
      }
      const record: SQSRecord = {
        messageId: message.MessageId ?? '',
        receiptHandle: receipt,
        body,
        attributes: {
          ApproximateReceiveCount: String(receiveCount),
          SentTimestamp: message.Attributes?.SentTimestamp ?? '0',
          SenderId: HUB_ACCOUNT,
          ApproximateFirstReceiveTimestamp: '0',
        },
        messageAttributes: {},
        md5OfBody: message.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: `arn:aws:sqs:${HUB_REGION}:${HUB_ACCOUNT}:audit-work`,
        awsRegion: HUB_REGION,
      };
      invocations += 1;
      let outcome: Delivery['outcome'];
      try {
        const response = await handler({ Records: [record] }, WORKER_CONTEXT);
        outcome = response.batchItemFailures.some((item) => item.itemIdentifier === record.messageId)
          ? 'batch item failure'
          : 'ok';
      } catch {
        outcome = 'invocation failed';
      }
      deliveries.push({ unit: unitOf(body), receiveCount, at, outcome });
      if (outcome === 'ok')
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt }));
    }
  };
  await Promise.all(Array.from({ length: options.pollers }, () => poller()));
  return { invocations, deliveries };
}

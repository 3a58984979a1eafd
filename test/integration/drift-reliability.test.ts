/**
 * Reliability of the real-time guard against moto, with the DynamoDB state table (remediation ledger
 * and idempotency records): duplicated deliveries, a key that keeps being changed back (flapping),
 * stale reads after PutKeyPolicy (KMS eventual consistency), and a key KMS refuses to read.
 *
 * Events travel as in drift-flow.test.ts: CloudTrail record -> custom bus -> drift rule -> SQS ->
 * drift handler (real adapters) -> SNS -> SQS subscriber.
 */

import { randomUUID } from 'node:crypto';
import { IdempotencyAlreadyInProgressError } from '@aws-lambda-powertools/idempotency';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DisableKeyCommand } from '@aws-sdk/client-kms';
import {
  createWorldClients,
  crossAccountDecryptStatement,
  destroyWorldClients,
  type FindingsTopic,
  type KmsEventRoute,
  PUBLIC_DECRYPT_STATEMENT,
  receiveFindings,
  uniqueSuffix,
  WORLD_PLACEHOLDERS,
  type WorldKey,
  worldClientConfig,
} from '../../dev/world';
import { DynamoRemediationLedger } from '../../src/aws/dynamo-ledger';
import { DRIFT_IDEMPOTENCY_PARTITION } from '../../src/aws/idempotency';
import { createStateTable } from '../../src/aws/state-table';
import type { GuardMode } from '../../src/core/key';
import { type LoadedManifest, loadManifest } from '../../src/manifest';
import { comparePolicies } from '../../src/policy/compare';
import { motoEndpoint } from './moto-env';
import {
  buildGuard,
  countOf,
  type Guard,
  type GuardOptions,
  lambdaContext,
  refuseGetKeyPolicyOnDisabledKeys,
  StaleReadsAfterPutStore,
  temporaryDirectory,
} from './support/drift-guard';
import {
  createDriftPipeline,
  createGuardedKeys,
  paymentsDesiredPolicy as desiredPolicy,
  keyNamed,
  livePolicy as livePolicyIn,
  routeThroughRule as routeThroughRuleOf,
  type Tampering,
  tamper as tamperIn,
} from './support/drift-world';

jest.setTimeout(60_000);

const MALLORY_ARN = `arn:aws:iam::${WORLD_PLACEHOLDERS.accountId}:user/mallory`;
const FLAPPING_LIMIT = { maxReapplies: 2, windowMinutes: 60 };
/** One key per test, each with its mode; the duplicate test runs in both modes that publish per event. */
const KEY_MODES = {
  'duplicate-alert': 'alert',
  'duplicate-remediate': 'remediate',
  concurrent: 'remediate',
  'early-reads': 'remediate',
  flapping: 'remediate',
  narrowing: 'remediate',
  stale: 'remediate',
  disabled: 'alert',
} as const satisfies Record<string, GuardMode>;
type KeyRole = keyof typeof KEY_MODES;

const world = createWorldClients(worldClientConfig(motoEndpoint()));
const suffix = uniqueSuffix();
const workDir = temporaryDirectory('kpg-drift-reliability-');
const tableName = `kpg-state-${suffix}`;
let keys = new Map<KeyRole, WorldKey>();
let manifest: LoadedManifest;
let ledger: DynamoRemediationLedger;
let route: KmsEventRoute;
let topic: FindingsTopic;
const guards: Guard[] = [];

const keyFor = (role: KeyRole): WorldKey => keyNamed(keys, role);
const livePolicy = (key: WorldKey): Promise<string> => livePolicyIn(world, key);
const routeThroughRule = (records: Record<string, unknown>[]): Promise<unknown[]> =>
  routeThroughRuleOf(world, route, records);

/** The guard as deployed with STATE_TABLE: DynamoDB ledger and idempotency on detail.eventID. */
function guardWith(options: Partial<GuardOptions> = {}): Guard {
  const guard = buildGuard({
    manifest,
    topicArn: topic.topicArn,
    ledger,
    idempotency: { tableName, client: world.dynamodb },
    ...options,
  });
  guards.push(guard);
  return guard;
}

/** "Someone" (mallory) writes `desired + statement`; returns the record CloudTrail would make of it. */
function tamper(key: WorldKey, statement: Record<string, unknown>): Promise<Tampering> {
  return tamperIn(world, key, { statement, actorArn: MALLORY_ARN });
}

/** "Someone" (mallory) writes a whole document. */
function tamperTo(key: WorldKey, document: string): Promise<Tampering> {
  return tamperIn(world, key, { document, actorArn: MALLORY_ARN });
}

beforeAll(async () => {
  await createStateTable(world.dynamodb, tableName);
  const created = await createGuardedKeys(world, {
    prefix: 'rel',
    suffix,
    modes: KEY_MODES,
    dir: workDir.dir,
    flapping: FLAPPING_LIMIT,
  });
  keys = created.keys;
  manifest = loadManifest(created.manifestPath);
  ledger = new DynamoRemediationLedger({ tableName, client: world.dynamodb, window: manifest.flapping });
  ({ route, topic } = await createDriftPipeline(world, 'rel', suffix));
});

afterAll(() => {
  for (const guard of guards) guard.destroy();
  destroyWorldClients(world);
  workDir.remove();
  jest.restoreAllMocks();
});

describe('reliability of the real-time guard on moto (DynamoDB ledger + idempotency)', () => {
  it.each([
    { mode: 'alert', role: 'duplicate-alert', kind: 'drift', writes: 0, ledgerEntries: 0 },
    { mode: 'remediate', role: 'duplicate-remediate', kind: 'remediated', writes: 1, ledgerEntries: 1 },
  ] as const)(
    '$mode: handles a CloudTrail event delivered twice once (one finding, $writes PutKeyPolicy)',
    async ({ role, kind, writes, ledgerEntries }) => {
      // Prepare
      const guard = guardWith();
      const key = keyFor(role);
      const { tampered, record, eventId } = await tamper(key, { ...PUBLIC_DECRYPT_STATEMENT });
      const delivered = await routeThroughRule([record, record]);

      // Act
      const first = await guard.handler(delivered[0], lambdaContext(randomUUID()));
      const duplicate = await guard.handler(delivered[1], lambdaContext(randomUUID()));
      const findings = await receiveFindings(world.sqs, topic.queue.url);

      // Assess
      expect(delivered).toHaveLength(2);
      expect(delivered[0]).not.toEqual(delivered[1]); // two deliveries (own envelope IDs), one CloudTrail eventID
      expect(first).toMatchObject({ status: 'published', eventId, finding: { kind } });
      expect(duplicate).toEqual(first);
      expect(findings).toHaveLength(1);
      expect(findings[0]?.finding).toMatchObject({ kind, livePolicy: tampered });
      expect(countOf(guard.kmsCommands, 'PutKeyPolicyCommand')).toBe(writes);
      const entries = await ledger.listLedger(key.keyArn, 10);
      expect(entries).toHaveLength(ledgerEntries);
      for (const entry of entries) {
        expect(entry).toMatchObject({ eventId, actorArn: MALLORY_ARN, overwrittenPolicy: tampered });
      }
    },
  );

  it('fails the concurrent duplicate (so Lambda retries it) and answers the retry from the first run', async () => {
    // Prepare
    const guard = guardWith();
    const key = keyFor('concurrent');
    const { record, eventId } = await tamper(key, crossAccountDecryptStatement('999988887777'));
    const delivered = await routeThroughRule([record, record]);

    // Act
    const [a, b] = await Promise.allSettled(
      delivered.map((event) => guard.handler(event, lambdaContext(randomUUID()))),
    );
    const retry = await guard.handler(delivered[1], lambdaContext(randomUUID()));
    const findings = await receiveFindings(world.sqs, topic.queue.url);

    // Assess
    const outcomes = [a, b];
    const fulfilled = outcomes.flatMap((outcome) => (outcome?.status === 'fulfilled' ? [outcome.value] : []));
    const rejected = outcomes.flatMap((outcome) => (outcome?.status === 'rejected' ? [outcome.reason] : []));
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toBeInstanceOf(IdempotencyAlreadyInProgressError);
    expect(fulfilled[0]).toMatchObject({ eventId, finding: { kind: 'remediated' } });
    expect(retry).toEqual(fulfilled[0]);
    expect(findings).toHaveLength(1);
    expect(countOf(guard.kmsCommands, 'PutKeyPolicyCommand')).toBe(1);
    expect(await ledger.listLedger(key.keyArn, 10)).toHaveLength(1);
  });

  it('reads the widened key while the idempotency record is written, restores it, and a duplicate changes nothing', async () => {
    // Prepare: the idempotency record's PutItem waits (up to 5 s) until the guard asked KMS for the key.
    const kmsSent: string[] = [];
    let readBeforeRecord: boolean | undefined;
    const idempotencyClient = new DynamoDBClient(worldClientConfig(motoEndpoint()));
    idempotencyClient.middlewareStack.add(
      (next, context) => async (args) => {
        const item = (args.input as { Item?: { pk?: { S?: string } } }).Item;
        if (context.commandName === 'PutItemCommand' && item?.pk?.S === DRIFT_IDEMPOTENCY_PARTITION) {
          const deadline = Date.now() + 5_000;
          while (!kmsSent.includes('DescribeKeyCommand') && Date.now() < deadline) {
            await new Promise((tick) => setTimeout(tick, 10));
          }
          readBeforeRecord ??= kmsSent.includes('DescribeKeyCommand');
        }
        return next(args);
      },
      { step: 'initialize', name: 'holdIdempotencyRecord' },
    );
    const guard = guardWith({ idempotency: { tableName, client: idempotencyClient } });
    guard.kms.middlewareStack.add(
      (next, context) => async (args) => {
        kmsSent.push(context.commandName ?? 'unknown');
        return next(args);
      },
      { step: 'initialize', name: 'recordSentBeforeRecord' },
    );
    const key = keyFor('early-reads');
    const { record, eventId } = await tamper(key, { ...PUBLIC_DECRYPT_STATEMENT });
    const delivered = await routeThroughRule([record, record]);

    // Act
    const first = await guard.handler(delivered[0], lambdaContext(randomUUID()));
    const sentByFirst = kmsSent.length;
    const duplicate = await guard.handler(delivered[1], lambdaContext(randomUUID()));
    const findings = await receiveFindings(world.sqs, topic.queue.url);
    idempotencyClient.destroy();

    // Assess
    expect(readBeforeRecord).toBe(true);
    expect(first).toMatchObject({ status: 'published', eventId, finding: { kind: 'remediated' } });
    expect(comparePolicies(desiredPolicy, await livePolicy(key)).status).toBe('equivalent');
    expect(duplicate).toEqual(first);
    expect(findings).toHaveLength(1);
    expect(countOf(guard.kmsCommands, 'PutKeyPolicyCommand')).toBe(1);
    expect(kmsSent.slice(sentByFirst).sort()).toEqual(['DescribeKeyCommand', 'GetKeyPolicyCommand']);
    expect(await ledger.listLedger(key.keyArn, 10)).toHaveLength(1);
  });

  it('restores a key widened ten times in a row ten times; past the flapping limit each restore is a critical flapping finding', async () => {
    // Prepare
    const guard = guardWith();
    const key = keyFor('flapping');
    const rounds = 10;
    const tamperedDocuments: string[] = [];
    const summaries: unknown[] = [];

    // Act
    for (let round = 1; round <= rounds; round += 1) {
      const { tampered, record } = await tamper(key, {
        ...crossAccountDecryptStatement(`9999888${String(87000 + round)}`),
        Sid: `Change number ${round}`,
      });
      tamperedDocuments.push(tampered);
      const delivered = await routeThroughRule([record]);
      expect(delivered).toHaveLength(1);
      summaries.push(await guard.handler(delivered[0], lambdaContext(randomUUID())));
    }
    const findings = await receiveFindings(world.sqs, topic.queue.url);

    // Assess: every widening undone; the first two within the limit, the other eight called out as a fight.
    const expectedKinds = ['remediated', 'remediated', ...Array.from({ length: 8 }, () => 'flapping')];
    expect(findings.map((notification) => notification.finding.kind)).toEqual(expectedKinds);
    expect(summaries.map((summary) => (summary as { finding?: { kind: string } }).finding?.kind)).toEqual(
      expectedKinds,
    );
    expect(findings.every((notification) => notification.finding.action === 'remediated')).toBe(true);
    const flapping = findings[2]?.finding;
    expect(flapping).toMatchObject({
      severity: 'critical',
      action: 'remediated',
      livePolicy: tamperedDocuments[2],
    });
    expect(flapping?.details.join('\n')).toMatch(
      /re-apply number 3 in the last 60 minutes \(limit 2\).*fighting the guard/,
    );
    expect(findings[2]?.attributes).toMatchObject({ severity: 'critical', kind: 'flapping' });
    expect(countOf(guard.kmsCommands, 'PutKeyPolicyCommand')).toBe(rounds);
    expect(comparePolicies(desiredPolicy, await livePolicy(key)).status).toBe('equivalent');
    const entries = await ledger.listLedger(key.keyArn, 20);
    expect(entries.map((entry) => entry.overwrittenPolicy)).toEqual([...tamperedDocuments].reverse());
  });

  it('pauses restoring drift that gives nobody new access once the flapping limit is reached', async () => {
    // Prepare
    const guard = guardWith();
    const key = keyFor('narrowing');
    await ledger.recordReapply(key.keyArn, 'earlier', new Date(Date.now() - 60_000));
    await ledger.recordReapply(key.keyArn, 'earlier', new Date(Date.now() - 30_000));
    const narrowed = JSON.parse(desiredPolicy) as { Statement: { Sid?: string }[] };
    narrowed.Statement = narrowed.Statement.filter((statement) => !/use/i.test(statement.Sid ?? ''));
    const { record } = await tamperTo(key, JSON.stringify(narrowed, null, 2));
    const delivered = await routeThroughRule([record]);

    // Act
    await guard.handler(delivered[0], lambdaContext(randomUUID()));
    const findings = await receiveFindings(world.sqs, topic.queue.url);

    // Assess
    expect(findings.map((notification) => [notification.finding.kind, notification.finding.action])).toEqual([
      ['flapping', 'failed'],
    ]);
    expect(countOf(guard.kmsCommands, 'PutKeyPolicyCommand')).toBe(0);
  });

  it('waits out stale reads after PutKeyPolicy: remediated with exactly one write, no false failure', async () => {
    // Prepare
    const staleReads = 3;
    let staleStore: StaleReadsAfterPutStore | undefined;
    const guard = guardWith({
      wrapStore: (store) => {
        staleStore = new StaleReadsAfterPutStore(store, staleReads);
        return staleStore;
      },
    });
    const key = keyFor('stale');
    const { tampered, record } = await tamper(key, { ...PUBLIC_DECRYPT_STATEMENT });
    const delivered = await routeThroughRule([record]);

    // Act
    const summary = await guard.handler(delivered[0], lambdaContext(randomUUID()));
    const findings = await receiveFindings(world.sqs, topic.queue.url);

    // Assess
    expect(summary).toMatchObject({
      status: 'published',
      finding: { kind: 'remediated', action: 'remediated' },
    });
    expect(staleStore?.staleReadsServed).toBe(staleReads);
    expect(staleStore?.puts).toBe(1);
    expect(countOf(guard.kmsCommands, 'PutKeyPolicyCommand')).toBe(1);
    expect(findings.map((notification) => notification.finding.kind)).toEqual(['remediated']);
    expect(findings[0]?.finding.livePolicy).toBe(tampered);
    expect(findings[0]?.finding.details.join('\n')).toContain(`${staleReads} stale`);
    expect(guard.logs).toContainEqual(
      expect.objectContaining({ message: 'stabilization_finished', stable: true, staleReads }),
    );
    expect(comparePolicies(desiredPolicy, await livePolicy(key)).status).toBe('equivalent');
  });

  it('reports a disabled key KMS refuses to read (KMSInvalidStateException) in alert mode: key state, then key-unavailable', async () => {
    // Prepare: alert mode (in remediate mode the guard would enable the key first, see drift-attacks.test.ts)
    const guard = guardWith({ configureKms: (kms) => refuseGetKeyPolicyOnDisabledKeys(kms, world.kms) });
    const key = keyFor('disabled');
    const { tampered, record, eventId } = await tamper(key, { ...PUBLIC_DECRYPT_STATEMENT });
    await world.kms.send(new DisableKeyCommand({ KeyId: key.keyId }));
    const delivered = await routeThroughRule([record]);

    // Act
    const summary = await guard.handler(delivered[0], lambdaContext(randomUUID()));
    const findings = await receiveFindings(world.sqs, topic.queue.url);

    // Assess
    expect(summary).toMatchObject({ status: 'published', eventId });
    expect(
      findings.map((notification) => [notification.finding.kind, notification.finding.severity]),
    ).toEqual([
      ['key-state-changed', 'high'],
      ['key-unavailable', 'medium'],
    ]);
    expect(findings[1]?.finding).toMatchObject({ kind: 'key-unavailable', keyArn: key.keyArn });
    expect(findings[1]?.finding.details.join('\n')).toMatch(
      /GetKeyPolicy failed with KMSInvalidStateException/,
    );
    expect(findings[1]?.attributes).toMatchObject({
      kind: 'key-unavailable',
      action: 'none',
      keyId: key.keyId,
    });
    expect(countOf(guard.kmsCommands, 'PutKeyPolicyCommand')).toBe(0);
    expect(guard.logs).toContainEqual(
      expect.objectContaining({ level: 'warn', message: 'key_unavailable', reason: 'invalid-state' }),
    );
    expect(await livePolicy(key)).toBe(tampered);
    expect(await ledger.listLedger(key.keyArn, 10)).toEqual([]);
  });
});

/**
 * Nothing lost between the write and the alert (issue 13), on moto: the state table's outbox and fold
 * windows, and the guard's guarantees built on them, through the real drift handler:
 * - a restore whose every Publish fails during the first invocation is delivered once SNS works again,
 *   by the retried event or by the next audit;
 * - a PutKeyPolicy made with the guard role's identity and a document the guard did not intend is a
 *   critical guard-impersonated finding in that invocation (and is undone in remediate mode).
 */
import { randomUUID } from 'node:crypto';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  createKeyWithPolicy,
  createWorldClients,
  destroyWorldClients,
  kmsCallRecord,
  PUBLIC_DECRYPT_STATEMENT,
  policyWithStatement,
  putKeyPolicyRecord,
  receiveFindings,
  uniqueSuffix,
  WORLD_PLACEHOLDERS,
  worldClientConfig,
} from '../../dev/world';
import { DynamoRemediationLedger } from '../../src/aws/dynamo-ledger';
import { DynamoFoldStore, DynamoOutbox } from '../../src/aws/dynamo-state';
import { createStateTable } from '../../src/aws/state-table';
import type { Finding } from '../../src/core/finding';
import { type LoadedManifest, loadManifest } from '../../src/manifest';
import { comparePolicies } from '../../src/policy/compare';
import { motoEndpoint } from './moto-env';
import {
  buildGuard,
  GUARD_SESSION_ARN,
  type Guard,
  lambdaContext,
  temporaryDirectory,
} from './support/drift-guard';
import {
  createDriftPipeline,
  createGuardedKeys,
  paymentsDesiredPolicy as desiredPolicy,
  keyNamed,
  livePolicy as livePolicyIn,
  routeThroughRule as routeThroughRuleOf,
} from './support/drift-world';

const world = createWorldClients(worldClientConfig(motoEndpoint()));
const suffix = uniqueSuffix();
const workDir = temporaryDirectory('kpg-outbox-');
const tableName = `kpg-outbox-${suffix}`;
const MALLORY_ARN = `arn:aws:iam::${WORLD_PLACEHOLDERS.accountId}:user/mallory`;
let manifest: LoadedManifest;
let keys: Awaited<ReturnType<typeof createGuardedKeys<'restored' | 'impersonated' | 'intended'>>>['keys'];
let pipeline: Awaited<ReturnType<typeof createDriftPipeline>>;
const guards: Guard[] = [];

function guard(options: { sns?: (sns: SNSClient) => void } = {}): Guard {
  const built = buildGuard({
    manifest,
    topicArn: pipeline.topic.topicArn,
    ledger: new DynamoRemediationLedger({ tableName, client: world.dynamodb, window: manifest.flapping }),
    stateTable: tableName,
    ...(options.sns ? { configureSns: options.sns } : {}),
  });
  guards.push(built);
  return built;
}

async function deliver(target: Guard, record: Record<string, unknown>): Promise<unknown> {
  const [event] = await routeThroughRuleOf(world, pipeline.route, [record]);
  return target.handler(event, lambdaContext(randomUUID()));
}

beforeAll(async () => {
  await createStateTable(world.dynamodb, tableName);
  const created = await createGuardedKeys(world, {
    prefix: 'outbox',
    suffix,
    modes: { restored: 'remediate', impersonated: 'remediate', intended: 'remediate' },
    dir: workDir.dir,
  });
  keys = created.keys;
  manifest = loadManifest(created.manifestPath);
  pipeline = await createDriftPipeline(world, 'outbox', suffix);
});

afterAll(() => {
  for (const built of guards) built.destroy();
  destroyWorldClients(world);
  workDir.remove();
});

describe('the state table adapters on moto', () => {
  it('holds a finding until it is released, replacing one with the same ID, per account and Region', async () => {
    // Prepare
    const outbox = new DynamoOutbox(tableName, world.dynamodb);
    const base = { account: '111122223333', region: 'eu-central-1' };
    const first = {
      id: `run:k1:drift-${suffix}`,
      kind: 'drift',
      title: 'first',
      keyId: 'k1',
      ...base,
    } as Finding;
    const replaced = { ...first, title: 'replaced' };
    const other = { ...first, id: `run:k2:drift-${suffix}`, keyId: 'k2' };
    const full = (finding: Finding): Finding => ({
      ...finding,
      severity: 'high',
      keyArn: `arn:aws:kms:eu-central-1:111122223333:key/${finding.keyId}`,
      aliases: [],
      mode: 'alert',
      action: 'alerted',
      trigger: 'event',
      details: [],
      time: new Date().toISOString(),
    });

    // Act
    await outbox.hold(full(first));
    await outbox.hold(full(other));
    await outbox.hold(full(replaced));
    await outbox.delivered(full(other));
    const pending = await outbox.pending({
      partition: 'aws',
      region: 'eu-central-1',
      accountId: '111122223333',
    });

    // Assess
    expect(pending.map((finding) => [finding.id, finding.title])).toEqual([[first.id, 'replaced']]);
  });

  it('opens a fold window with the first claim, folds the next ones, republishes a retried opener, and reports the folded count when the window ends', async () => {
    // Prepare
    const folds = new DynamoFoldStore(tableName, world.dynamodb);
    const foldKey = `arn:aws:kms:us-east-1:123456789012:key/${randomUUID()}#unmanaged-key`;
    const t0 = new Date('2026-03-02T10:00:00Z');
    const hour = 60 * 60 * 1000;

    // Act
    const claims = [
      await folds.claim(foldKey, 'f1', t0, hour),
      await folds.claim(foldKey, 'f2', new Date(t0.getTime() + 60_000), hour),
      await folds.claim(foldKey, 'f1', new Date(t0.getTime() + 90_000), hour),
      await folds.claim(foldKey, 'f3', new Date(t0.getTime() + 120_000), hour),
      await folds.claim(foldKey, 'f4', new Date(t0.getTime() + hour), hour),
      await folds.claim(foldKey, 'f4', new Date(t0.getTime() + hour + 1000), hour),
    ];

    // Assess
    expect(claims).toEqual([
      { publish: true, foldedBefore: 0 },
      { publish: false, foldedBefore: 0 },
      { publish: true, foldedBefore: 0 }, // f1 again: a retried publish of the window's opener
      { publish: false, foldedBefore: 0 },
      { publish: true, foldedBefore: 2 },
      { publish: true, foldedBefore: 2 }, // f4 retried: the same text again
    ]);
  });
});

describe('nothing lost between the write and the alert (moto, the real drift handler)', () => {
  it('delivers a restore whose every Publish failed in the first invocation once SNS works again, by the retry', async () => {
    // Prepare: SNS refuses every Publish of the first guard; the retried event meets a healthy SNS.
    const key = keyNamed(keys, 'restored');
    const refusing = guard({
      sns: (sns) =>
        sns.middlewareStack.add(
          (next, context) => async (args) => {
            if (context.commandName === PublishCommand.name)
              throw Object.assign(new Error('SNS down'), { name: 'InternalError', $fault: 'server' });
            return next(args);
          },
          { step: 'initialize', name: 'refuse-publish' },
        ),
    });
    const tampered = policyWithStatement(desiredPolicy, PUBLIC_DECRYPT_STATEMENT);
    const { PutKeyPolicyCommand } = await import('@aws-sdk/client-kms');
    await world.kms.send(
      new PutKeyPolicyCommand({ KeyId: key.keyId, PolicyName: 'default', Policy: tampered }),
    );
    const record = putKeyPolicyRecord({
      keyArn: key.keyArn,
      actorArn: MALLORY_ARN,
      eventId: randomUUID(),
      policy: tampered,
    });

    // Act
    const first = await deliver(refusing, record).catch((error: unknown) => error);
    const afterFirst = await receiveFindings(world.sqs, pipeline.topic.queue.url);
    const [retried] = await routeThroughRuleOf(world, pipeline.route, [record]);
    await guard().handler(retried, lambdaContext(randomUUID()));
    const afterRetry = await receiveFindings(world.sqs, pipeline.topic.queue.url);

    // Assess: the key was restored in the first invocation, nothing reached the inbox then; the retry finds
    // the key in sync and still delivers the held finding, with the overwritten document.
    expect(first).toBeInstanceOf(Error);
    expect(afterFirst).toEqual([]);
    expect(comparePolicies(desiredPolicy, await livePolicyIn(world, key)).status).toBe('equivalent');
    const restored = afterRetry.filter(({ finding }) => finding.keyArn === key.keyArn);
    expect(restored.map(({ finding }) => finding.kind)).toContain('remediated');
    expect(restored.find(({ finding }) => finding.kind === 'remediated')?.finding.livePolicy).toBe(tampered);
  });

  it('raises a critical guard-impersonated finding for a write by the guard role it never intended, and undoes it', async () => {
    // Prepare: someone running as the guard role writes a widened policy.
    const key = keyNamed(keys, 'impersonated');
    const tampered = policyWithStatement(desiredPolicy, PUBLIC_DECRYPT_STATEMENT);
    const { PutKeyPolicyCommand } = await import('@aws-sdk/client-kms');
    await world.kms.send(
      new PutKeyPolicyCommand({ KeyId: key.keyId, PolicyName: 'default', Policy: tampered }),
    );

    // Act
    await deliver(
      guard(),
      putKeyPolicyRecord({
        keyArn: key.keyArn,
        actorArn: GUARD_SESSION_ARN,
        eventId: randomUUID(),
        policy: tampered,
      }),
    );
    const findings = await receiveFindings(world.sqs, pipeline.topic.queue.url);

    // Assess
    expect(
      findings
        .filter(({ finding }) => finding.keyArn === key.keyArn)
        .map(({ finding }) => [finding.kind, finding.severity]),
    ).toEqual([
      ['guard-impersonated', 'critical'],
      ['remediated', 'critical'],
    ]);
    expect(comparePolicies(desiredPolicy, await livePolicyIn(world, key)).status).toBe('equivalent');
  });

  it('confirms the guard’s own write, recognised by its write intent, as a no-op', async () => {
    // Prepare: the guard restores a tampered key; CloudTrail then records the guard's own PutKeyPolicy.
    const key = keyNamed(keys, 'intended');
    const target = guard();
    const tampered = policyWithStatement(desiredPolicy, PUBLIC_DECRYPT_STATEMENT);
    const { PutKeyPolicyCommand } = await import('@aws-sdk/client-kms');
    await world.kms.send(
      new PutKeyPolicyCommand({ KeyId: key.keyId, PolicyName: 'default', Policy: tampered }),
    );
    await deliver(
      target,
      putKeyPolicyRecord({
        keyArn: key.keyArn,
        actorArn: MALLORY_ARN,
        eventId: randomUUID(),
        policy: tampered,
      }),
    );
    await receiveFindings(world.sqs, pipeline.topic.queue.url);
    const written = await livePolicyIn(world, key);

    // Act
    const summary = await deliver(
      target,
      putKeyPolicyRecord({
        keyArn: key.keyArn,
        actorArn: GUARD_SESSION_ARN,
        eventId: randomUUID(),
        policy: written,
      }),
    );
    const findings = await receiveFindings(world.sqs, pipeline.topic.queue.url);

    // Assess
    expect(summary).toMatchObject({ status: 'in-sync' });
    expect(findings.filter(({ finding }) => finding.keyArn === key.keyArn)).toEqual([]);
  });
});

describe('repeated low findings of one key, folded (moto, the real drift handler)', () => {
  it('publishes the first LOW unmanaged-key finding of a key and folds the next events’ within the hour', async () => {
    // Prepare: a clean key no entry manages (LOW unmanaged-key on every event about it).
    const target = guard();
    const unmanaged = await createKeyWithPolicy(world.kms, { policy: desiredPolicy });
    await receiveFindings(world.sqs, pipeline.topic.queue.url);

    // Act: five tag events about it, one after another.
    for (let n = 0; n < 5; n += 1) {
      await deliver(
        target,
        kmsCallRecord({
          eventName: 'TagResource',
          keyArn: unmanaged.keyArn,
          actorArn: MALLORY_ARN,
          eventId: randomUUID(),
          requestParameters: { keyId: unmanaged.keyArn, tags: [{ tagKey: 'n', tagValue: String(n) }] },
        }),
      );
    }
    const findings = await receiveFindings(world.sqs, pipeline.topic.queue.url);

    // Assess
    expect(
      findings
        .filter(({ finding }) => finding.keyArn === unmanaged.keyArn)
        .map(({ finding }) => [finding.kind, finding.severity]),
    ).toEqual([['unmanaged-key', 'low']]);
  });
});

/**
 * No way around the guard (issue 12), on moto: each attack of an attacker who holds kms:TagResource,
 * kms:UpdateAlias, kms:CreateGrant, kms:ScheduleKeyDeletion, kms:DisableKey or kms:CreateKey in the account
 * (and nothing on the guard) ends, within the one drift invocation that handles its event, in a high or
 * critical finding; a remediate-mode key is back in its desired state. Every event goes the production
 * way: a CloudTrail record on the bus -> the production drift rule pattern -> the drift handler (real KMS,
 * SNS and DynamoDB adapters, bindings in the state table) -> SNS -> the SQS inbox.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateGrantCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  ListGrantsCommand,
  ScheduleKeyDeletionCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import {
  createKeyWithPolicy,
  createWorldClients,
  crossAccountDecryptStatement,
  destroyWorldClients,
  type FindingNotification,
  kmsCallRecord,
  PUBLIC_DECRYPT_STATEMENT,
  policyWithStatement,
  putKeyPolicyRecord,
  receiveFindings,
  uniqueSuffix,
  WORLD_PLACEHOLDERS,
  type WorldKey,
  worldClientConfig,
  writeManifest,
} from '../../dev/world';
import type { DriftSummary } from '../../src/app/drift-handler';
import { DynamoBindingStore } from '../../src/aws/dynamo-bindings';
import { DynamoRemediationLedger } from '../../src/aws/dynamo-ledger';
import { createStateTable } from '../../src/aws/state-table';
import { type LoadedManifest, loadManifest } from '../../src/manifest';
import { comparePolicies } from '../../src/policy/compare';
import { motoEndpoint } from './moto-env';
import { buildGuard, type Guard, lambdaContext, temporaryDirectory } from './support/drift-guard';
import {
  createDriftPipeline,
  paymentsDesiredPolicy as desiredPolicy,
  livePolicy as livePolicyIn,
  PAYMENTS_POLICY_FILE,
  paymentsTemplate,
  routeThroughRule as routeThroughRuleOf,
  tamper as tamperIn,
} from './support/drift-world';

jest.setTimeout(60_000);

const MALLORY_ARN = `arn:aws:iam::${WORLD_PLACEHOLDERS.accountId}:user/mallory`;
const ADMIN_ARN = `arn:aws:iam::${WORLD_PLACEHOLDERS.accountId}:role/KMSAdminRole`;
const FOREIGN_ACCOUNT = '999988887777';

const world = createWorldClients(worldClientConfig(motoEndpoint()));
const suffix = uniqueSuffix();
const workDir = temporaryDirectory('kpg-drift-attacks-');
const tableName = `kpg-attacks-${suffix}`;
const tagKey = `kpg-attacks-${suffix}`;
let manifest: LoadedManifest;
let ledger: DynamoRemediationLedger;
let bindings: DynamoBindingStore;
let guard: Guard;
let pipeline: Awaited<ReturnType<typeof createDriftPipeline>>;

/** Keys by role: tag-bound, alias-bound (alert and remediate), a decoy, and keys for grants and state. */
const keys = new Map<string, WorldKey>();
const keyOf = (role: string): WorldKey => {
  const key = keys.get(role);
  if (!key) throw new Error(`no key for ${role}`);
  return key;
};
const aliasOf = (role: string) => `alias/kpg-attacks-${role}-${suffix}`;

async function deliver(
  record: Record<string, unknown>,
): Promise<{ summary: DriftSummary; findings: FindingNotification[] }> {
  const delivered = await routeThroughRuleOf(world, pipeline.route, [record]);
  expect(delivered).toHaveLength(1);
  const summary = (await guard.handler(delivered[0], lambdaContext(randomUUID()))) as DriftSummary;
  return { summary, findings: await receiveFindings(world.sqs, pipeline.topic.queue.url) };
}

function kinds(findings: FindingNotification[]): [string, string, string][] {
  return findings.map(({ finding }) => [finding.kind, finding.severity, finding.action]);
}

const livePolicy = (key: WorldKey): Promise<string> => livePolicyIn(world, key);

beforeAll(async () => {
  await createStateTable(world.dynamodb, tableName);
  for (const role of ['tagged', 'aliased', 'decoy', 'granted', 'deleted', 'disabled', 'granted-alert']) {
    keys.set(
      role,
      await createKeyWithPolicy(world.kms, {
        policy: desiredPolicy,
        ...(role === 'tagged' ? { tags: { [tagKey]: 'tagged' } } : { alias: aliasOf(role) }),
      }),
    );
  }
  const entry = (name: string, match: Record<string, unknown>, mode: 'alert' | 'remediate') => ({
    name: `${name}-${suffix}`,
    match,
    mode,
    policyFile: PAYMENTS_POLICY_FILE,
    policyTemplate: paymentsTemplate,
  });
  const manifestPath = writeManifest(workDir.dir, {
    unmanagedKeys: 'ignore',
    flapping: { maxReapplies: 3, windowMinutes: 60 },
    keys: [
      entry('tagged', { tag: { key: tagKey, value: 'tagged' } }, 'remediate'),
      entry('aliased', { alias: aliasOf('aliased') }, 'remediate'),
      entry('granted', { alias: aliasOf('granted') }, 'remediate'),
      entry('granted-alert', { alias: aliasOf('granted-alert') }, 'alert'),
      entry('deleted', { alias: aliasOf('deleted') }, 'remediate'),
      entry('disabled', { alias: aliasOf('disabled') }, 'remediate'),
    ],
  });
  manifest = loadManifest(manifestPath);
  ledger = new DynamoRemediationLedger({ tableName, client: world.dynamodb, window: manifest.flapping });
  bindings = new DynamoBindingStore(tableName, world.dynamodb);
  pipeline = await createDriftPipeline(world, 'attacks', suffix);
  guard = buildGuard({ manifest, topicArn: pipeline.topic.topicArn, ledger, bindings });
  // Right after deployment the guard's first look at each key (an event or the first audit) records its binding.
  for (const role of ['tagged', 'aliased', 'granted', 'granted-alert', 'deleted', 'disabled']) {
    const { findings } = await deliver(
      putKeyPolicyRecord({
        keyArn: keyOf(role).keyArn,
        actorArn: ADMIN_ARN,
        eventId: randomUUID(),
        policy: desiredPolicy,
      }),
    );
    expect(findings).toEqual([]);
  }
  expect((await bindings.list(WORLD_PLACEHOLDERS)).map((binding) => binding.entry).sort()).toEqual(
    ['tagged', 'aliased', 'granted', 'granted-alert', 'deleted', 'disabled']
      .map((name) => `${name}-${suffix}`)
      .sort(),
  );
});

afterAll(() => {
  guard.destroy();
  destroyWorldClients(world);
  workDir.remove();
});

describe('no way around the guard (moto, through the production rule, the handler and the SNS inbox)', () => {
  it('re-tagging a tag-bound key out of the manifest: critical binding-changed at once, and its widening is still restored', async () => {
    // Prepare
    const key = keyOf('tagged');
    await world.kms.send(new UntagResourceCommand({ KeyId: key.keyId, TagKeys: [tagKey] }));

    // Act
    const retag = await deliver(
      kmsCallRecord({
        eventName: 'UntagResource',
        keyArn: key.keyArn,
        actorArn: MALLORY_ARN,
        eventId: randomUUID(),
        requestParameters: { keyId: key.keyId, tagKeys: [tagKey] },
      }),
    );
    const { tampered, record } = await tamperIn(world, key, {
      statement: PUBLIC_DECRYPT_STATEMENT,
      actorArn: MALLORY_ARN,
    });
    const widen = await deliver(record);

    // Assess
    expect(kinds(retag.findings)).toEqual([['binding-changed', 'critical', 'alerted']]);
    expect(retag.findings[0]?.finding.binding).toMatchObject({
      entry: `tagged-${suffix}`,
      boundBy: `tag ${tagKey}=tagged`,
    });
    expect(kinds(widen.findings)).toEqual([
      ['binding-changed', 'critical', 'alerted'],
      ['remediated', 'critical', 'remediated'],
    ]);
    expect(widen.findings[1]?.finding.livePolicy).toBe(tampered);
    expect(comparePolicies(desiredPolicy, await livePolicy(key)).status).toBe('equivalent');
  });

  it('pointing the alias at a decoy, then widening the real key: critical binding-changed, the real key restored', async () => {
    // Prepare
    const real = keyOf('aliased');
    const decoy = keyOf('decoy');
    await world.kms.send(new UpdateAliasCommand({ AliasName: aliasOf('aliased'), TargetKeyId: decoy.keyId }));

    // Act
    const move = await deliver(
      kmsCallRecord({
        eventName: 'UpdateAlias',
        keyArn: decoy.keyArn,
        actorArn: MALLORY_ARN,
        eventId: randomUUID(),
        requestParameters: { aliasName: aliasOf('aliased'), targetKeyId: decoy.keyId },
        responseElements: { keyId: decoy.keyArn },
        resources: [
          {
            ARN: `arn:aws:kms:${WORLD_PLACEHOLDERS.region}:${WORLD_PLACEHOLDERS.accountId}:${aliasOf('aliased')}`,
          },
        ],
      }),
    );
    const { record } = await tamperIn(world, real, {
      statement: PUBLIC_DECRYPT_STATEMENT,
      actorArn: MALLORY_ARN,
    });
    const widen = await deliver(record);

    // Assess: the alias move touched both keys; the real one stays bound and is restored.
    expect(move.summary.keys?.map((checked) => checked.keyArn).sort()).toEqual(
      [decoy.keyArn, real.keyArn].sort(),
    );
    expect(
      move.findings
        .filter(({ finding }) => finding.keyArn === real.keyArn)
        .map(({ finding }) => [finding.kind, finding.severity]),
    ).toEqual([['binding-changed', 'critical']]);
    expect(kinds(widen.findings)).toEqual([
      ['binding-changed', 'critical', 'alerted'],
      ['remediated', 'critical', 'remediated'],
    ]);
    expect(comparePolicies(desiredPolicy, await livePolicy(real)).status).toBe('equivalent');
  });

  it.each([
    ['remediate', 'granted', 'remediated', 0],
    ['alert', 'granted-alert', 'alerted', 1],
  ] as const)(
    'a grant giving another account Decrypt (%s mode): critical grant-not-allowed',
    async (_mode, role, action, grantsLeft) => {
      // Prepare
      const key = keyOf(role);
      const grant = await world.kms.send(
        new CreateGrantCommand({
          KeyId: key.keyId,
          GranteePrincipal: `arn:aws:iam::${FOREIGN_ACCOUNT}:role/analytics`,
          Operations: ['Decrypt', 'GenerateDataKey'],
        }),
      );

      // Act
      const { findings } = await deliver(
        kmsCallRecord({
          eventName: 'CreateGrant',
          keyArn: key.keyArn,
          actorArn: MALLORY_ARN,
          eventId: randomUUID(),
          requestParameters: {
            keyId: key.keyId,
            granteePrincipal: `arn:aws:iam::${FOREIGN_ACCOUNT}:role/analytics`,
            operations: ['Decrypt', 'GenerateDataKey'],
          },
          responseElements: { grantId: grant.GrantId, keyId: key.keyArn },
        }),
      );

      // Assess
      expect(kinds(findings)).toEqual([['grant-not-allowed', 'critical', action]]);
      expect(findings[0]?.finding.grant).toMatchObject({
        grantId: grant.GrantId,
        operations: ['Decrypt', 'GenerateDataKey'],
      });
      const left = await world.kms.send(new ListGrantsCommand({ KeyId: key.keyId }));
      expect(left.Grants ?? []).toHaveLength(grantsLeft);
    },
  );

  it('scheduling a managed key for deletion: critical, and in remediate mode the deletion is cancelled and the key enabled', async () => {
    // Prepare
    const key = keyOf('deleted');
    await world.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 7 }));

    // Act
    const { findings } = await deliver(
      kmsCallRecord({
        eventName: 'ScheduleKeyDeletion',
        keyArn: key.keyArn,
        actorArn: MALLORY_ARN,
        eventId: randomUUID(),
        requestParameters: { keyId: key.keyId, pendingWindowInDays: 7 },
      }),
    );

    // Assess
    expect(kinds(findings)).toEqual([['key-state-changed', 'critical', 'remediated']]);
    const state = await world.kms.send(new DescribeKeyCommand({ KeyId: key.keyId }));
    expect(state.KeyMetadata?.KeyState).toBe('Enabled');
  });

  it('disabling a managed key: high, and in remediate mode the key is enabled again', async () => {
    // Prepare
    const key = keyOf('disabled');
    await world.kms.send(new DisableKeyCommand({ KeyId: key.keyId }));

    // Act
    const { findings } = await deliver(
      kmsCallRecord({
        eventName: 'DisableKey',
        keyArn: key.keyArn,
        actorArn: MALLORY_ARN,
        eventId: randomUUID(),
      }),
    );

    // Assess
    expect(kinds(findings)).toEqual([['key-state-changed', 'high', 'remediated']]);
    const state = await world.kms.send(new DescribeKeyCommand({ KeyId: key.keyId }));
    expect(state.KeyMetadata?.KeyState).toBe('Enabled');
  });

  it('a new key anyone may decrypt, that no entry manages: critical unmanaged-key though unmanagedKeys is ignore', async () => {
    // Prepare
    const created = await createKeyWithPolicy(world.kms, {
      policy: policyWithStatement(desiredPolicy, PUBLIC_DECRYPT_STATEMENT),
    });

    // Act
    const { findings } = await deliver(
      kmsCallRecord({
        eventName: 'CreateKey',
        keyArn: created.keyArn,
        actorArn: MALLORY_ARN,
        eventId: randomUUID(),
        requestParameters: { keySpec: 'SYMMETRIC_DEFAULT' },
        responseElements: { keyMetadata: { keyId: created.keyId, arn: created.keyArn } },
      }),
    );

    // Assess
    expect(kinds(findings)).toEqual([['unmanaged-key', 'critical', 'none']]);
    expect(findings[0]?.finding.details.join('\n')).toMatch(/Anyone in any AWS account may call kms:Decrypt/);
  });

  it('a forged event naming another account with a local key ID: nothing is read or written', async () => {
    // Prepare
    const key = keyOf('aliased');
    const foreignArn = key.keyArn.replace(WORLD_PLACEHOLDERS.accountId, FOREIGN_ACCOUNT);
    const before = await livePolicy(key);

    // Act
    const { summary, findings } = await deliver(
      putKeyPolicyRecord({
        keyArn: foreignArn,
        actorArn: MALLORY_ARN,
        eventId: randomUUID(),
        policy: policyWithStatement(desiredPolicy, crossAccountDecryptStatement(FOREIGN_ACCOUNT)),
      }),
    );

    // Assess
    expect(summary.status).toBe('not-served');
    expect(findings).toEqual([]);
    expect(await livePolicy(key)).toBe(before);
  });
});

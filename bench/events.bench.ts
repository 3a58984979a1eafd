/**
 * AWS calls per drift event, for every event kind the drift rule routes (docs/architecture.md#event-kinds):
 * the real drift handler as the composition root builds it (state table on moto: bindings, ledger, intents,
 * outbox, fold windows and event idempotency), one event per row, each on a key of its own whose binding
 * was recorded beforehand (as after the first audit). Every request the guard's KMS, SNS and DynamoDB
 * clients send is counted by operation (SDK middleware, before retries). The world's own calls (the
 * attacker's change) are not counted.
 *
 * Usage: npm run bench -- events
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateAliasCommand,
  CreateGrantCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyRotationCommand,
  PutKeyPolicyCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import { startMoto } from '../dev/moto-server';
import {
  createFindingsTopic,
  createKeyWithPolicy,
  createWorldClients,
  destroyWorldClients,
  drainQueue,
  kmsCallRecord,
  PUBLIC_DECRYPT_STATEMENT,
  policyWithStatement,
  putKeyPolicyRecord,
  readShippedPolicyTemplate,
  uniqueSuffix,
  WORLD_PLACEHOLDERS,
  type WorldClients,
  type WorldKey,
  worldClientConfig,
} from '../dev/world';
import { createDriftHandler } from '../src/app/drift-handler';
import { buildGuard } from '../src/app/guard-deps';
import { createStateTable } from '../src/aws/state-table';
import { guardRoleArn, loadManifest, renderPlaceholders } from '../src/manifest';
import { printAlignedTable } from './text-table';

const POLICY_FILE = 'payments-data.json';
const ADMIN = `arn:aws:iam::${WORLD_PLACEHOLDERS.accountId}:role/KMSAdminRole`;
const MALLORY = `arn:aws:iam::${WORLD_PLACEHOLDERS.accountId}:user/mallory`;
const FOREIGN = 'arn:aws:iam::999988887777:role/analytics';

interface Counter {
  names: string[];
}

/** Middleware that counts every command a client sends (before the SDK's retries), as `service:Operation`. */
function counting(service: string, into: Counter) {
  return <A, R>(next: (args: A) => Promise<R>, context: { commandName?: string }) =>
    async (args: A): Promise<R> => {
      into.names.push(`${service}:${(context.commandName ?? 'unknown').replace(/Command$/, '')}`);
      return next(args);
    };
}

function summarise(names: readonly string[], prefix: string): string {
  const counts = new Map<string, number>();
  for (const name of names.filter((entry) => entry.startsWith(prefix))) {
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return (
    [...counts].map(([name, n]) => `${name.slice(prefix.length)}${n > 1 ? ` x${n}` : ''}`).join(', ') || '—'
  );
}

function lambdaContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'kms-policy-guard-bench-drift',
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${WORLD_PLACEHOLDERS.region}:${WORLD_PLACEHOLDERS.accountId}:function:kms-policy-guard-bench-drift`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/kms-policy-guard-bench-drift',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** One row: what the attacker does to its key (not counted) and the CloudTrail record the guard gets. */
interface Scenario {
  event: string;
  what: string;
  /** Key role in the manifest (see ENTRIES). */
  role: string;
  act: (
    world: WorldClients,
    key: WorldKey,
    keys: ReadonlyMap<string, WorldKey>,
  ) => Promise<Record<string, unknown>>;
}

const ENTRIES: Record<string, { match: string; mode: string; extra?: string[] }> = {
  alert: { match: 'alias', mode: 'alert' },
  remediate: { match: 'alias', mode: 'remediate' },
  tagged: { match: 'tag', mode: 'remediate' },
  aliased: { match: 'alias', mode: 'remediate' },
  granted: { match: 'alias', mode: 'remediate' },
  deleted: { match: 'alias', mode: 'remediate' },
  disabled: { match: 'alias', mode: 'remediate' },
  rotated: { match: 'alias', mode: 'remediate', extra: ['    state:', '      rotation: true'] },
  replicated: { match: 'alias', mode: 'remediate' },
};

function record(eventName: string, key: WorldKey, extra: Record<string, unknown> = {}) {
  return kmsCallRecord({ eventName, keyArn: key.keyArn, actorArn: MALLORY, eventId: randomUUID(), ...extra });
}

function scenarios(desired: string, tagKey: string, aliasOf: (role: string) => string): Scenario[] {
  const widened = policyWithStatement(desired, PUBLIC_DECRYPT_STATEMENT);
  const put = async (world: WorldClients, key: WorldKey, policy: string, actor = MALLORY) => {
    await world.kms.send(
      new PutKeyPolicyCommand({ KeyId: key.keyId, PolicyName: 'default', Policy: policy }),
    );
    return putKeyPolicyRecord({ keyArn: key.keyArn, actorArn: actor, eventId: randomUUID(), policy });
  };
  return [
    {
      event: 'PutKeyPolicy',
      what: 'desired document re-written (in sync)',
      role: 'alert',
      act: (world, key) => put(world, key, desired, ADMIN),
    },
    {
      event: 'PutKeyPolicy',
      what: 'widened, alert mode',
      role: 'alert',
      act: (world, key) => put(world, key, widened),
    },
    {
      event: 'PutKeyPolicy',
      what: 'widened, remediate mode (restored)',
      role: 'remediate',
      act: (world, key) => put(world, key, widened),
    },
    {
      event: 'TagResource',
      what: 'an unrelated tag (binding unchanged)',
      role: 'tagged',
      act: async (world, key) => {
        await world.kms.send(
          new TagResourceCommand({ KeyId: key.keyId, Tags: [{ TagKey: 'team', TagValue: 'x' }] }),
        );
        return record('TagResource', key, {
          requestParameters: { keyId: key.keyId, tags: [{ tagKey: 'team', tagValue: 'x' }] },
        });
      },
    },
    {
      event: 'UntagResource',
      what: 'the binding tag removed (binding-changed)',
      role: 'tagged',
      act: async (world, key) => {
        await world.kms.send(new UntagResourceCommand({ KeyId: key.keyId, TagKeys: [tagKey] }));
        return record('UntagResource', key, { requestParameters: { keyId: key.keyId, tagKeys: [tagKey] } });
      },
    },
    {
      event: 'CreateAlias',
      what: 'a second alias on a managed key',
      role: 'aliased',
      act: async (world, key) => {
        const alias = `${aliasOf('aliased')}-second`;
        await world.kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key.keyId }));
        return record('CreateAlias', key, {
          requestParameters: { aliasName: alias, targetKeyId: key.keyId },
        });
      },
    },
    {
      event: 'UpdateAlias',
      what: "the entry's alias moved to a decoy (two keys)",
      role: 'aliased',
      act: async (world, key, keys) => {
        const decoy = keys.get('decoy');
        if (!decoy) throw new Error('no decoy key');
        await world.kms.send(
          new UpdateAliasCommand({ AliasName: aliasOf('aliased'), TargetKeyId: decoy.keyId }),
        );
        return record('UpdateAlias', decoy, {
          requestParameters: { aliasName: aliasOf('aliased'), targetKeyId: decoy.keyId },
          resources: [
            {
              ARN: `arn:aws:kms:${WORLD_PLACEHOLDERS.region}:${WORLD_PLACEHOLDERS.accountId}:${aliasOf('aliased')}`,
            },
            { ARN: decoy.keyArn },
            { ARN: key.keyArn },
          ],
        });
      },
    },
    {
      event: 'CreateGrant',
      what: 'Decrypt for another account (revoked)',
      role: 'granted',
      act: async (world, key) => {
        const grant = await world.kms.send(
          new CreateGrantCommand({ KeyId: key.keyId, GranteePrincipal: FOREIGN, Operations: ['Decrypt'] }),
        );
        return record('CreateGrant', key, {
          requestParameters: { keyId: key.keyId, granteePrincipal: FOREIGN, operations: ['Decrypt'] },
          responseElements: { grantId: grant.GrantId, keyId: key.keyArn },
        });
      },
    },
    {
      event: 'ScheduleKeyDeletion',
      what: 'deletion scheduled (cancelled, re-enabled)',
      role: 'deleted',
      act: async (world, key) => {
        await world.kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.keyId, PendingWindowInDays: 7 }));
        return record('ScheduleKeyDeletion', key, {
          requestParameters: { keyId: key.keyId, pendingWindowInDays: 7 },
        });
      },
    },
    {
      event: 'DisableKey',
      what: 'key disabled (enabled again)',
      role: 'disabled',
      act: async (world, key) => {
        await world.kms.send(new DisableKeyCommand({ KeyId: key.keyId }));
        return record('DisableKey', key, { requestParameters: { keyId: key.keyId } });
      },
    },
    {
      event: 'DisableKeyRotation',
      what: 'rotation off against state.rotation (restored)',
      role: 'rotated',
      act: async (world, key) => {
        await world.kms.send(new DisableKeyRotationCommand({ KeyId: key.keyId }));
        return record('DisableKeyRotation', key, { requestParameters: { keyId: key.keyId } });
      },
    },
    {
      event: 'EnableKeyRotation',
      what: 'rotation on, as declared (in sync)',
      role: 'rotated',
      act: async (world, key) => {
        await world.kms.send(new EnableKeyRotationCommand({ KeyId: key.keyId }));
        return record('EnableKeyRotation', key, { requestParameters: { keyId: key.keyId } });
      },
    },
    {
      event: 'ReplicateKey',
      what: 'into a Region with no guard',
      role: 'replicated',
      act: async (_world, key) =>
        record('ReplicateKey', key, { requestParameters: { keyId: key.keyId, replicaRegion: 'ap-south-1' } }),
    },
    {
      event: 'CreateKey',
      what: 'a new key no entry manages, anyone may decrypt',
      role: 'new',
      act: async (_world, key) =>
        record('CreateKey', key, {
          requestParameters: { keySpec: 'SYMMETRIC_DEFAULT' },
          responseElements: { keyMetadata: { keyId: key.keyId, arn: key.keyArn } },
        }),
    },
  ];
}

export async function run(): Promise<void> {
  const moto = await startMoto();
  const config = worldClientConfig(moto.endpoint);
  const world = createWorldClients(config);
  const dir = mkdtempSync(join(tmpdir(), 'kms-guard-bench-events-'));
  const suffix = uniqueSuffix();
  const tableName = `kpg-bench-events-${suffix}`;
  const tagKey = `kpg-bench-${suffix}`;
  const aliasOf = (role: string) => `alias/kpg-bench-${role}-${suffix}`;
  const template = readShippedPolicyTemplate(POLICY_FILE);
  const desired = renderPlaceholders(template, WORLD_PLACEHOLDERS, POLICY_FILE);
  const counter: Counter = { names: [] };
  try {
    await createStateTable(world.dynamodb, tableName);
    const keys = new Map<string, WorldKey>();
    for (const role of Object.keys(ENTRIES)) {
      const tagged = ENTRIES[role]?.match === 'tag';
      keys.set(
        role,
        await createKeyWithPolicy(world.kms, {
          policy: desired,
          ...(tagged ? { tags: { [tagKey]: role } } : { alias: aliasOf(role) }),
        }),
      );
    }
    keys.set('decoy', await createKeyWithPolicy(world.kms, { policy: desired }));
    keys.set(
      'new',
      await createKeyWithPolicy(world.kms, {
        policy: policyWithStatement(desired, PUBLIC_DECRYPT_STATEMENT),
      }),
    );
    await world.kms.send(new EnableKeyRotationCommand({ KeyId: keys.get('rotated')?.keyId }));
    writeFileSync(join(dir, POLICY_FILE), template);
    const manifestPath = join(dir, 'manifest.yaml');
    writeFileSync(
      manifestPath,
      [
        'unmanagedKeys: report',
        'adminPrincipals:',
        '  - "arn:{{Partition}}:iam::{{AccountId}}:role/KMSAdminRole"',
        'keys:',
        ...Object.entries(ENTRIES).flatMap(([role, entry]) => [
          `  - name: ${role}`,
          entry.match === 'tag'
            ? `    match: { tag: { key: ${tagKey}, value: ${role} } }`
            : `    match: { alias: ${aliasOf(role)} }`,
          `    mode: ${entry.mode}`,
          `    policy: ${POLICY_FILE}`,
          ...(entry.extra ?? []),
        ]),
      ].join('\n'),
    );
    const manifest = loadManifest(manifestPath);
    const topic = await createFindingsTopic(world, {
      topicName: `kpg-bench-events-${suffix}`,
      queueName: `kpg-bench-events-${suffix}`,
    });
    const logger = new Logger({ serviceName: 'kms-policy-guard', logLevel: 'CRITICAL' });
    const guard = buildGuard({
      manifest,
      aws: config,
      logger,
      repoRoot: dir,
      topicArn: topic.topicArn,
      stateTable: tableName,
      stabilization: { attempts: 6, delayMs: 20, requiredStableReads: 2, maxDelayMs: 160 },
      guardedRegions: [config.region],
    });
    const idempotencyClient = new DynamoDBClient(config);
    const step = { step: 'initialize' as const };
    guard.kms.middlewareStack.add(counting('kms', counter), { ...step, name: 'benchCountKms' });
    guard.sns.middlewareStack.add(counting('sns', counter), { ...step, name: 'benchCountSns' });
    guard.stateTable?.client.middlewareStack.add(counting('dynamodb', counter), {
      ...step,
      name: 'benchCountDynamo',
    });
    idempotencyClient.middlewareStack.add(counting('dynamodb', counter), {
      ...step,
      name: 'benchCountIdempotency',
    });
    const handler = createDriftHandler(
      {
        ...guard.deps,
        logger,
        region: config.region,
        guardRoleArn: guardRoleArn(WORLD_PLACEHOLDERS),
      },
      {
        timeoutEarlyInMillis: 0,
        idempotency: { tableName, client: idempotencyClient, onMissingEventId: 'run-unprotected' },
      },
    );
    const deliver = (record: Record<string, unknown>) =>
      handler(
        {
          version: '0',
          id: randomUUID(),
          'detail-type': 'AWS API Call via CloudTrail',
          source: 'aws.kms',
          account: WORLD_PLACEHOLDERS.accountId,
          time: new Date().toISOString(),
          region: config.region,
          resources: [],
          detail: record,
        },
        lambdaContext(),
      );
    // The guard's first look at each managed key records its binding (as the first audit does).
    for (const role of Object.keys(ENTRIES)) {
      const key = keys.get(role);
      if (key)
        await deliver(
          putKeyPolicyRecord({ keyArn: key.keyArn, actorArn: ADMIN, eventId: randomUUID(), policy: desired }),
        );
    }
    await drainQueue(world.sqs, topic.queue.url);

    const rows: string[][] = [];
    for (const scenario of scenarios(desired, tagKey, aliasOf)) {
      const key = keys.get(scenario.role);
      if (!key) throw new Error(`no key for ${scenario.role}`);
      const eventRecord = await scenario.act(world, key, keys);
      counter.names.length = 0;
      const started = performance.now();
      const summary = (await deliver(eventRecord)) as { status?: string; results?: { status?: string }[] };
      const elapsed = performance.now() - started;
      const names = [...counter.names];
      const findings = await drainQueue(world.sqs, topic.queue.url);
      const kmsAndSns = names.filter((name) => name.startsWith('kms:') || name.startsWith('sns:')).length;
      rows.push([
        scenario.event,
        scenario.what,
        String(findings.length),
        String(kmsAndSns),
        summarise(names, 'kms:'),
        summarise(names, 'sns:'),
        summarise(names, 'dynamodb:'),
        `${Math.round(elapsed)} ms`,
        summary.status ?? summary.results?.map((result) => result.status).join(',') ?? '?',
      ]);
    }
    console.log('AWS calls per drift event, by event kind (state table as deployed; one event per row)\n');
    printAlignedTable(
      ['event', 'what happened', 'findings', 'KMS+SNS', 'KMS', 'SNS', 'DynamoDB', 'time', 'outcome'],
      rows,
    );
    guard.destroy();
    idempotencyClient.destroy();
  } finally {
    destroyWorldClients(world);
    rmSync(dir, { recursive: true, force: true });
    await moto.stop();
  }
}

/**
 * The real-time guard end to end against moto: a key policy changed behind the guard's back, the
 * CloudTrail record put on an event bus, routed by the drift rule (KMS_POLICY_CHANGE_EVENT_PATTERN)
 * to SQS, the EventBridge event as delivered run through the drift handler (createDriftHandler with
 * the real KMS and SNS adapters), and the finding read back from an SQS subscriber of the SNS topic.
 *
 * Deviation from AWS: moto lets PutEvents use `source: aws.kms` (AWS reserves it for CloudTrail), so
 * the rule pattern is exactly the production one.
 */

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as z from 'zod';
import {
  createWorldClients,
  crossAccountDecryptStatement,
  destroyWorldClients,
  eventBridgeEnvelope,
  type FindingsTopic,
  type KmsEventRoute,
  PUBLIC_DECRYPT_STATEMENT,
  policyWithStatement,
  putKeyPolicyRecord,
  receiveDeliveredEvents,
  receiveFindings,
  uniqueSuffix,
  WORLD_PLACEHOLDERS,
  type WorldKey,
  worldClientConfig,
} from '../../dev/world';
import type { GuardMode } from '../../src/core/key';
import { loadManifest } from '../../src/manifest';
import { comparePolicies } from '../../src/policy/compare';
import { motoEndpoint } from './moto-env';
import {
  buildGuard,
  countOf,
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
  type Tampering,
  tamper as tamperIn,
} from './support/drift-world';

jest.setTimeout(60_000);

const MALLORY_ARN = `arn:aws:iam::${WORLD_PLACEHOLDERS.accountId}:user/mallory`;
const MALLORY_IP = '203.0.113.7';
const PARTNER_ACCOUNT = '999988887777';
const MODES = { alert: 'alert', remediate: 'remediate', 'dry-run': 'dry-run' } as const satisfies Record<
  GuardMode,
  GuardMode
>;

const world = createWorldClients(worldClientConfig(motoEndpoint()));
const suffix = uniqueSuffix();
const workDir = temporaryDirectory('kpg-drift-flow-');
let keys = new Map<GuardMode, WorldKey>();
let route: KmsEventRoute;
let topic: FindingsTopic;
let guard: Guard;

const keyFor = (mode: GuardMode): WorldKey => keyNamed(keys, mode);
const livePolicy = (key: WorldKey): Promise<string> => livePolicyIn(world, key);
const routeThroughRule = (records: Record<string, unknown>[]): Promise<unknown[]> =>
  routeThroughRuleOf(world, route, records);

/** "Someone" (mallory) changes the key policy directly in KMS; returns the document and its record. */
function tamper(
  key: WorldKey,
  statement: Record<string, unknown>,
  sourceIPAddress?: string,
): Promise<Tampering> {
  return tamperIn(world, key, {
    statement,
    actorArn: MALLORY_ARN,
    ...(sourceIPAddress ? { sourceIPAddress } : {}),
  });
}

/** Runs the handler on the one event the rule delivered. */
async function invokeOnDelivered(record: Record<string, unknown>) {
  const delivered = await routeThroughRule([record]);
  expect(delivered).toHaveLength(1);
  return guard.handler(delivered[0], lambdaContext(randomUUID()));
}

beforeAll(async () => {
  const created = await createGuardedKeys(world, {
    prefix: 'flow',
    suffix,
    modes: MODES,
    dir: workDir.dir,
    description: (mode) => `drift-flow ${mode}`,
  });
  keys = created.keys;
  ({ route, topic } = await createDriftPipeline(world, 'flow', suffix));
  guard = buildGuard({ manifest: loadManifest(created.manifestPath), topicArn: topic.topicArn });
});

afterAll(() => {
  guard?.destroy();
  destroyWorldClients(world);
  workDir.remove();
  jest.restoreAllMocks();
});

beforeEach(() => {
  guard.kmsCommands.length = 0;
  guard.logs.length = 0;
});

describe('the real-time guard on moto (CloudTrail -> EventBridge rule -> drift handler -> SNS)', () => {
  it('builds CloudTrail records with the fields of the KMS Developer Guide example (test/events/put-key-policy.json)', () => {
    // Prepare
    const example = z
      .object({ detail: z.looseObject({ userIdentity: z.looseObject({}) }) })
      .parse(JSON.parse(readFileSync(path.join(__dirname, '../events/put-key-policy.json'), 'utf8')));
    const key = keyFor('alert');

    // Act
    const record = putKeyPolicyRecord({
      keyArn: key.keyArn,
      actorArn: MALLORY_ARN,
      eventId: 'e-1',
      policy: '{}',
    });

    // Assess
    expect(Object.keys(record).sort()).toEqual(Object.keys(example.detail).sort());
    expect(Object.keys(z.looseObject({}).parse(record.userIdentity)).sort()).toEqual(
      Object.keys(example.detail.userIdentity).sort(),
    );
    expect(record).toMatchObject({
      eventName: 'PutKeyPolicy',
      eventID: 'e-1',
      awsRegion: 'us-east-1',
      recipientAccountId: WORLD_PLACEHOLDERS.accountId,
      resources: [{ ARN: key.keyArn, type: 'AWS::KMS::Key' }],
      requestParameters: { keyId: key.keyId, policyName: 'default', policy: '{}' },
    });
  });

  it.each([
    {
      change: 'principal * allowed kms:Decrypt',
      statement: { ...PUBLIC_DECRYPT_STATEMENT },
      principal: '*',
      gained: ['kms:Decrypt'],
      flags: { anyone: true },
    },
    {
      change: `account ${PARTNER_ACCOUNT} allowed kms:Decrypt and kms:GenerateDataKey`,
      statement: crossAccountDecryptStatement(PARTNER_ACCOUNT),
      principal: `AWS:arn:aws:iam::${PARTNER_ACCOUNT}:root`,
      gained: ['kms:Decrypt', 'kms:GenerateDataKey'],
      flags: { crossAccount: true },
    },
  ])(
    'ALERT: reports $change with the actor and leaves the live policy as it is',
    async ({ statement, principal, gained, flags }) => {
      // Prepare
      const key = keyFor('alert');
      const { tampered, record, eventId } = await tamper(key, statement, MALLORY_IP);

      // Act
      const delivered = await routeThroughRule([record]);
      const summary = await guard.handler(delivered[0], lambdaContext(randomUUID()));
      const findings = await receiveFindings(world.sqs, topic.queue.url);

      // Assess
      expect(delivered).toHaveLength(1);
      expect(delivered[0]).toMatchObject({
        source: 'aws.kms',
        'detail-type': 'AWS API Call via CloudTrail',
        detail: { eventID: eventId, eventName: 'PutKeyPolicy' },
      });
      expect(summary).toMatchObject({
        status: 'published',
        eventId,
        keyArn: key.keyArn,
        finding: { kind: 'drift' },
      });
      expect(await livePolicy(key)).toBe(tampered);
      expect(countOf(guard.kmsCommands, 'PutKeyPolicyCommand')).toBe(0);
      expect(findings).toHaveLength(1);
      const [notification] = findings;
      expect(notification?.topicArn).toBe(topic.topicArn);
      expect(notification?.subject).toMatch(/drift.*by user\/mallory$/i);
      expect(notification?.finding).toMatchObject({
        kind: 'drift',
        mode: 'alert',
        action: 'alerted',
        keyArn: key.keyArn,
        keyName: `flow-alert-${suffix}`,
        aliases: [`alias/kpg-flow-alert-${suffix}`],
        livePolicy: tampered,
        desiredPolicy,
        actor: { arn: MALLORY_ARN, sourceIPAddress: MALLORY_IP, eventID: eventId, isGuard: false },
      });
      const access = notification?.finding.diff?.access.find((change) => change.principal === principal);
      expect(access).toMatchObject({ lost: [], ...flags });
      expect(access?.gained).toEqual(expect.arrayContaining(gained));
      expect(notification?.attributes).toEqual({
        severity: notification?.finding.severity,
        keyId: key.keyId,
        action: 'alerted',
        kind: 'drift',
      });
      expect(['high', 'critical']).toContain(notification?.finding.severity);
    },
  );

  it('REMEDIATE: restores the desired policy and reports the overwritten document verbatim', async () => {
    // Prepare
    const key = keyFor('remediate');
    const { tampered, record, eventId } = await tamper(key, { ...PUBLIC_DECRYPT_STATEMENT });

    // Act
    const summary = await invokeOnDelivered(record);
    const findings = await receiveFindings(world.sqs, topic.queue.url);

    // Assess
    expect(summary).toMatchObject({
      status: 'published',
      finding: { kind: 'remediated', action: 'remediated' },
    });
    const live = await livePolicy(key);
    expect(comparePolicies(desiredPolicy, live).status).toBe('equivalent');
    expect(countOf(guard.kmsCommands, 'PutKeyPolicyCommand')).toBe(1);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.finding).toMatchObject({
      kind: 'remediated',
      action: 'remediated',
      mode: 'remediate',
      livePolicy: tampered,
      actor: { arn: MALLORY_ARN, eventID: eventId },
    });
    expect(findings[0]?.attributes).toMatchObject({ action: 'remediated', keyId: key.keyId });
  });

  it("ends the guard's own follow-up PutKeyPolicy event as an in-sync no-op: no second finding, no write", async () => {
    // Prepare
    const key = keyFor('remediate');
    const { record } = await tamper(key, crossAccountDecryptStatement(PARTNER_ACCOUNT));
    await invokeOnDelivered(record);
    const remediationFindings = await receiveFindings(world.sqs, topic.queue.url);
    const writesByRemediation = countOf(guard.kmsCommands, 'PutKeyPolicyCommand');
    const guardEventId = randomUUID();
    // What CloudTrail records for the guard's write: its role session, the desired document.
    const guardRecord = putKeyPolicyRecord({
      keyArn: key.keyArn,
      actorArn: GUARD_SESSION_ARN,
      eventId: guardEventId,
      policy: desiredPolicy,
      sourceIPAddress: 'lambda.amazonaws.com',
    });

    // Act
    const summary = await invokeOnDelivered(guardRecord);
    const followUpFindings = await receiveFindings(world.sqs, topic.queue.url);

    // Assess
    expect(remediationFindings.map((notification) => notification.finding.kind)).toEqual(['remediated']);
    expect(writesByRemediation).toBe(1);
    expect(summary).toMatchObject({ status: 'in-sync', eventId: guardEventId });
    expect(summary.finding).toBeUndefined();
    expect(followUpFindings).toHaveLength(0);
    expect(countOf(guard.kmsCommands, 'PutKeyPolicyCommand')).toBe(1);
    expect(guard.logs).toContainEqual(
      expect.objectContaining({ message: 'guard_change_confirmed', eventId: guardEventId }),
    );
    expect(await receiveDeliveredEvents(world.sqs, route.queue.url)).toHaveLength(0);
  });

  it('does not route a failed PutKeyPolicy (errorCode) and rejects it with a classified log line when fed directly', async () => {
    // Prepare
    const key = keyFor('remediate');
    const eventId = randomUUID();
    const failed = putKeyPolicyRecord({
      keyArn: key.keyArn,
      actorArn: MALLORY_ARN,
      eventId,
      policy: policyWithStatement(desiredPolicy, { ...PUBLIC_DECRYPT_STATEMENT }),
      errorCode: 'AccessDenied',
      errorMessage:
        'User: arn:aws:iam::123456789012:user/mallory is not authorized to perform: kms:PutKeyPolicy',
    });

    // Act
    const delivered = await routeThroughRule([failed]);
    const summary = await guard.handler(eventBridgeEnvelope(failed), lambdaContext(randomUUID()));
    const findings = await receiveFindings(world.sqs, topic.queue.url);

    // Assess
    expect(delivered).toHaveLength(0);
    expect(summary).toEqual({
      status: 'rejected',
      reason: 'api-call-failed',
      eventId,
      eventName: 'PutKeyPolicy',
    });
    expect(guard.logs).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        message: 'event_rejected',
        reason: 'api-call-failed',
        errorCode: 'AccessDenied',
        eventId,
      }),
    );
    expect(guard.kmsCommands).toEqual([]);
    expect(findings).toHaveLength(0);
    expect(comparePolicies(desiredPolicy, await livePolicy(key)).status).toBe('equivalent');
  });

  it('DRY-RUN: reports what remediation would do and changes nothing', async () => {
    // Prepare
    const key = keyFor('dry-run');
    const { tampered, record, eventId } = await tamper(key, crossAccountDecryptStatement(PARTNER_ACCOUNT));

    // Act
    const summary = await invokeOnDelivered(record);
    const findings = await receiveFindings(world.sqs, topic.queue.url);

    // Assess
    expect(summary).toMatchObject({ status: 'published', finding: { kind: 'would-remediate' } });
    expect(await livePolicy(key)).toBe(tampered);
    expect(countOf(guard.kmsCommands, 'PutKeyPolicyCommand')).toBe(0);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.finding).toMatchObject({
      kind: 'would-remediate',
      mode: 'dry-run',
      action: 'alerted',
      livePolicy: tampered,
      actor: { arn: MALLORY_ARN, eventID: eventId },
    });
    expect(findings[0]?.finding.details.join('\n')).toMatch(
      /Remediation would: DescribeKey .* then PutKeyPolicy/,
    );
    expect(findings[0]?.attributes).toMatchObject({ kind: 'would-remediate', action: 'alerted' });
  });

  it('REMEDIATE: a live policy naming the key\'s own ARN as Resource is in sync with a desired "*": no finding, no write', async () => {
    // Prepare: the desired document as the CloudTrail and Config guides write it, each Resource the key's ARN
    const key = keyFor('remediate');
    const desired = JSON.parse(desiredPolicy) as { Statement: Record<string, unknown>[] };
    const document = JSON.stringify(
      {
        ...desired,
        Statement: desired.Statement.map((statement) => ({ ...statement, Resource: key.keyArn })),
      },
      null,
      2,
    );
    const { record, eventId } = await tamperIn(world, key, { document, actorArn: MALLORY_ARN });

    // Act
    const summary = await invokeOnDelivered(record);
    const findings = await receiveFindings(world.sqs, topic.queue.url);

    // Assess
    expect(summary).toMatchObject({ status: 'in-sync', eventId });
    expect(summary.finding).toBeUndefined();
    expect(findings).toHaveLength(0);
    expect(countOf(guard.kmsCommands, 'PutKeyPolicyCommand')).toBe(0);
    expect(await livePolicy(key)).toBe(document);
    expect(guard.logs).toContainEqual(expect.objectContaining({ message: 'key_in_sync', eventId }));
  });
});

/**
 * AWS Security Hub on moto (docs/architecture.md#security-hub): the drift handler as production builds it
 * (buildGuard with `securityHub` on, its own Security Hub client pointed at moto), fed CloudTrail records
 * routed by the drift rule. What a person sees in Security Hub is read back with GetFindings.
 *
 * moto 5.2 stores findings by ID (a second import of an ID updates it) but honours no GetFindings filter
 * and takes findings whether or not Security Hub is enabled (docs/testing.md#where-moto-differs-from-aws-and-how-the-tests-handle-it): the
 * findings of a key are picked here by ID, and "not enabled" is the SDK's own InvalidAccessException, thrown
 * by a middleware on the Security Hub client the guard is given.
 */
import { randomUUID } from 'node:crypto';
import { type AwsSecurityFinding, GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import {
  createWorldClients,
  destroyWorldClients,
  PUBLIC_DECRYPT_STATEMENT,
  receiveFindings,
  uniqueSuffix,
  WORLD_PLACEHOLDERS,
  type WorldKey,
  worldClientConfig,
} from '../../dev/world';
import type { GuardMode } from '../../src/core/key';
import { auditKeys } from '../../src/guard/audit-keys';
import { flushCompliance } from '../../src/guard/compliance';
import { loadManifest } from '../../src/manifest';
import { motoEndpoint } from './moto-env';
import { buildGuard, type Guard, lambdaContext, temporaryDirectory } from './support/drift-guard';
import {
  createDriftPipeline,
  createGuardedKeys,
  keyNamed,
  paymentsDesiredPolicy,
  routeThroughRule,
  tamper,
} from './support/drift-world';

jest.setTimeout(60_000);

const MALLORY_ARN = `arn:aws:iam::${WORLD_PLACEHOLDERS.accountId}:user/mallory`;
const ALICE_ARN = `arn:aws:iam::${WORLD_PLACEHOLDERS.accountId}:user/alice`;
const { accountId, region } = WORLD_PLACEHOLDERS;
const PRODUCT_ARN = `arn:aws:securityhub:${region}:${accountId}:product/${accountId}/default`;
const MODES = { alert: 'alert', remediate: 'remediate', unsubscribed: 'alert' } as const satisfies Record<
  string,
  GuardMode
>;

const config = worldClientConfig(motoEndpoint());
const world = createWorldClients(config);
const securityHub = new SecurityHubClient(config);
const suffix = uniqueSuffix();
const workDir = temporaryDirectory('kpg-security-hub-');
let keys = new Map<keyof typeof MODES, WorldKey>();
let manifestPath: string;
let route: Awaited<ReturnType<typeof createDriftPipeline>>['route'];
let topic: Awaited<ReturnType<typeof createDriftPipeline>>['topic'];
let guard: Guard;

/** Every Security Hub finding of the key (moto ignores filters: picked by ID here). */
async function findingsOf(key: WorldKey): Promise<AwsSecurityFinding[]> {
  const found: AwsSecurityFinding[] = [];
  let nextToken: string | undefined;
  do {
    const page = await securityHub.send(
      new GetFindingsCommand({ MaxResults: 100, ...(nextToken ? { NextToken: nextToken } : {}) }),
    );
    found.push(
      ...(page.Findings ?? []).filter((finding) => finding.Id?.startsWith(`kms-policy-guard/${key.keyArn}/`)),
    );
    nextToken = page.NextToken;
  } while (nextToken);
  return found;
}

/** Runs the handler on the one event the rule delivered for the record. */
async function deliver(target: Guard, record: Record<string, unknown>) {
  const delivered = await routeThroughRule(world, route, [record]);
  expect(delivered).toHaveLength(1);
  return { event: delivered[0], summary: await target.handler(delivered[0], lambdaContext(randomUUID())) };
}

/** A person writes the desired policy back by hand; the CloudTrail record of it. */
async function fixByHand(key: WorldKey): Promise<Record<string, unknown>> {
  const fixed = await tamper(world, key, { document: paymentsDesiredPolicy, actorArn: ALICE_ARN });
  return fixed.record;
}

beforeAll(async () => {
  const created = await createGuardedKeys(world, {
    prefix: 'sechub',
    suffix,
    modes: MODES,
    dir: workDir.dir,
  });
  keys = created.keys;
  manifestPath = created.manifestPath;
  ({ route, topic } = await createDriftPipeline(world, 'sechub', suffix));
  guard = buildGuard({ manifest: loadManifest(manifestPath), topicArn: topic.topicArn, securityHub: {} });
});

afterAll(() => {
  guard?.destroy();
  securityHub.destroy();
  destroyWorldClients(world);
  workDir.remove();
});

describe('Security Hub on moto (drift -> FAILED, back in its desired state -> PASSED/ARCHIVED)', () => {
  it("ALERT: a drift creates one FAILED, ACTIVE finding for that key, in its account's default product, naming the actor", async () => {
    // Prepare
    const key = keyNamed(keys, 'alert');
    const { record } = await tamper(world, key, {
      statement: { ...PUBLIC_DECRYPT_STATEMENT },
      actorArn: MALLORY_ARN,
    });

    // Act
    const { summary } = await deliver(guard, record);

    // Assess
    expect(summary.status).toBe('published');
    const findings = await findingsOf(key);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      Id: `kms-policy-guard/${key.keyArn}/key-policy`,
      ProductArn: PRODUCT_ARN,
      AwsAccountId: accountId,
      Compliance: { Status: 'FAILED' },
      RecordState: 'ACTIVE',
      Severity: { Label: 'CRITICAL' },
      Resources: [{ Type: 'AwsKmsKey', Id: key.keyArn }],
    });
    expect(findings[0]?.Description).toContain('user/mallory');
    expect(findings[0]?.SourceUrl).toContain(encodeURIComponent(key.keyId));
  });

  it('ALERT: a duplicate delivery of the same event leaves one finding for the key, not two', async () => {
    // Prepare
    const key = keyNamed(keys, 'alert');
    const { record } = await tamper(world, key, {
      statement: { ...PUBLIC_DECRYPT_STATEMENT },
      actorArn: MALLORY_ARN,
    });
    const { event } = await deliver(guard, record);

    // Act: EventBridge delivers the same event again (at least once)
    await guard.handler(event, lambdaContext(randomUUID()));

    // Assess
    const findings = await findingsOf(key);
    expect(findings.map((finding) => [finding.Id, finding.RecordState])).toEqual([
      [`kms-policy-guard/${key.keyArn}/key-policy`, 'ACTIVE'],
    ]);
  });

  it('ALERT: the next in-sync check, after someone fixed the key by hand, makes the same finding PASSED and ARCHIVED', async () => {
    // Prepare
    const key = keyNamed(keys, 'alert');
    const { record } = await tamper(world, key, {
      statement: { ...PUBLIC_DECRYPT_STATEMENT },
      actorArn: MALLORY_ARN,
    });
    await deliver(guard, record);
    expect((await findingsOf(key)).map((finding) => finding.RecordState)).toEqual(['ACTIVE']);

    // Act
    const { summary } = await deliver(guard, await fixByHand(key));

    // Assess
    expect(summary.status).toBe('in-sync');
    const findings = await findingsOf(key);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      Id: `kms-policy-guard/${key.keyArn}/key-policy`,
      Compliance: { Status: 'PASSED' },
      RecordState: 'ARCHIVED',
      Severity: { Label: 'INFORMATIONAL' },
    });
    expect(findings[0]?.Title).toMatch(/^Resolved: /);
  });

  it("REMEDIATE: a CLI audit's FAILED would-remediate finding becomes PASSED and ARCHIVED by the guard's restore, under the same ID", async () => {
    // Prepare: the drift, seen first by a read-only audit (kms-guard audit --security-hub)
    const key = keyNamed(keys, 'remediate');
    const { record } = await tamper(world, key, {
      statement: { ...PUBLIC_DECRYPT_STATEMENT },
      actorArn: MALLORY_ARN,
    });
    const audit = buildGuard({
      manifest: loadManifest(manifestPath),
      topicArn: topic.topicArn,
      securityHub: {},
    });
    await auditKeys(audit.deps, {
      runId: `cli-${suffix}`,
      trigger: 'cli',
      readOnly: true,
      concurrency: 2,
      reportUnmanaged: false,
      location: { partition: 'aws', region, accountId },
    });
    expect(await flushCompliance(audit.deps.compliance, { error: () => undefined })).toBeUndefined();
    audit.destroy();
    expect(
      (await findingsOf(key)).map((finding) => [finding.Compliance?.Status, finding.RecordState]),
    ).toEqual([['FAILED', 'ACTIVE']]);

    // Act
    const { summary } = await deliver(guard, record);

    // Assess
    expect(summary).toMatchObject({ status: 'published', finding: { kind: 'remediated' } });
    const findings = await findingsOf(key);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      Id: `kms-policy-guard/${key.keyArn}/key-policy`,
      Compliance: { Status: 'PASSED' },
      RecordState: 'ARCHIVED',
    });
    expect(findings[0]?.ProductFields?.['kms-policy-guard/kind']).toBe('remediated');
  });

  it('a Security Hub that is not enabled gives one clear guard-degraded finding over two events, and no invocation throws', async () => {
    // Prepare: Security Hub answers as AWS does for an account that never enabled it
    const key = keyNamed(keys, 'unsubscribed');
    const notEnabled = new SecurityHubClient(config);
    notEnabled.middlewareStack.add(
      () => async () => {
        throw Object.assign(new Error(`Account ${accountId} is not subscribed to AWS Security Hub`), {
          name: 'InvalidAccessException',
          $fault: 'client',
          $metadata: { httpStatusCode: 401 },
        });
      },
      { step: 'initialize', name: 'notSubscribed' },
    );
    const unsubscribed = buildGuard({
      manifest: loadManifest(manifestPath),
      topicArn: topic.topicArn,
      securityHub: { clientFor: () => notEnabled },
    });
    await receiveFindings(world.sqs, topic.queue.url);
    const first = await tamper(world, key, {
      statement: { ...PUBLIC_DECRYPT_STATEMENT },
      actorArn: MALLORY_ARN,
    });
    const second = await tamper(world, key, {
      statement: { ...PUBLIC_DECRYPT_STATEMENT, Sid: 'Again' },
      actorArn: MALLORY_ARN,
    });

    // Act
    const results = [
      (await deliver(unsubscribed, first.record)).summary,
      (await deliver(unsubscribed, second.record)).summary,
    ];

    // Assess
    expect(results.map((summary) => summary.status)).toEqual(['published', 'published']);
    const published = (await receiveFindings(world.sqs, topic.queue.url)).map(({ finding }) => finding);
    const degraded = published.filter((finding) => finding.kind === 'guard-degraded');
    expect(published.filter((finding) => finding.kind === 'drift')).toHaveLength(2);
    expect(degraded).toHaveLength(1);
    expect(degraded[0]?.title).toContain('AWS Security Hub does not accept findings');
    expect(degraded[0]?.details.join('\n')).toContain(
      `aws securityhub enable-security-hub --region ${region}`,
    );
    expect(await findingsOf(key)).toEqual([]);
    unsubscribed.destroy();
    notEnabled.destroy();
  });
});

/**
 * The drift Lambda end to end in-process: real-shaped EventBridge events (test/events) through middy,
 * Powertools context injection, event classification, checkKey and the real adapters over mocked SDK
 * clients. Asserts the summary, the published finding, the structured log lines and the AWS calls.
 */

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { PublishCommandInput } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { readDriftConfig } from '../../../src/app/config';
import { type createDriftHandler, initDriftHandler } from '../../../src/app/drift-handler';
import type { Finding } from '../../../src/core/finding';
import type { GuardMode } from '../../../src/core/key';
import type { CheckKeyDeps } from '../../../src/guard/check-key';
import { GuardConfigError, PublishFailedError, RetryableAwsError } from '../../../src/guard/errors';

import { ManifestError } from '../../../src/manifest';
import { runCli, tempFiles } from '../cli/helpers';
import {
  awsCalls,
  awsError,
  desiredPolicyAsKmsReturnsIt,
  driftedPolicyText,
  EVENTS,
  FIXTURES,
  GetKeyPolicyCommand,
  KEY_ARN,
  KEY_ID,
  kmsMock,
  kmsRestoresDesiredAfter,
  onlyFinding,
  PublishCommand,
  PutKeyPolicyCommand,
  publishedInputs,
  REPO_ROOT,
  resetMocks,
  snsMock,
  TOPIC_ARN,
} from '../guard/harness';
import { LOCKOUT_TEMPLATE } from '../support/policy-templates';
import { driftHandlerOverMocks } from './drift-harness';

const VALID_ENV = {
  TOPIC_ARN,
  AWS_REGION: 'us-west-2',
  MANIFEST_PATH: path.join(FIXTURES, 'manifest.yaml'),
  LAMBDA_TASK_ROOT: REPO_ROOT,
  POWERTOOLS_DEV: 'true',
  POWERTOOLS_LOG_LEVEL: 'CRITICAL',
};

const CONTEXT: Context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'kms-policy-guard-dev-drift',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-west-2:111122223333:function:kms-policy-guard-dev-drift',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/kms-policy-guard-dev-drift',
  logStreamName: '2026/03/02/[$LATEST]abcdef',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

function event(name: string): unknown {
  return JSON.parse(readFileSync(path.join(EVENTS, name), 'utf8'));
}

interface Setup {
  handler: ReturnType<typeof createDriftHandler>;
  logs: Record<string, unknown>[];
  deps: CheckKeyDeps;
}

/** A handler over fresh adapters; its Powertools Logger writes JSON lines we capture. */
function setup(mode: GuardMode, region = 'us-west-2', guardedRegions: string[] = [region]): Setup {
  const logs: Record<string, unknown>[] = [];
  const logger = new Logger({ serviceName: 'kms-policy-guard', logLevel: 'DEBUG' });
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    jest.spyOn(logger, level).mockImplementation((message, ...extra) => {
      logs.push({ level, message, ...Object.assign({}, ...extra) });
    });
  }
  const { handler, guard } = driftHandlerOverMocks(mode, logger, { region, guardedRegions });
  return { handler, logs, deps: guard.deps };
}

beforeEach(() => {
  resetMocks();
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('drift handler', () => {
  it('alerts on a drifted key from a PutKeyPolicy event (DescribeKey, GetKeyPolicy, ListGrants, Publish)', async () => {
    // Prepare
    const { handler, logs } = setup('alert');
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

    // Act
    const summary = await handler(event('put-key-policy.json'), CONTEXT);

    // Assess
    expect(summary).toMatchObject({
      status: 'published',
      eventName: 'PutKeyPolicy',
      eventId: 'c217db1f-903f-4a2f-8f88-9580182d6313',
      keyArn: KEY_ARN,
      finding: { kind: 'drift', action: 'alerted' },
    });
    expect(awsCalls()).toEqual({ DescribeKey: 1, GetKeyPolicy: 1, ListGrants: 1, Publish: 1 });
    expect(publishedInputs()[0]?.Subject).toMatch(/Key policy drift: payments-data by user\/Alice$/);
    const published = logs.find((line) => line.message === 'finding_published');
    expect(published).toMatchObject({
      keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
      eventId: 'c217db1f-903f-4a2f-8f88-9580182d6313',
      actor: 'arn:aws:iam::111122223333:user/Alice',
      kind: 'drift',
    });
  });

  it('logs an in-sync key as a no-op after DescribeKey, GetKeyPolicy and ListGrants', async () => {
    // Prepare
    const { handler, logs } = setup('alert');
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });

    // Act
    const summary = await handler(event('put-key-policy.json'), CONTEXT);

    // Assess
    expect(summary).toMatchObject({ status: 'in-sync' });
    expect(summary.finding).toBeUndefined();
    expect(awsCalls()).toEqual({ DescribeKey: 1, GetKeyPolicy: 1, ListGrants: 1 });
    expect(logs.map((line) => line.message)).toContain('key_in_sync');
  });

  it('remediates in remediate mode and reports the overwritten document', async () => {
    // Prepare
    const { handler } = setup('remediate');
    kmsRestoresDesiredAfter(driftedPolicyText());

    // Act
    const summary = await handler(event('put-key-policy.json'), CONTEXT);

    // Assess
    expect(summary.finding).toMatchObject({ kind: 'remediated', action: 'remediated' });
    expect(onlyFinding().livePolicy).toBe(driftedPolicyText());
    expect(awsCalls()).toEqual({
      DescribeKey: 1,
      GetKeyPolicy: 4,
      PutKeyPolicy: 1,
      ListGrants: 1,
      Publish: 1,
    });
  });

  it('describes the would-be remediation in dry-run mode', async () => {
    // Prepare
    const { handler } = setup('dry-run');
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

    // Act
    const summary = await handler(event('create-key.json'), CONTEXT);

    // Assess
    expect(summary).toMatchObject({
      eventName: 'CreateKey',
      finding: { kind: 'would-remediate', action: 'alerted' },
    });
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });

  /** put-key-policy-by-guard.json, and the document it says the guard's role wrote. */
  function guardWrite(): { record: unknown; written: string } {
    const record = event('put-key-policy-by-guard.json') as {
      detail: { requestParameters: { policy: string } };
    };
    return { record, written: record.detail.requestParameters.policy };
  }

  it('ends the guard’s own PutKeyPolicy event as a no-op when it wrote what it intended (reads only, no write, no message)', async () => {
    // Prepare
    const { handler, logs, deps } = setup('remediate');
    const { record, written } = guardWrite();
    // The ledger entry the guard wrote before its PutKeyPolicy names what it wrote: the write intent.
    await deps.ledger.append(KEY_ARN, driftedPolicyText(), new Date(), { desiredPolicy: written });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });

    // Act
    const summary = await handler(record, CONTEXT);

    // Assess
    expect(summary).toMatchObject({ status: 'in-sync' });
    expect(awsCalls()).toEqual({ DescribeKey: 1, GetKeyPolicy: 1, ListGrants: 1 });
    expect(logs.map((line) => line.message)).toContain('guard_change_confirmed');
  });

  it('raises a critical guard-impersonated finding for a write by the guard’s role it never intended, and checks the key', async () => {
    // Prepare
    const { handler, deps } = setup('remediate');
    const { record } = guardWrite();
    await deps.ledger.append(KEY_ARN, driftedPolicyText(), new Date(), { desiredPolicy: 'another document' });
    kmsRestoresDesiredAfter(driftedPolicyText());

    // Act
    const summary = await handler(record, CONTEXT);

    // Assess: the impersonated write is restored like anyone's.
    expect(summary.keys?.[0]?.findings.map((finding) => [finding.kind, finding.severity])).toEqual([
      ['guard-impersonated', 'critical'],
      ['remediated', 'critical'],
    ]);
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(1);
  });

  /** replicate-key.json as the primary's Region (us-west-2 here) records it, the replica in `replicaRegion`. */
  function replicateKeyEvent(replicaRegion: string): unknown {
    const record = event('replicate-key.json') as { region: string; detail: Record<string, unknown> };
    record.region = 'us-west-2';
    record.detail.awsRegion = 'us-west-2';
    record.detail.requestParameters = { keyId: KEY_ID, replicaRegion };
    record.detail.resources = [{ accountId: '111122223333', type: 'AWS::KMS::Key', ARN: KEY_ARN }];
    return record;
  }

  it('raises a critical replica-unguarded finding for a ReplicateKey into a Region where no guard runs', async () => {
    // Prepare
    const { handler } = setup('remediate');
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });

    // Act
    const summary = await handler(replicateKeyEvent('ap-south-2'), CONTEXT);

    // Assess
    expect(summary).toMatchObject({ status: 'published', keyArn: KEY_ARN });
    expect(onlyFinding()).toMatchObject({
      kind: 'replica-unguarded',
      severity: 'critical',
      keyState: { replicaRegion: 'ap-south-2' },
    });
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });

  it('checks the primary of a ReplicateKey into a guarded Region like any other key', async () => {
    // Prepare
    const { handler } = setup('alert', 'us-west-2', ['us-west-2', 'eu-west-1']);
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });

    // Act
    const summary = await handler(replicateKeyEvent('eu-west-1'), CONTEXT);

    // Assess
    expect(summary).toMatchObject({ status: 'in-sync', keyArn: KEY_ARN });
    expect(publishedInputs()).toHaveLength(0);
  });

  it('never reads a key its event places in another account, whatever the key ID (a forged event)', async () => {
    // Prepare
    const { handler, logs } = setup('remediate');
    const record = event('put-key-policy.json') as { detail: { resources: { ARN: string }[] } };
    for (const resource of record.detail.resources)
      resource.ARN = resource.ARN.replace('111122223333', '999988887777');

    // Act
    const summary = await handler(record, CONTEXT);

    // Assess
    expect(summary).toMatchObject({ status: 'not-served' });
    expect(kmsMock.calls()).toHaveLength(0);
    expect(publishedInputs()).toHaveLength(0);
    expect(logs.map((line) => line.message)).toContain('key_not_served');
  });

  it.each([
    ['put-key-policy-error.json', 'api-call-failed'],
    ['malformed-wrong-source.json', 'wrong-source'],
    ['malformed-unknown-event-name.json', 'unsupported-event-name'],
    ['malformed-missing-key.json', 'missing-key'],
    ['malformed-detail.json', 'malformed-detail'],
    ['malformed-no-envelope.json', 'malformed-envelope'],
  ])('rejects %s with one classified log line and no AWS call', async (file, reason) => {
    // Prepare
    const { handler, logs } = setup('remediate');

    // Act
    const summary = await handler(event(file), CONTEXT);

    // Assess
    expect(summary).toMatchObject({ status: 'rejected', reason });
    expect(awsCalls()).toEqual({});
    expect(logs.filter((line) => line.message === 'event_rejected')).toEqual([
      expect.objectContaining({ level: 'warn', reason }),
    ]);
  });

  it('publishes a critical guard-locked-out finding on AccessDenied', async () => {
    // Prepare
    const { handler } = setup('alert');
    kmsMock
      .on(GetKeyPolicyCommand)
      .rejects(awsError('AccessDeniedException', 'not authorized to perform kms:GetKeyPolicy'));

    // Act
    const summary = await handler(event('put-key-policy.json'), CONTEXT);

    // Assess
    expect(summary.finding).toMatchObject({
      kind: 'guard-locked-out',
      severity: 'critical',
      action: 'failed',
    });
  });

  it('returns normally with a key-unavailable finding for a key pending deletion', async () => {
    // Prepare
    const { handler } = setup('alert');
    kmsMock
      .on(GetKeyPolicyCommand)
      .rejects(awsError('KMSInvalidStateException', `${KEY_ARN} is pending deletion.`));

    // Act
    const summary = await handler(event('put-key-policy.json'), CONTEXT);

    // Assess
    expect(summary.finding).toMatchObject({ kind: 'key-unavailable', action: 'none' });
  });

  it('fails the invocation on throttling that outlived the SDK retries, and succeeds when Lambda retries', async () => {
    // Prepare
    const { handler } = setup('alert');
    kmsMock
      .on(GetKeyPolicyCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .resolves({ Policy: driftedPolicyText() });

    // Act
    const first = handler(event('put-key-policy.json'), CONTEXT);
    await expect(first).rejects.toBeInstanceOf(RetryableAwsError);
    const retried = await handler(event('put-key-policy.json'), CONTEXT);

    // Assess
    expect(retried.finding).toMatchObject({ kind: 'drift' });
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(1);
  });

  it('fails the invocation when Publish fails', async () => {
    // Prepare
    const { handler } = setup('alert');
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });
    snsMock
      .on(PublishCommand)
      .rejects(awsError('KMSThrottlingException', 'SNS could not encrypt', 'client', 400));

    // Act
    const invocation = handler(event('put-key-policy.json'), CONTEXT);

    // Assess
    await expect(invocation).rejects.toBeInstanceOf(PublishFailedError);
  });
});

describe('drift handler and the outbox (docs/architecture.md#outbox)', () => {
  const SERVED = { partition: 'aws', region: 'us-west-2', accountId: '111122223333' };

  /** A finding an earlier invocation held because SNS refused it. */
  const EARLIER: Finding = {
    id: '0b9d1f6e-5c1e-4c8a-9f43-9d2a1c7e5b10:1234abcd-12ab-34cd-56ef-1234567890ab:key-state-changed',
    kind: 'key-state-changed',
    severity: 'high',
    title: '[HIGH] Key state changed: payments-data by user/Alice',
    keyArn: KEY_ARN,
    keyId: KEY_ID,
    aliases: [],
    region: 'us-west-2',
    account: '111122223333',
    mode: 'remediate',
    action: 'remediated',
    trigger: 'event',
    details: ['EnableKey: the key is enabled again.'],
    time: '2026-03-02T09:59:00.000Z',
  };

  /** A drifted key KMS restores on PutKeyPolicy; its writes and SNS publishes in the order they were made. */
  function recordOrder(refuseKind?: string): string[] {
    const order: string[] = [];
    kmsRestoresDesiredAfter(driftedPolicyText());
    const restored = desiredPolicyAsKmsReturnsIt();
    kmsMock.on(GetKeyPolicyCommand).callsFake(() => ({
      Policy: order.includes('PutKeyPolicy') ? restored : driftedPolicyText(),
    }));
    kmsMock.on(PutKeyPolicyCommand).callsFake(() => {
      order.push('PutKeyPolicy');
      return {};
    });
    snsMock.on(PublishCommand).callsFake((input: PublishCommandInput) => {
      const kind = input.MessageAttributes?.kind?.StringValue ?? '?';
      order.push(`Publish ${kind}`);
      if (kind === refuseKind) throw awsError('InternalError', 'SNS is down', 'server', 500);
      return { MessageId: 'message-1' };
    });
    return order;
  }

  it('restores the key first, then delivers what an earlier invocation held, and releases it', async () => {
    // Prepare
    const { handler, deps } = setup('remediate');
    const order = recordOrder();
    await deps.outbox.hold(EARLIER);

    // Act
    const summary = await handler(event('put-key-policy.json'), CONTEXT);

    // Assess
    expect(summary.finding).toMatchObject({ kind: 'remediated' });
    expect(order).toEqual(['PutKeyPolicy', 'Publish remediated', 'Publish key-state-changed']);
    expect(await deps.outbox.pending(SERVED)).toEqual([]);
  });

  it('fails the invocation when SNS still refuses a held finding, after the key was restored; the finding stays held', async () => {
    // Prepare
    const { handler, deps } = setup('remediate');
    const order = recordOrder('key-state-changed');
    await deps.outbox.hold(EARLIER);

    // Act
    const invocation = handler(event('put-key-policy.json'), CONTEXT);

    // Assess
    await expect(invocation).rejects.toBeInstanceOf(PublishFailedError);
    expect(order).toEqual(['PutKeyPolicy', 'Publish remediated', 'Publish key-state-changed']);
    expect((await deps.outbox.pending(SERVED)).map((finding) => finding.id)).toEqual([EARLIER.id]);
  });
});

describe('drift handler module init', () => {
  it('loads the manifest and builds the handler from the environment', async () => {
    expect(typeof (await initDriftHandler(VALID_ENV))).toBe('function');
  });

  it('resolves MANIFEST_PATH against the task root and defaults it to policies/manifest.yaml', () => {
    const config = readDriftConfig({
      TOPIC_ARN,
      AWS_REGION: 'eu-west-1',
      LAMBDA_TASK_ROOT: '/var/task',
    });
    expect(config).toMatchObject({ manifestPath: '/var/task/policies/manifest.yaml', region: 'eu-west-1' });
    expect(config.guardRoleArn).toBeUndefined();
  });

  async function initError(env: Record<string, string | undefined>): Promise<Error> {
    try {
      await initDriftHandler(env);
    } catch (error) {
      return error as Error;
    }
    throw new Error('module init did not fail');
  }

  it('fails init loudly on an invalid manifest', async () => {
    const error = await initError({
      ...VALID_ENV,
      MANIFEST_PATH: path.join(FIXTURES, 'manifest-invalid.yaml'),
    });
    expect(error.name).toBe(ManifestError.name);
    expect(error.message).toMatch(/unmanagedKeys must be ignore or report/);
  });

  it('fails init loudly on a desired document that kms-guard validate refuses (KMS305 in an alert entry)', async () => {
    // Prepare: an alert-mode entry whose document leaves nobody able to change the key policy.
    const dir = tempFiles({
      'manifest.yaml':
        'keys:\n  - name: a\n    match: { alias: alias/a }\n    mode: alert\n    policy: a.json\n',
      'a.json': LOCKOUT_TEMPLATE,
    });
    const manifestPath = path.join(dir, 'manifest.yaml');

    // Act
    const error = await initError({ ...VALID_ENV, MANIFEST_PATH: manifestPath });
    const validate = await runCli(['validate', manifestPath]);

    // Assess
    expect(error.name).toBe(ManifestError.name);
    expect(error.message).toMatch(/a\.json: KMS305 \$\.Statement: Lockout risk: .* — refused/);
    expect(validate.code).toBe(1);
    expect(validate.stdout).toMatch(/a\.json: KMS305/);
  });

  it('fails init loudly without a topic', async () => {
    const error = await initError({ ...VALID_ENV, TOPIC_ARN: undefined });
    expect(error.name).toBe(GuardConfigError.name);
    expect(error.message).toMatch(/TOPIC_ARN/);
  });
});

/**
 * The guard's own health on moto, through the real adapters and the audit function's handler: a stack
 * laid out as serverless.yml makes it (the drift rule with the production pattern targeting the drift
 * function, the audit schedule targeting the audit function, the three functions with their reserved
 * concurrency, a logging CloudTrail trail on an S3 bucket, the findings topic with a confirmed SQS
 * subscription), then one attack at a time and the next audit's findings as SNS delivered them.
 *
 * A Region of its own (eu-west-3): DescribeTrails and the default bus's rules list only what this file
 * made. What moto cannot show is unit-tested over aws-sdk-client-mock (test/unit/aws/*-health.test.ts):
 * a subscription PendingConfirmation (moto confirms e-mail subscriptions at once), organization trails,
 * and calls that are throttled or denied.
 */

import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  CloudTrailClient,
  CreateTrailCommand,
  PutEventSelectorsCommand,
  StartLoggingCommand,
  StopLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  DisableRuleCommand,
  EnableRuleCommand,
  EventBridgeClient,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { CreateAliasCommand, CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateFunctionCommand, LambdaClient, PutFunctionConcurrencyCommand } from '@aws-sdk/client-lambda';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Context } from 'aws-lambda';
import {
  createFindingsTopic,
  type FindingNotification,
  type FindingsTopic,
  readShippedPolicyTemplate,
  receiveFindings,
  writeManifest,
} from '../../dev/world';
import { createAuditHandler } from '../../src/app/account-audit-handler';
import { buildGuard } from '../../src/app/guard-deps';
import { buildGuardHealth, type GuardHealthConfig } from '../../src/app/guard-health';
import { GUARD_METRICS } from '../../src/app/metrics';
import { KMS_POLICY_CHANGE_EVENT_PATTERN } from '../../src/guard/event-pattern';
import { loadManifest, renderDesiredPolicy } from '../../src/manifest';
import { type EmfLine, emfLinesOf, metricNames } from '../unit/support/emf';
import { MOTO_ACCOUNT_ID, motoClientConfig } from './moto-env';
import { recordingLogger } from './support/drift-guard';

const REGION = 'eu-west-3';
const RUN = randomBytes(4).toString('hex');
const PREFIX = `kms-policy-guard-h${RUN}`;
const DRIFT_RULE = `${PREFIX}-drift`;
const AUDIT_RULE = `${PREFIX}-audit`;
const FUNCTION_NAMES = [`${PREFIX}-drift`, `${PREFIX}-audit`, `${PREFIX}-notify-slack`];
const functionArn = (name: string) => `arn:aws:lambda:${REGION}:${MOTO_ACCOUNT_ID}:function:${name}`;
const DRIFT_FUNCTION_ARN = functionArn(`${PREFIX}-drift`);
const AUDIT_FUNCTION_ARN = functionArn(`${PREFIX}-audit`);
const TRAIL = `guard-health-${RUN}`;
const TRAIL_ARN = `arn:aws:cloudtrail:${REGION}:${MOTO_ACCOUNT_ID}:trail/${TRAIL}`;
const ALL_MANAGEMENT_EVENTS = [{ ReadWriteType: 'All' as const, IncludeManagementEvents: true }];

const aws = motoClientConfig(REGION);
const events = new EventBridgeClient(aws);
const lambda = new LambdaClient(aws);
const iam = new IAMClient(aws);
const s3 = new S3Client({ ...aws, forcePathStyle: true });
const cloudTrail = new CloudTrailClient(aws);
const kms = new KMSClient(aws);
const sns = new SNSClient(aws);
const sqs = new SQSClient(aws);

/** What serverless.yml deploys, made by hand on moto. */
async function deployStack(): Promise<void> {
  const { Role } = await iam.send(
    new CreateRoleCommand({
      RoleName: `${PREFIX}-role`,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
    }),
  );
  for (const [index, name] of FUNCTION_NAMES.entries()) {
    // moto never runs them here: the code only has to be there.
    await lambda.send(
      new CreateFunctionCommand({
        FunctionName: name,
        Runtime: 'nodejs22.x',
        Role: Role?.Arn,
        Handler: 'handlers/audit.handler',
        Code: { ZipFile: new TextEncoder().encode('not run on moto') },
      }),
    );
    await lambda.send(
      new PutFunctionConcurrencyCommand({
        FunctionName: name,
        ReservedConcurrentExecutions: index === 0 ? 5 : 1,
      }),
    );
  }
  await events.send(
    new PutRuleCommand({
      Name: DRIFT_RULE,
      EventPattern: JSON.stringify(KMS_POLICY_CHANGE_EVENT_PATTERN),
      State: 'ENABLED',
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: DRIFT_RULE,
      Targets: [{ Id: 'DriftLambdaFunction', Arn: DRIFT_FUNCTION_ARN }],
    }),
  );
  await events.send(
    new PutRuleCommand({ Name: AUDIT_RULE, ScheduleExpression: 'rate(1 hour)', State: 'ENABLED' }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: AUDIT_RULE,
      Targets: [{ Id: 'AuditLambdaFunction', Arn: AUDIT_FUNCTION_ARN }],
    }),
  );
  const bucket = `guard-health-${RUN}`;
  await s3.send(
    new CreateBucketCommand({ Bucket: bucket, CreateBucketConfiguration: { LocationConstraint: REGION } }),
  );
  await cloudTrail.send(new CreateTrailCommand({ Name: TRAIL, S3BucketName: bucket }));
  await cloudTrail.send(
    new PutEventSelectorsCommand({ TrailName: TRAIL, EventSelectors: ALL_MANAGEMENT_EVENTS }),
  );
  await cloudTrail.send(new StartLoggingCommand({ Name: TRAIL }));
}

/** One key under the manifest, in sync, so the audit has something to check. */
async function writeManifestWithKey(dir: string): Promise<string> {
  const manifestPath = writeManifest(dir, {
    unmanagedKeys: 'ignore',
    keys: [
      {
        name: 'app-logs',
        match: { alias: `alias/${PREFIX}-logs` },
        mode: 'alert',
        policyFile: 'app-logs.json',
        policyTemplate: readShippedPolicyTemplate('app-logs.json'),
      },
    ],
  });
  const [entry] = loadManifest(manifestPath).keys;
  if (!entry) throw new Error('the manifest has no key');
  const policy = renderDesiredPolicy(entry, { partition: 'aws', region: REGION, accountId: MOTO_ACCOUNT_ID });
  const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Policy: policy }));
  await kms.send(
    new CreateAliasCommand({ AliasName: `alias/${PREFIX}-logs`, TargetKeyId: KeyMetadata?.KeyId }),
  );
  return manifestPath;
}

function context(): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: `${PREFIX}-audit`,
    functionVersion: '$LATEST',
    invokedFunctionArn: AUDIT_FUNCTION_ARN,
    memoryLimitInMB: '512',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${PREFIX}-audit`,
    logStreamName: '2026/03/02/[$LATEST]guardhealth',
    getRemainingTimeInMillis: () => 600_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

interface AuditRun {
  findings: FindingNotification[];
  metrics: EmfLine[];
}

describe('guard health on moto: the audit finds what blinds or silences the guard', () => {
  let dir = '';
  let topic: FindingsTopic;
  let audit: () => Promise<AuditRun>;
  let release: () => void = () => undefined;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'kms-guard-health-'));
    await deployStack();
    topic = await createFindingsTopic(
      { sns, sqs },
      { topicName: `${PREFIX}-findings`, queueName: `${PREFIX}-inbox` },
    );
    const manifest = loadManifest(await writeManifestWithKey(dir));
    const { logger } = recordingLogger();
    const guard = buildGuard({ manifest, aws, logger, repoRoot: dir, topicArn: topic.topicArn });
    const healthConfig: GuardHealthConfig = {
      region: REGION,
      topicArn: topic.topicArn,
      driftRuleName: DRIFT_RULE,
      driftFunctionArn: DRIFT_FUNCTION_ARN,
      auditRuleName: AUDIT_RULE,
      auditFunctionArn: AUDIT_FUNCTION_ARN,
      functionNames: FUNCTION_NAMES,
    };
    const health = buildGuardHealth(healthConfig, aws);
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const metrics = new Metrics({ namespace: GUARD_METRICS.namespace, serviceName: GUARD_METRICS.service });
    delete process.env.POWERTOOLS_METRICS_DISABLED;
    const handler = createAuditHandler(
      {
        ...guard.deps,
        logger,
        health: health.probe,
        metrics,
        region: REGION,
        concurrency: 2,
        reportUnmanaged: false,
      },
      { timeoutEarlyInMillis: 0 },
    );
    release = () => {
      guard.destroy();
      health.destroy();
    };
    audit = async () => {
      const scheduled = {
        version: '0',
        id: randomUUID(),
        'detail-type': 'Scheduled Event',
        source: 'aws.events',
        account: MOTO_ACCOUNT_ID,
        time: new Date().toISOString(),
        region: REGION,
        resources: [`arn:aws:events:${REGION}:${MOTO_ACCOUNT_ID}:rule/${AUDIT_RULE}`],
        detail: {},
      };
      const { lines, outcome } = await emfLinesOf(() => handler(scheduled, context()));
      if (outcome.status === 'rejected') throw outcome.reason;
      return { findings: await receiveFindings(sqs, topic.queue.url), metrics: lines };
    };
  });

  afterAll(() => {
    release();
    for (const client of [events, lambda, iam, s3, cloudTrail, kms, sns, sqs]) client.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  function degraded(run: AuditRun): FindingNotification | undefined {
    return run.findings.find((notification) => notification.finding.kind === 'guard-degraded');
  }

  function heartbeats(run: AuditRun): number {
    return run.metrics.filter((line) => metricNames(line).includes(GUARD_METRICS.auditHeartbeat)).length;
  }

  it('passes every check of the stack as deployed: no guard finding, one heartbeat', async () => {
    // Act
    const run = await audit();

    // Assess
    expect(run.findings.map((notification) => notification.finding.kind)).toEqual(['audit-summary']);
    expect(run.findings[0]?.finding.details).toContain('Guard health: 9 checks, all passed.');
    expect(run.findings[0]?.finding.details).toContain(`Drift rule ${DRIFT_RULE}: ENABLED.`);
    expect(heartbeats(run)).toBe(1);
  });

  it('reports a rewritten drift-rule pattern as a critical guard-degraded finding in the next audit', async () => {
    // Prepare: someone narrows the rule to CreateKey; PutKeyPolicy no longer reaches the guard.
    await events.send(
      new PutRuleCommand({
        Name: DRIFT_RULE,
        EventPattern: JSON.stringify({
          source: ['aws.kms'],
          'detail-type': ['AWS API Call via CloudTrail'],
          detail: { eventSource: ['kms.amazonaws.com'], eventName: ['CreateKey'] },
        }),
        State: 'ENABLED',
      }),
    );

    // Act
    const run = await audit();
    await events.send(
      new PutRuleCommand({
        Name: DRIFT_RULE,
        EventPattern: JSON.stringify(KMS_POLICY_CHANGE_EVENT_PATTERN),
        State: 'ENABLED',
      }),
    );

    // Assess
    const notification = degraded(run);
    expect(notification?.finding).toMatchObject({
      kind: 'guard-degraded',
      severity: 'critical',
      title: '[CRITICAL] Guard degraded: 1 gap: drift rule pattern',
      region: REGION,
      account: MOTO_ACCOUNT_ID,
    });
    expect(notification?.attributes).toMatchObject({ kind: 'guard-degraded', severity: 'critical' });
    const details = notification?.finding.details ?? [];
    expect(details[1]).toBe(
      `1. drift rule pattern: the event pattern of rule ${DRIFT_RULE} is not the guard's, so KMS changes it does not match never reach the drift function: detail.errorCode is missing; detail.eventName lacks "PutKeyPolicy", "ReplicateKey", "TagResource", "UntagResource", "CreateAlias", "UpdateAlias", "DeleteAlias", "CreateGrant", "ScheduleKeyDeletion", "DisableKey", "EnableKeyRotation", "DisableKeyRotation"`,
    );
    expect(details[2]).toMatch(/^ {3}Fix: Redeploy the stack \(serverless deploy\)/);
    expect(run.findings.map((item) => item.finding.kind)).not.toContain('guard-disabled');
    // The audit itself was complete: it still beats.
    expect(heartbeats(run)).toBe(1);
  });

  it('reports a stopped CloudTrail trail as guard-degraded naming the trail', async () => {
    // Prepare
    await cloudTrail.send(new StopLoggingCommand({ Name: TRAIL }));

    // Act
    const run = await audit();
    await cloudTrail.send(new StartLoggingCommand({ Name: TRAIL }));

    // Assess
    const finding = degraded(run)?.finding;
    expect(finding).toMatchObject({
      severity: 'critical',
      title: '[CRITICAL] Guard degraded: 1 gap: CloudTrail trail',
    });
    expect(finding?.details[1]).toMatch(
      new RegExp(
        `^1\\. CloudTrail trail: no CloudTrail trail delivers ${REGION}'s KMS management write events, so EventBridge receives none and the drift rule never fires: trail ${TRAIL_ARN} is not logging since \\d{4}-`,
      ),
    );
    expect(finding?.details[2]).toBe(
      `   Fix: Start it: aws cloudtrail start-logging --name ${TRAIL_ARN}, then find who called cloudtrail:StopLogging.`,
    );
  });

  it('reports event selectors that exclude KMS, a function throttled to 0 and a disabled schedule, all in one finding', async () => {
    // Prepare
    await cloudTrail.send(
      new PutEventSelectorsCommand({
        TrailName: TRAIL,
        EventSelectors: [
          { ...ALL_MANAGEMENT_EVENTS[0], ExcludeManagementEventSources: ['kms.amazonaws.com'] },
        ],
      }),
    );
    await lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: `${PREFIX}-drift`, ReservedConcurrentExecutions: 0 }),
    );
    await events.send(new DisableRuleCommand({ Name: AUDIT_RULE }));

    // Act
    const run = await audit();
    await cloudTrail.send(
      new PutEventSelectorsCommand({ TrailName: TRAIL, EventSelectors: ALL_MANAGEMENT_EVENTS }),
    );
    await lambda.send(
      new PutFunctionConcurrencyCommand({ FunctionName: `${PREFIX}-drift`, ReservedConcurrentExecutions: 5 }),
    );
    await events.send(new EnableRuleCommand({ Name: AUDIT_RULE }));

    // Assess
    const finding = degraded(run)?.finding;
    expect(finding?.title).toBe(
      `[CRITICAL] Guard degraded: 3 gaps: audit schedule, reserved concurrency of ${PREFIX}-drift, CloudTrail trail`,
    );
    const gaps = (finding?.details ?? []).filter((line) => /^\d\. /.test(line));
    expect(gaps).toEqual([
      `1. audit schedule: the audit's schedule rule ${AUDIT_RULE} is DISABLED: no audit runs after this one`,
      `2. reserved concurrency of ${PREFIX}-drift: the function ${PREFIX}-drift has a reserved concurrency of 0: every invocation is throttled, it never runs`,
      `3. CloudTrail trail: no CloudTrail trail delivers ${REGION}'s KMS management write events, so EventBridge receives none and the drift rule never fires: trail ${TRAIL_ARN}: its event selectors log no KMS management write event (management events need ReadWriteType All or WriteOnly, and kms.amazonaws.com must not be excluded)`,
    ]);
  });

  it('is healthy again once every gap is closed', async () => {
    // Act
    const run = await audit();

    // Assess
    expect(run.findings.map((notification) => notification.finding.kind)).toEqual(['audit-summary']);
    expect(heartbeats(run)).toBe(1);
  });
});

/**
 * The audit Lambda in-process: a real-shaped scheduled EventBridge event through middy, Powertools
 * context injection, auditKeys, and the real KMS / SNS / EventBridge adapters over mocked SDK clients.
 * Asserts the environment contract, what is published, and that an incomplete audit throws at the end.
 */
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import {
  BatchImportFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { createAuditHandler } from '../../../src/app/account-audit-handler';
import { initAuditHandler } from '../../../src/app/audit-handler';
import { readAuditConfig } from '../../../src/app/config';
import { buildGuard, type GuardWiring } from '../../../src/app/guard-deps';
import { GUARD_METRICS } from '../../../src/app/metrics';
import { EventBridgeRuleHealth } from '../../../src/aws/rule-health';
import { AuditIncompleteError } from '../../../src/guard/audit-keys';
import { GuardConfigError, RetryableAwsError } from '../../../src/guard/errors';
import { KMS_POLICY_CHANGE_EVENT_PATTERN } from '../../../src/guard/event-pattern';
import { InMemoryRemediationLedger } from '../../../src/guard/memory-ledger';
import {
  awsError,
  desiredPolicyAsKmsReturnsIt,
  FIXTURES,
  fixtureManifest,
  GetKeyPolicyCommand,
  InstantClock,
  KEY_ID,
  kmsMock,
  ListAliasesCommand,
  ListResourceTagsCommand,
  publishedFindings,
  REPO_ROOT,
  resetMocks,
  TOPIC_ARN,
} from '../guard/harness';
import { emfLinesOf, metricNames } from '../support/emf';

const DRIFT_FUNCTION_ARN = 'arn:aws:lambda:us-west-2:111122223333:function:kms-policy-guard-dev-drift';
const VALID_ENV = {
  TOPIC_ARN,
  DRIFT_RULE_NAME: 'kms-policy-guard-dev-drift',
  DRIFT_FUNCTION_ARN,
  AUDIT_RULE_NAME: 'kms-policy-guard-dev-audit',
  AWS_LAMBDA_FUNCTION_NAME: 'kms-policy-guard-dev-audit',
  AWS_REGION: 'us-west-2',
  MANIFEST_PATH: path.join(FIXTURES, 'manifest.yaml'),
  LAMBDA_TASK_ROOT: REPO_ROOT,
  POWERTOOLS_DEV: 'true',
  POWERTOOLS_LOG_LEVEL: 'CRITICAL',
};
const eventBridge = mockClient(EventBridgeClient);
const securityHub = mockClient(SecurityHubClient);

/** A scheduled event as EventBridge delivers it (AWS docs, "Scheduled Event"). */
const SCHEDULED_EVENT = {
  version: '0',
  id: '53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  account: '111122223333',
  time: '2026-03-02T06:00:00Z',
  region: 'us-west-2',
  resources: ['arn:aws:events:us-west-2:111122223333:rule/kms-policy-guard-dev-audit'],
  detail: {},
};

function context(remainingMs = 600_000): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'kms-policy-guard-dev-audit',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-west-2:111122223333:function:kms-policy-guard-dev-audit',
    memoryLimitInMB: '512',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: '/aws/lambda/kms-policy-guard-dev-audit',
    logStreamName: '2026/03/02/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => remainingMs,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

interface Setup {
  handler: ReturnType<typeof createAuditHandler>;
  logs: Record<string, unknown>[];
}

function setup(reportUnmanaged = false, metrics?: Metrics, securityHub?: GuardWiring['securityHub']): Setup {
  const logs: Record<string, unknown>[] = [];
  const logger = new Logger({ serviceName: 'kms-policy-guard', logLevel: 'DEBUG' });
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    jest.spyOn(logger, level).mockImplementation((message, ...extra) => {
      logs.push({ level, message, ...Object.assign({}, ...extra) });
    });
  }
  // Only the key matched by ID: the audit then needs ListAliases, GetKeyPolicy and Publish.
  const fixture = fixtureManifest('alert');
  const manifest = { ...fixture, keys: fixture.keys.filter((key) => key.match.keyId !== undefined) };
  const guard = buildGuard({
    manifest,
    aws: { region: 'us-west-2' },
    logger,
    repoRoot: REPO_ROOT,
    topicArn: TOPIC_ARN,
    ledger: new InMemoryRemediationLedger(manifest.flapping),
    clock: new InstantClock(),
    ...(securityHub ? { securityHub } : {}),
  });
  const handler = createAuditHandler(
    {
      ...guard.deps,
      logger,
      health: new EventBridgeRuleHealth(
        new EventBridgeClient({ region: 'us-west-2' }),
        'kms-policy-guard-dev-drift',
      ),
      region: 'us-west-2',
      concurrency: 4,
      reportUnmanaged,
      ...(metrics ? { metrics } : {}),
    },
    { timeoutEarlyInMillis: 0 },
  );
  return { handler, logs };
}

beforeEach(() => {
  resetMocks();
  eventBridge.reset();
  eventBridge
    .on(DescribeRuleCommand)
    .resolves({ State: 'ENABLED', EventPattern: JSON.stringify(KMS_POLICY_CHANGE_EVENT_PATTERN) });
  eventBridge.on(ListTargetsByRuleCommand).resolves({ Targets: [{ Id: 'drift', Arn: DRIFT_FUNCTION_ARN }] });
  kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('readAuditConfig', () => {
  it('applies the documented defaults', () => {
    // Act
    const config = readAuditConfig({
      TOPIC_ARN,
      DRIFT_RULE_NAME: 'drift-rule',
      DRIFT_FUNCTION_ARN: 'arn:aws:lambda:eu-west-1:111122223333:function:guard-drift',
      AUDIT_RULE_NAME: 'audit-rule',
      AWS_LAMBDA_FUNCTION_NAME: 'guard-audit',
      AWS_REGION: 'eu-west-1',
      LAMBDA_TASK_ROOT: '/var/task',
    });

    // Assess
    expect(config).toEqual({
      topicArn: TOPIC_ARN,
      driftRuleName: 'drift-rule',
      driftFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:guard-drift',
      auditRuleName: 'audit-rule',
      // This function, in the drift function's account and Region; both functions' concurrency.
      auditFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:guard-audit',
      functionNames: ['guard-drift', 'guard-audit'],
      region: 'eu-west-1',
      manifestPath: '/var/task/policies/manifest.yaml',
      guardedRegions: ['eu-west-1'],
      concurrency: 8,
      reportUnmanaged: true,
      securityHub: false,
      taskRoot: '/var/task',
      // No AUDIT_QUEUE_URL: the audit checks keys itself; with one, units left after 55 minutes are not checked.
      runDeadlineSeconds: 3300,
    });
  });

  it('reads every optional variable', () => {
    // Act
    const config = readAuditConfig({
      ...VALID_ENV,
      MANIFEST_PATH: 'conf/manifest.json',
      LAMBDA_TASK_ROOT: '/var/task',
      STATE_TABLE: 'kms-policy-guard-state',
      AUDIT_CONCURRENCY: '64',
      AUDIT_REPORT_UNMANAGED: 'false',
      GUARD_ROLE_ARN: 'arn:aws:iam::111122223333:role/guard',
      AUDIT_FUNCTION_ARN: 'arn:aws:lambda:us-west-2:111122223333:function:other-audit',
      FUNCTION_NAMES: ' drift-fn, audit-fn ,slack-fn,drift-fn',
      SECURITY_HUB: 'true',
    });

    // Assess
    expect(config).toMatchObject({
      auditFunctionArn: 'arn:aws:lambda:us-west-2:111122223333:function:other-audit',
      functionNames: ['drift-fn', 'audit-fn', 'slack-fn'],
      manifestPath: '/var/task/conf/manifest.json',
      stateTable: 'kms-policy-guard-state',
      concurrency: 64,
      reportUnmanaged: false,
      guardRoleArn: 'arn:aws:iam::111122223333:role/guard',
      securityHub: true,
    });
  });

  it.each([
    ['AUDIT_CONCURRENCY', '0', 'AUDIT_CONCURRENCY must be an integer from 1 to 64'],
    ['AUDIT_CONCURRENCY', '65', 'AUDIT_CONCURRENCY must be an integer from 1 to 64'],
    ['AUDIT_CONCURRENCY', '2.5', 'AUDIT_CONCURRENCY must be an integer from 1 to 64'],
    ['AUDIT_CONCURRENCY', 'eight', 'AUDIT_CONCURRENCY must be an integer from 1 to 64'],
    ['AUDIT_REPORT_UNMANAGED', 'yes', "AUDIT_REPORT_UNMANAGED must be 'true' or 'false'"],
    ['SECURITY_HUB', 'on', "SECURITY_HUB must be 'true' or 'false'"],
    ['DRIFT_RULE_NAME', undefined, 'DRIFT_RULE_NAME is not set'],
    ['DRIFT_FUNCTION_ARN', undefined, 'DRIFT_FUNCTION_ARN must be the ARN of the drift function'],
    [
      'DRIFT_FUNCTION_ARN',
      'kms-policy-guard-dev-drift',
      'DRIFT_FUNCTION_ARN must be the ARN of the drift function',
    ],
    [
      'DRIFT_FUNCTION_ARN',
      `${DRIFT_FUNCTION_ARN}:live`,
      'DRIFT_FUNCTION_ARN must be the ARN of the drift function',
    ],
    ['AUDIT_RULE_NAME', undefined, 'AUDIT_RULE_NAME is not set'],
    [
      'AUDIT_FUNCTION_ARN',
      'arn:aws:sns:us-west-2:111122223333:x',
      'AUDIT_FUNCTION_ARN must be the ARN of the audit function',
    ],
    [
      'AWS_LAMBDA_FUNCTION_NAME',
      undefined,
      'AUDIT_FUNCTION_ARN is not set, and AWS_LAMBDA_FUNCTION_NAME neither',
    ],
    [
      'FUNCTION_NAMES',
      'drift,arn:aws:lambda:us-west-2:111122223333:function:x',
      'FUNCTION_NAMES must be comma-separated Lambda function names',
    ],
    ['TOPIC_ARN', undefined, 'TOPIC_ARN must be the SNS topic ARN'],
  ])('rejects %s=%s', (name, value, message) => {
    // Prepare
    const env: Record<string, string | undefined> = { ...VALID_ENV, [name]: value };

    // Act + Assess
    expect(() => readAuditConfig(env)).toThrow(GuardConfigError);
    expect(() => readAuditConfig(env)).toThrow(message);
  });

  it('fails module init loudly without DRIFT_RULE_NAME', async () => {
    await expect(initAuditHandler({ ...VALID_ENV, DRIFT_RULE_NAME: undefined })).rejects.toThrow(
      'DRIFT_RULE_NAME is not set',
    );
  });

  it('fans out with AUDIT_QUEUE_URL (as deployed), and checks the keys itself without it', async () => {
    // Prepare
    const info = jest.spyOn(Logger.prototype, 'info').mockImplementation(() => undefined);
    const initialized = () =>
      info.mock.calls
        .filter(([message]) => message === 'audit_initialized')
        .map(([, attributes]) => attributes);

    // Act
    await initAuditHandler({
      ...VALID_ENV,
      AUDIT_QUEUE_URL: 'https://sqs.us-west-2.amazonaws.com/111122223333/kms-policy-guard-dev-audit-work',
      STATE_TABLE: 'kms-policy-guard-dev-state',
      GUARD_ROLE_ARN: 'arn:aws:iam::111122223333:role/kms-policy-guard-us-west-2',
    });
    const fanOut = initialized();
    info.mockClear();
    await initAuditHandler(VALID_ENV);
    const direct = initialized();

    // Assess
    expect(fanOut).toEqual([
      {
        fanOut: 'https://sqs.us-west-2.amazonaws.com/111122223333/kms-policy-guard-dev-audit-work',
        regions: ['us-west-2'],
      },
    ]);
    expect(direct).toEqual([expect.objectContaining({ managedKeys: expect.any(Number) })]);
    expect(direct[0]).not.toHaveProperty('fanOut');
  });
});

describe('audit handler', () => {
  it('audits the managed keys and publishes one summary named after the scheduled event', async () => {
    // Prepare
    const { handler } = setup();
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });

    // Act
    const result = await handler(SCHEDULED_EVENT, context());

    // Assess
    expect(result).toEqual({
      runId: SCHEDULED_EVENT.id,
      complete: true,
      summary: { checked: 1, inSync: 1, drift: 0, failed: 0, notChecked: 0, unmanaged: 0 },
      durationMs: 0,
    });
    const findings = publishedFindings();
    expect(findings.map((finding) => finding.kind)).toEqual(['audit-summary']);
    expect(findings[0]).toMatchObject({
      id: `${SCHEDULED_EVENT.id}:*:audit-summary`,
      trigger: 'audit',
      account: '111122223333',
      region: 'us-west-2',
    });
    // The key ARN came from the function's own ARN: no DescribeKey.
    expect(kmsMock.commandCalls(GetKeyPolicyCommand)[0]?.args[0].input.KeyId).toBe(KEY_ID);
    expect(eventBridge.commandCalls(DescribeRuleCommand)[0]?.args[0].input).toEqual({
      Name: 'kms-policy-guard-dev-drift',
      EventBusName: 'default',
    });
  });

  it('publishes a critical guard-disabled finding when the drift rule is disabled', async () => {
    // Prepare
    const { handler } = setup();
    eventBridge.on(DescribeRuleCommand).resolves({ State: 'DISABLED' });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });

    // Act
    await handler(SCHEDULED_EVENT, context());

    // Assess
    const disabled = publishedFindings().find((finding) => finding.kind === 'guard-disabled');
    expect(disabled).toMatchObject({ severity: 'critical' });
    expect(disabled?.title).toBe(
      '[CRITICAL] Guard disabled: drift rule kms-policy-guard-dev-drift is DISABLED',
    );
  });

  it('reports unmanaged keys when configured, listing every key once', async () => {
    // Prepare
    const { handler } = setup(true);
    const other = '0987dcba-09ba-76dc-65fe-0987654321ba';
    kmsMock.on(ListKeysCommand).resolves({ Keys: [{ KeyId: KEY_ID }, { KeyId: other }] });
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });

    // Act
    const result = await handler(SCHEDULED_EVENT, context());

    // Assess
    expect(result.summary).toMatchObject({ checked: 2, inSync: 1, unmanaged: 1 });
    expect(publishedFindings().map((finding) => finding.kind)).toEqual(['unmanaged-key', 'audit-summary']);
  });

  it('throws after publishing what it could when a key fails after the SDK retries', async () => {
    // Prepare
    const { handler, logs } = setup();
    kmsMock.on(GetKeyPolicyCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 'client', 400));

    // Act
    const invocation = handler(SCHEDULED_EVENT, context());

    // Assess
    await expect(invocation).rejects.toThrow(AuditIncompleteError);
    await expect(invocation).rejects.toThrow(`audit ${SCHEDULED_EVENT.id} incomplete: 1 key(s) not checked`);
    const kinds = publishedFindings().map((finding) => finding.kind);
    expect(kinds).toEqual(['audit-incomplete', 'audit-summary']);
    expect(publishedFindings()[1]?.title).toContain('0 in sync');
    expect(logs.find((line) => line.message === 'audit_incomplete')).toMatchObject({
      level: 'error',
      notChecked: [expect.objectContaining({ keyId: KEY_ID, name: 'payments-data' })],
    });
  });

  it('starts no key and throws when the invocation has too little time left', async () => {
    // Prepare
    const { handler } = setup();

    // Act + Assess
    await expect(handler(SCHEDULED_EVENT, context(1_000))).rejects.toThrow(AuditIncompleteError);
    expect(kmsMock.commandCalls(GetKeyPolicyCommand)).toHaveLength(0);
    expect(publishedFindings().map((finding) => finding.kind)).toEqual(['audit-incomplete', 'audit-summary']);
  });

  it('accepts an event without an ID (a manual test invoke) and names the run by time', async () => {
    // Prepare
    const { handler } = setup();
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });

    // Act
    const result = await handler({}, context());

    // Assess
    expect(result.runId).toBe('audit-2026-03-02T10:00:00.000Z');
  });

  describe('metrics', () => {
    /** Powertools Metrics on stdout; its warnings (this clock's timestamps are old) go nowhere. */
    function guardMetrics(): Metrics {
      const quiet = {
        debug: () => undefined,
        info: () => undefined,
        warn: () => undefined,
        error: () => undefined,
      };
      process.env.POWERTOOLS_METRICS_DISABLED = 'false';
      const metrics = new Metrics({
        namespace: GUARD_METRICS.namespace,
        serviceName: GUARD_METRICS.service,
        logger: quiet,
      });
      delete process.env.POWERTOOLS_METRICS_DISABLED;
      return metrics;
    }

    it('emits one AuditHeartbeat per completed run, with the keys checked and the duration', async () => {
      // Prepare
      const { handler } = setup(false, guardMetrics());
      kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });

      // Act
      const { lines, outcome } = await emfLinesOf(() => handler(SCHEDULED_EVENT, context()));

      // Assess
      expect(outcome.status).toBe('fulfilled');
      const run = lines.filter((line) => metricNames(line).includes(GUARD_METRICS.auditHeartbeat));
      expect(run).toHaveLength(1);
      expect(run[0]).toMatchObject({
        AuditHeartbeat: 1,
        KeysChecked: 1,
        AuditDurationMs: 0,
        service: 'kms-policy-guard',
      });
      expect(run[0]?._aws.Timestamp).toBe(Date.parse('2026-03-02T10:00:00.000Z'));
      expect(run[0]?._aws.CloudWatchMetrics[0]?.Namespace).toBe('KmsPolicyGuard');
    });

    it('emits no AuditHeartbeat for an incomplete run, which throws after its metrics', async () => {
      // Prepare
      const { handler } = setup(false, guardMetrics());
      kmsMock
        .on(GetKeyPolicyCommand)
        .rejects(awsError('ThrottlingException', 'Rate exceeded', 'client', 400));

      // Act
      const { lines, outcome } = await emfLinesOf(() => handler(SCHEDULED_EVENT, context()));

      // Assess
      expect(outcome.status).toBe('rejected');
      expect(outcome.status === 'rejected' && outcome.reason).toBeInstanceOf(AuditIncompleteError);
      const names = lines.flatMap(metricNames);
      expect(names).not.toContain(GUARD_METRICS.auditHeartbeat);
      expect(names.filter((name) => name === GUARD_METRICS.keysChecked)).toHaveLength(1);
      expect(lines.find((line) => line.kind === 'audit-incomplete')).toMatchObject({
        severity: 'critical',
        Findings: 1,
      });
    });
  });
});

describe('audit handler and Security Hub', () => {
  const ACCOUNT_RECORD = 'kms-policy-guard/111122223333/us-west-2/guard-degraded';

  beforeEach(() => {
    securityHub.reset();
    securityHub
      .on(BatchImportFindingsCommand)
      .resolves({ SuccessCount: 1, FailedCount: 0, FailedFindings: [] });
  });

  it('sends the run to Security Hub once at its end, closing a guard-degraded record the healthy run no longer finds', async () => {
    // Prepare
    const { handler } = setup(false, undefined, {});
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });
    securityHub.on(GetFindingsCommand).resolves({
      Findings: [
        {
          SchemaVersion: '2018-10-08',
          Id: ACCOUNT_RECORD,
          ProductArn: 'arn:aws:securityhub:us-west-2:111122223333:product/111122223333/default',
          GeneratorId: 'kms-policy-guard/guard-degraded',
          AwsAccountId: '111122223333',
          CreatedAt: '2026-03-01T06:00:00.000Z',
          UpdatedAt: '2026-03-01T06:00:00.000Z',
          Title: '[CRITICAL] Guard degraded: 1 gap',
          Description: 'drift rule pattern',
          RecordState: 'ACTIVE',
          Resources: [{ Type: 'AwsAccount', Id: 'AWS::::Account:111122223333' }],
        },
      ],
    });

    // Act
    await handler(SCHEDULED_EVENT, context());

    // Assess
    expect(securityHub.commandCalls(GetFindingsCommand)).toHaveLength(1);
    const imports = securityHub.commandCalls(BatchImportFindingsCommand);
    expect(imports).toHaveLength(1);
    expect(imports[0]?.args[0].input.Findings?.map((finding) => [finding.Id, finding.RecordState])).toEqual([
      [ACCOUNT_RECORD, 'ARCHIVED'],
    ]);
  });

  it('throws a Security Hub failure that outlived the retries, after the run and its findings', async () => {
    // Prepare
    const { handler, logs } = setup(false, undefined, {});
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });
    securityHub
      .on(GetFindingsCommand)
      .rejects(awsError('InternalException', 'internal error', 'server', 500));

    // Act
    const run = handler(SCHEDULED_EVENT, context());

    // Assess
    await expect(run).rejects.toBeInstanceOf(RetryableAwsError);
    expect(publishedFindings().map((finding) => finding.kind)).toEqual(['audit-summary']);
    expect(logs.map((line) => line.message)).toContain('compliance_flush_failed');
  });
});

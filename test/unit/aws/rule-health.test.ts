import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
  type RuleState,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeRuleHealth } from '../../../src/aws/rule-health';
import { AwsCallError, RetryableAwsError } from '../../../src/guard/errors';
import { KMS_POLICY_CHANGE_EVENT_PATTERN } from '../../../src/guard/event-pattern';
import { type GuardHealth, type HealthCheck, isRuleDelivering } from '../../../src/guard/health';

const eventBridge = mockClient(EventBridgeClient);

function awsError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} happened`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

describe('EventBridgeRuleHealth', () => {
  beforeEach(() => eventBridge.reset());

  it.each([
    ['ENABLED' as RuleState, true],
    ['ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS' as RuleState, true],
    ['DISABLED' as RuleState, false],
  ])('reports rule state %s (delivering: %s)', async (state, delivering) => {
    // Prepare
    eventBridge
      .on(DescribeRuleCommand, { Name: 'guard-rule', EventBusName: 'default' })
      .resolves({ State: state });
    // Act
    const health = await new EventBridgeRuleHealth(new EventBridgeClient({}), 'guard-rule').driftRuleHealth();
    // Assess
    expect(health).toEqual({ ruleName: 'guard-rule', state });
    expect(isRuleDelivering(health)).toBe(delivering);
  });

  it('reports a deleted rule as missing, not as an error', async () => {
    eventBridge.on(DescribeRuleCommand).rejects(awsError('ResourceNotFoundException', 400));
    const health = await new EventBridgeRuleHealth(new EventBridgeClient({}), 'gone').driftRuleHealth();
    expect(health.state).toBe('missing');
    expect(isRuleDelivering(health)).toBe(false);
  });

  it('throws a retryable error on throttling so the audit is retried', async () => {
    eventBridge.on(DescribeRuleCommand).rejects(awsError('ThrottlingException', 400));
    const probe = new EventBridgeRuleHealth(new EventBridgeClient({ maxAttempts: 1 }), 'guard-rule');
    await expect(probe.driftRuleHealth()).rejects.toBeInstanceOf(RetryableAwsError);
  });

  it('throws a typed error with the cause when access is denied', async () => {
    const denied = awsError('AccessDeniedException', 403);
    eventBridge.on(DescribeRuleCommand).rejects(denied);
    const probe = new EventBridgeRuleHealth(new EventBridgeClient({ maxAttempts: 1 }), 'guard-rule');
    const error = await probe.driftRuleHealth().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AwsCallError);
    expect((error as AwsCallError).cause).toBe(denied);
  });
});

const DRIFT_RULE = 'kms-policy-guard-dev-drift';
const AUDIT_RULE = 'kms-policy-guard-dev-audit';
const DRIFT_FN = 'arn:aws:lambda:us-west-2:111122223333:function:kms-policy-guard-dev-drift';
const AUDIT_FN = 'arn:aws:lambda:us-west-2:111122223333:function:kms-policy-guard-dev-audit';
const PATTERN = JSON.stringify(KMS_POLICY_CHANGE_EVENT_PATTERN);

function probe(): EventBridgeRuleHealth {
  return new EventBridgeRuleHealth(new EventBridgeClient({ maxAttempts: 1 }), DRIFT_RULE, {
    driftFunctionArn: DRIFT_FN,
    auditRule: { name: AUDIT_RULE, functionArn: AUDIT_FN },
  });
}

/** The deployed stack as serverless.yml makes it: both rules enabled, each targeting its function. */
function healthyRules(): void {
  eventBridge
    .on(DescribeRuleCommand, { Name: DRIFT_RULE, EventBusName: 'default' })
    .resolves({ Name: DRIFT_RULE, State: 'ENABLED', EventPattern: PATTERN });
  eventBridge
    .on(DescribeRuleCommand, { Name: AUDIT_RULE, EventBusName: 'default' })
    .resolves({ Name: AUDIT_RULE, State: 'ENABLED', ScheduleExpression: 'rate(1 hour)' });
  eventBridge
    .on(ListTargetsByRuleCommand, { Rule: DRIFT_RULE, EventBusName: 'default' })
    .resolves({ Targets: [{ Id: 'DriftLambdaFunction', Arn: DRIFT_FN }] });
  eventBridge
    .on(ListTargetsByRuleCommand, { Rule: AUDIT_RULE, EventBusName: 'default' })
    .resolves({ Targets: [{ Id: 'AuditLambdaFunction', Arn: AUDIT_FN }] });
}

function failed(health: GuardHealth): HealthCheck[] {
  return health.checks.filter((check) => !check.ok);
}

describe('EventBridgeRuleHealth.checkHealth', () => {
  beforeEach(() => {
    eventBridge.reset();
    healthyRules();
  });

  it('passes the deployed rules with one DescribeRule and one ListTargetsByRule per rule', async () => {
    // Act
    const health = await probe().checkHealth();

    // Assess
    expect(health).toEqual({
      driftRule: { ruleName: DRIFT_RULE, state: 'ENABLED' },
      checks: [
        { check: 'drift rule pattern', ok: true },
        { check: 'drift rule target', ok: true },
        { check: 'audit schedule', ok: true },
        { check: 'audit schedule target', ok: true },
      ],
    });
    expect(eventBridge.commandCalls(DescribeRuleCommand)).toHaveLength(2);
    expect(eventBridge.commandCalls(ListTargetsByRuleCommand)).toHaveLength(2);
  });

  it('accepts the pattern with its keys and list values in any order', async () => {
    // Prepare
    const { detail, source } = KMS_POLICY_CHANGE_EVENT_PATTERN;
    const shuffled = {
      detail: {
        errorCode: detail.errorCode,
        eventName: [...detail.eventName].reverse(),
        eventSource: detail.eventSource,
      },
      'detail-type': KMS_POLICY_CHANGE_EVENT_PATTERN['detail-type'],
      source,
    };
    eventBridge
      .on(DescribeRuleCommand, { Name: DRIFT_RULE })
      .resolves({ State: 'ENABLED', EventPattern: JSON.stringify(shuffled, null, 2) });

    // Act
    const health = await probe().checkHealth();

    // Assess
    expect(failed(health)).toEqual([]);
  });

  it('names a rewritten pattern: the event names it lost and what it matches instead', async () => {
    // Prepare
    const rewritten = {
      ...KMS_POLICY_CHANGE_EVENT_PATTERN,
      detail: {
        ...KMS_POLICY_CHANGE_EVENT_PATTERN.detail,
        eventName: ['CreateKey', 'Decrypt'],
      },
    };
    eventBridge
      .on(DescribeRuleCommand, { Name: DRIFT_RULE })
      .resolves({ State: 'ENABLED', EventPattern: JSON.stringify(rewritten) });

    // Act
    const health = await probe().checkHealth();

    // Assess
    const [gap, ...others] = failed(health);
    expect(others).toEqual([]);
    expect(gap?.check).toBe('drift rule pattern');
    expect(gap?.problem).toBe(
      `the event pattern of rule ${DRIFT_RULE} is not the guard's, so KMS changes it does not match never reach the drift function: detail.eventName lacks "PutKeyPolicy", "ReplicateKey", "TagResource", "UntagResource", "CreateAlias", "UpdateAlias", "DeleteAlias", "CreateGrant", "ScheduleKeyDeletion", "DisableKey", "EnableKeyRotation", "DisableKeyRotation"; detail.eventName also has "Decrypt"`,
    );
    expect(gap?.fix).toContain('serverless deploy');
    expect(health.driftRule.state).toBe('ENABLED');
  });

  it.each([
    ['removed', [], 'it has no target'],
    [
      'pointed elsewhere',
      [{ Id: 'x', Arn: 'arn:aws:sqs:us-west-2:444455556666:sink' }],
      'its targets are arn:aws:sqs:us-west-2:444455556666:sink',
    ],
    [
      'pointed at a version of the function',
      [{ Id: 'x', Arn: `${DRIFT_FN}:1` }],
      `its targets are ${DRIFT_FN}:1`,
    ],
  ])('names the drift rule target when it is %s', async (_what, targets, has) => {
    // Prepare
    eventBridge.on(ListTargetsByRuleCommand, { Rule: DRIFT_RULE }).resolves({ Targets: targets });

    // Act
    const health = await probe().checkHealth();

    // Assess
    expect(failed(health)).toEqual([
      {
        check: 'drift rule target',
        ok: false,
        problem: `rule ${DRIFT_RULE} does not deliver to the drift function ${DRIFT_FN}: ${has}`,
        fix: `Redeploy the stack (serverless deploy), which restores it, then find who called events:RemoveTargets or events:PutTargets on ${DRIFT_RULE} in CloudTrail.`,
      },
    ]);
  });

  it('reads every page of targets', async () => {
    // Prepare
    eventBridge
      .on(ListTargetsByRuleCommand, { Rule: DRIFT_RULE })
      .callsFake((input: { NextToken?: string }) =>
        input.NextToken === 'page-2'
          ? { Targets: [{ Id: 'drift', Arn: DRIFT_FN }] }
          : {
              Targets: [{ Id: 'other', Arn: 'arn:aws:sqs:us-west-2:111122223333:copy' }],
              NextToken: 'page-2',
            },
      );

    // Act
    const health = await probe().checkHealth();

    // Assess
    expect(failed(health)).toEqual([]);
    expect(eventBridge.commandCalls(ListTargetsByRuleCommand)).toHaveLength(3);
  });

  it('reports a target listing it may not read as a check that could not be done, never as passed', async () => {
    // Prepare
    const denied = Object.assign(awsError('AccessDeniedException', 400), {
      message: 'User is not authorized to perform: events:ListTargetsByRule',
    });
    eventBridge.on(ListTargetsByRuleCommand, { Rule: DRIFT_RULE }).rejects(denied);

    // Act
    const health = await probe().checkHealth();

    // Assess
    const [gap, ...others] = failed(health);
    expect(others).toEqual([]);
    expect(gap).toMatchObject({ check: 'drift rule target', ok: false });
    expect(gap?.problem).toBe(
      'could not be checked: ListTargetsByRule failed: User is not authorized to perform: events:ListTargetsByRule (AccessDeniedException)',
    );
  });

  it.each([
    ['DISABLED', 'is DISABLED', 'Enable it again: aws events enable-rule --name kms-policy-guard-dev-audit'],
  ])('names an audit schedule that is %s', async (state, said, fix) => {
    // Prepare
    eventBridge.on(DescribeRuleCommand, { Name: AUDIT_RULE }).resolves({ State: state as RuleState });

    // Act
    const health = await probe().checkHealth();

    // Assess
    expect(failed(health)).toEqual([
      {
        check: 'audit schedule',
        ok: false,
        problem: `the audit's schedule rule ${AUDIT_RULE} ${said}: no audit runs after this one`,
        fix,
      },
    ]);
  });

  it('names a deleted audit schedule, and lists no targets of a rule that is gone', async () => {
    // Prepare
    eventBridge
      .on(DescribeRuleCommand, { Name: AUDIT_RULE })
      .rejects(awsError('ResourceNotFoundException', 400));

    // Act
    const health = await probe().checkHealth();

    // Assess
    expect(failed(health)).toEqual([
      {
        check: 'audit schedule',
        ok: false,
        problem: `the audit's schedule rule ${AUDIT_RULE} does not exist: no audit runs after this one`,
        fix: 'Redeploy the stack (serverless deploy), which restores it.',
      },
    ]);
    expect(eventBridge.commandCalls(ListTargetsByRuleCommand)).toHaveLength(1);
  });

  it('names an audit schedule that targets another function', async () => {
    // Prepare
    eventBridge
      .on(ListTargetsByRuleCommand, { Rule: AUDIT_RULE })
      .resolves({ Targets: [{ Id: 'x', Arn: DRIFT_FN }] });

    // Act
    const health = await probe().checkHealth();

    // Assess
    expect(failed(health).map((check) => [check.check, check.problem])).toEqual([
      [
        'audit schedule target',
        `rule ${AUDIT_RULE} does not deliver to the audit function ${AUDIT_FN}: its targets are ${DRIFT_FN}`,
      ],
    ]);
  });

  it('leaves pattern and targets of a missing drift rule unchecked (guard-disabled says it all)', async () => {
    // Prepare
    eventBridge
      .on(DescribeRuleCommand, { Name: DRIFT_RULE })
      .rejects(awsError('ResourceNotFoundException', 400));

    // Act
    const health = await probe().checkHealth();

    // Assess
    expect(health.driftRule).toEqual({ ruleName: DRIFT_RULE, state: 'missing' });
    expect(health.checks.map((check) => check.check)).toEqual(['audit schedule', 'audit schedule target']);
    expect(eventBridge.commandCalls(ListTargetsByRuleCommand)).toHaveLength(1);
  });

  it('throws when the drift rule itself cannot be described (the audit is then incomplete)', async () => {
    // Prepare
    eventBridge.on(DescribeRuleCommand, { Name: DRIFT_RULE }).rejects(awsError('ThrottlingException', 400));

    // Act + Assess
    await expect(probe().checkHealth()).rejects.toBeInstanceOf(RetryableAwsError);
  });

  it('without a function ARN or an audit rule (the CLI), wants any target and skips the schedule', async () => {
    // Prepare
    const cli = new EventBridgeRuleHealth(new EventBridgeClient({ maxAttempts: 1 }), DRIFT_RULE);

    // Act
    const health = await cli.checkHealth();

    // Assess
    expect(health.checks).toEqual([
      { check: 'drift rule pattern', ok: true },
      { check: 'drift rule target', ok: true },
    ]);
    expect(eventBridge.commandCalls(DescribeRuleCommand)).toHaveLength(1);
  });
});

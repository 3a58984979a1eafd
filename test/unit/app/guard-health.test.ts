/**
 * The audit's guard-health probe as the audit function wires it (buildGuardHealth): the four real
 * adapters over mocked SDK clients, their calls counted per service, and one gap per service.
 */
import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { GetFunctionConcurrencyCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { buildGuardHealth, type GuardHealthConfig } from '../../../src/app/guard-health';
import { KMS_POLICY_CHANGE_EVENT_PATTERN } from '../../../src/guard/event-pattern';
import { healthGaps } from '../../../src/guard/health';

const eventBridge = mockClient(EventBridgeClient);
const lambda = mockClient(LambdaClient);
const cloudTrail = mockClient(CloudTrailClient);
const sns = mockClient(SNSClient);

const CONFIG: GuardHealthConfig = {
  region: 'us-west-2',
  topicArn: 'arn:aws:sns:us-west-2:111122223333:kms-policy-guard-findings',
  driftRuleName: 'kms-policy-guard-dev-drift',
  driftFunctionArn: 'arn:aws:lambda:us-west-2:111122223333:function:kms-policy-guard-dev-drift',
  auditRuleName: 'kms-policy-guard-dev-audit',
  auditFunctionArn: 'arn:aws:lambda:us-west-2:111122223333:function:kms-policy-guard-dev-audit',
  functionNames: [
    'kms-policy-guard-dev-drift',
    'kms-policy-guard-dev-audit',
    'kms-policy-guard-dev-notify-slack',
  ],
};
const TRAIL = 'arn:aws:cloudtrail:us-west-2:111122223333:trail/management';
const AWS = { region: 'us-west-2' };

function healthyAccount(): void {
  for (const mock of [eventBridge, lambda, cloudTrail, sns]) mock.reset();
  eventBridge
    .on(DescribeRuleCommand, { Name: CONFIG.driftRuleName })
    .resolves({ State: 'ENABLED', EventPattern: JSON.stringify(KMS_POLICY_CHANGE_EVENT_PATTERN) })
    .on(DescribeRuleCommand, { Name: CONFIG.auditRuleName })
    .resolves({ State: 'ENABLED', ScheduleExpression: 'rate(1 hour)' })
    .on(ListTargetsByRuleCommand, { Rule: CONFIG.driftRuleName })
    .resolves({ Targets: [{ Id: 'drift', Arn: CONFIG.driftFunctionArn }] })
    .on(ListTargetsByRuleCommand, { Rule: CONFIG.auditRuleName })
    .resolves({ Targets: [{ Id: 'audit', Arn: CONFIG.auditFunctionArn }] });
  lambda.on(GetFunctionConcurrencyCommand).resolves({ ReservedConcurrentExecutions: 1 });
  cloudTrail
    .on(DescribeTrailsCommand)
    .resolves({
      trailList: [{ Name: 'management', TrailARN: TRAIL, HomeRegion: 'us-west-2', IsMultiRegionTrail: true }],
    })
    .on(GetTrailStatusCommand)
    .resolves({ IsLogging: true })
    .on(GetEventSelectorsCommand)
    .resolves({ EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true }] });
  sns
    .on(ListSubscriptionsByTopicCommand)
    .resolves({ Subscriptions: [{ SubscriptionArn: `${CONFIG.topicArn}:7a3f`, Protocol: 'lambda' }] });
}

function calls(): Record<string, number> {
  return {
    DescribeRule: eventBridge.commandCalls(DescribeRuleCommand).length,
    ListTargetsByRule: eventBridge.commandCalls(ListTargetsByRuleCommand).length,
    GetFunctionConcurrency: lambda.commandCalls(GetFunctionConcurrencyCommand).length,
    DescribeTrails: cloudTrail.commandCalls(DescribeTrailsCommand).length,
    GetTrailStatus: cloudTrail.commandCalls(GetTrailStatusCommand).length,
    GetEventSelectors: cloudTrail.commandCalls(GetEventSelectorsCommand).length,
    ListSubscriptionsByTopic: sns.commandCalls(ListSubscriptionsByTopicCommand).length,
  };
}

describe('buildGuardHealth', () => {
  beforeEach(healthyAccount);

  it('passes a healthy stack with 11 read-only calls, every check named', async () => {
    // Prepare
    const { probe, destroy } = buildGuardHealth(CONFIG, AWS);

    // Act
    const health = await probe.checkHealth();
    destroy();

    // Assess
    expect(health.driftRule).toEqual({ ruleName: CONFIG.driftRuleName, state: 'ENABLED' });
    expect(health.checks).toEqual(
      [
        'drift rule pattern',
        'drift rule target',
        'audit schedule',
        'audit schedule target',
        'reserved concurrency of kms-policy-guard-dev-drift',
        'reserved concurrency of kms-policy-guard-dev-audit',
        'reserved concurrency of kms-policy-guard-dev-notify-slack',
        'CloudTrail trail',
        'findings topic subscriptions',
      ].map((check) => ({ check, ok: true })),
    );
    expect(calls()).toEqual({
      DescribeRule: 2,
      ListTargetsByRule: 2,
      GetFunctionConcurrency: 3,
      DescribeTrails: 1,
      GetTrailStatus: 1,
      GetEventSelectors: 1,
      ListSubscriptionsByTopic: 1,
    });
  });

  it('reports one gap per broken service, each naming its resource', async () => {
    // Prepare
    eventBridge.on(DescribeRuleCommand, { Name: CONFIG.auditRuleName }).resolves({ State: 'DISABLED' });
    lambda
      .on(GetFunctionConcurrencyCommand, { FunctionName: 'kms-policy-guard-dev-notify-slack' })
      .resolves({ ReservedConcurrentExecutions: 0 });
    cloudTrail.on(GetTrailStatusCommand).resolves({ IsLogging: false });
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: [] });
    const { probe } = buildGuardHealth(CONFIG, AWS);

    // Act
    const gaps = healthGaps((await probe.checkHealth()).checks);

    // Assess
    expect(gaps.map((gap) => [gap.check, gap.problem])).toEqual([
      [
        'audit schedule',
        `the audit's schedule rule ${CONFIG.auditRuleName} is DISABLED: no audit runs after this one`,
      ],
      [
        'reserved concurrency of kms-policy-guard-dev-notify-slack',
        'the function kms-policy-guard-dev-notify-slack has a reserved concurrency of 0: every invocation is throttled, it never runs',
      ],
      [
        'CloudTrail trail',
        `no CloudTrail trail delivers us-west-2's KMS management write events, so EventBridge receives none and the drift rule never fires: trail ${TRAIL} is not logging`,
      ],
      [
        'findings topic subscriptions',
        `the findings topic ${CONFIG.topicArn} has no confirmed subscription: findings reach no one`,
      ],
    ]);
  });
});

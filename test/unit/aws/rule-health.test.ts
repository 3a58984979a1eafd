import { DescribeRuleCommand, EventBridgeClient, type RuleState } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { EventBridgeRuleHealth } from '../../../src/aws/rule-health';
import { AwsCallError, RetryableAwsError } from '../../../src/guard/errors';
import { isRuleDelivering } from '../../../src/guard/health';

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

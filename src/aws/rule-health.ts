/** EventBridge DescribeRule adapter: is the guard's drift rule there and enabled? */
import { DescribeRuleCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { AwsCallError, RetryableAwsError } from '../guard/errors';
import type { GuardHealthProbe, RuleHealth } from '../guard/health';
import { isTransientAwsError, sdkErrorShape } from './clients';

export class EventBridgeRuleHealth implements GuardHealthProbe {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly ruleName: string,
    private readonly eventBusName = 'default',
  ) {}

  async driftRuleHealth(): Promise<RuleHealth> {
    try {
      const rule = await this.client.send(
        new DescribeRuleCommand({ Name: this.ruleName, EventBusName: this.eventBusName }),
      );
      return { ruleName: this.ruleName, state: rule.State ?? 'missing' };
    } catch (error) {
      const shape = sdkErrorShape(error);
      if (shape.name === 'ResourceNotFoundException') return { ruleName: this.ruleName, state: 'missing' };
      if (isTransientAwsError(error)) {
        throw new RetryableAwsError('DescribeRule', shape.message, shape.name, { cause: error });
      }
      throw new AwsCallError('DescribeRule', shape.message, shape.name, { cause: error });
    }
  }
}

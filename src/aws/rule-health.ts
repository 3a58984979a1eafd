/** EventBridge DescribeRule adapter: is the guard's drift rule there and enabled? */
import { DescribeRuleCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { GuardHealthProbe, RuleHealth } from '../guard/health';
import { AWS_RETRY_CONFIG, type AwsClientSettings } from './clients';
import { sdkErrorShape, toAwsError } from './errors';

export class EventBridgeRuleHealth implements GuardHealthProbe {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly ruleName: string,
    private readonly eventBusName = 'default',
  ) {}

  /** A probe with its own EventBridge client (one per container). */
  static create(settings: AwsClientSettings, ruleName: string, eventBusName?: string): EventBridgeRuleHealth {
    return new EventBridgeRuleHealth(
      new EventBridgeClient({ ...AWS_RETRY_CONFIG, ...settings }),
      ruleName,
      eventBusName,
    );
  }

  /** Releases the client's sockets (the CLI and the demo; a Lambda container never needs to). */
  destroy(): void {
    this.client.destroy();
  }

  async driftRuleHealth(): Promise<RuleHealth> {
    try {
      const rule = await this.client.send(
        new DescribeRuleCommand({ Name: this.ruleName, EventBusName: this.eventBusName }),
      );
      return { ruleName: this.ruleName, state: rule.State ?? 'missing' };
    } catch (error) {
      if (sdkErrorShape(error).name === 'ResourceNotFoundException') {
        return { ruleName: this.ruleName, state: 'missing' };
      }
      throw toAwsError(error, 'DescribeRule');
    }
  }
}

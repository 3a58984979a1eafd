/**
 * The SNS share of the guard's health (docs/architecture.md#guard-health): a findings topic without a
 * confirmed subscription delivers every finding to no one. ListSubscriptionsByTopic once per audit (100
 * subscriptions per page, the next page only while none is confirmed); a subscription still
 * `PendingConfirmation` does not count.
 */
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { type HealthCheck, type HealthCheckSource, uncheckable } from '../guard/health';
import { AWS_RETRY_CONFIG, type AwsClientSettings } from './client-settings';
import { sdkErrorShape, toAwsError } from './errors';

const CHECK = 'findings topic subscriptions';
const PENDING = 'PendingConfirmation';

export class SnsSubscriptionHealth implements HealthCheckSource {
  readonly name = CHECK;

  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {}

  /** A source with its own SNS client (one per container). */
  static create(settings: AwsClientSettings, topicArn: string): SnsSubscriptionHealth {
    return new SnsSubscriptionHealth(new SNSClient({ ...AWS_RETRY_CONFIG, ...settings }), topicArn);
  }

  destroy(): void {
    this.client.destroy();
  }

  async checks(): Promise<HealthCheck[]> {
    let confirmed = 0;
    let pending = 0;
    try {
      let nextToken: string | undefined;
      do {
        const page = await this.client.send(
          new ListSubscriptionsByTopicCommand({
            TopicArn: this.topicArn,
            ...(nextToken ? { NextToken: nextToken } : {}),
          }),
        );
        for (const subscription of page.Subscriptions ?? []) {
          if (subscription.SubscriptionArn?.startsWith('arn:')) confirmed += 1;
          else if (subscription.SubscriptionArn === PENDING) pending += 1;
        }
        nextToken = page.NextToken;
      } while (nextToken && confirmed === 0);
    } catch (error) {
      if (sdkErrorShape(error).name === 'NotFoundException') {
        return [
          {
            check: CHECK,
            ok: false,
            problem: `the findings topic ${this.topicArn} does not exist: no finding reaches anyone`,
            fix: 'Redeploy the stack (serverless deploy), which recreates the topic and its subscriptions.',
          },
        ];
      }
      return [uncheckable(CHECK, toAwsError(error, 'ListSubscriptionsByTopic'))];
    }
    if (confirmed > 0) return [{ check: CHECK, ok: true }];
    const waiting = pending > 0 ? ` (${pending} pending confirmation)` : '';
    return [
      {
        check: CHECK,
        ok: false,
        problem: `the findings topic ${this.topicArn} has no confirmed subscription${waiting}: findings reach no one`,
        fix:
          pending > 0
            ? 'Confirm the subscription (the link in the e-mail AWS sent), or redeploy the stack (serverless deploy) to restore notify-slack’s subscription.'
            : 'Redeploy the stack (serverless deploy), which restores notify-slack’s subscription and the alertEmail one, then find who called sns:Unsubscribe in CloudTrail.',
      },
    ];
  }
}

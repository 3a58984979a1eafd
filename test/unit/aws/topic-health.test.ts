import { ListSubscriptionsByTopicCommand, SNSClient, type Subscription } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { SnsSubscriptionHealth } from '../../../src/aws/topic-health';

const sns = mockClient(SNSClient);
const TOPIC = 'arn:aws:sns:us-west-2:111122223333:kms-policy-guard-findings';

function subscription(arn: string, protocol = 'email'): Subscription {
  return { SubscriptionArn: arn, Protocol: protocol, TopicArn: TOPIC, Endpoint: 'ops@example.com' };
}

function awsError(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

function source(): SnsSubscriptionHealth {
  return new SnsSubscriptionHealth(new SNSClient({ maxAttempts: 1 }), TOPIC);
}

describe('SnsSubscriptionHealth', () => {
  beforeEach(() => sns.reset());

  it('passes a topic with one confirmed subscription among pending ones, in one call', async () => {
    // Prepare
    sns.on(ListSubscriptionsByTopicCommand).resolves({
      Subscriptions: [subscription('PendingConfirmation'), subscription(`${TOPIC}:0b6f6f1e`, 'lambda')],
    });

    // Act
    const checks = await source().checks();

    // Assess
    expect(checks).toEqual([{ check: 'findings topic subscriptions', ok: true }]);
    expect(sns.commandCalls(ListSubscriptionsByTopicCommand).map((call) => call.args[0].input)).toEqual([
      { TopicArn: TOPIC },
    ]);
  });

  it('reads every page until it finds a confirmed subscription', async () => {
    // Prepare
    sns
      .on(ListSubscriptionsByTopicCommand)
      .callsFake((input: { NextToken?: string }) =>
        input.NextToken === 'page-2'
          ? { Subscriptions: [subscription(`${TOPIC}:5a003f89`)] }
          : { Subscriptions: [subscription('PendingConfirmation')], NextToken: 'page-2' },
      );

    // Act
    const checks = await source().checks();

    // Assess
    expect(checks).toEqual([{ check: 'findings topic subscriptions', ok: true }]);
    expect(sns.commandCalls(ListSubscriptionsByTopicCommand)).toHaveLength(2);
  });

  it.each([
    [
      'only subscriptions pending confirmation',
      [subscription('PendingConfirmation'), subscription('PendingConfirmation')],
      ' (2 pending confirmation)',
      'Confirm the subscription',
    ],
    ['no subscription at all', [], '', 'find who called sns:Unsubscribe'],
  ])('names a topic with %s: findings reach no one', async (_what, subscriptions, pending, fix) => {
    // Prepare
    sns.on(ListSubscriptionsByTopicCommand).resolves({ Subscriptions: subscriptions });

    // Act
    const checks = await source().checks();

    // Assess
    expect(checks).toEqual([
      {
        check: 'findings topic subscriptions',
        ok: false,
        problem: `the findings topic ${TOPIC} has no confirmed subscription${pending}: findings reach no one`,
        fix: expect.stringContaining(fix),
      },
    ]);
  });

  it('names a deleted topic', async () => {
    // Prepare
    sns
      .on(ListSubscriptionsByTopicCommand)
      .rejects(awsError('NotFoundException', 'Topic does not exist', 404));

    // Act
    const checks = await source().checks();

    // Assess
    expect(checks).toEqual([
      {
        check: 'findings topic subscriptions',
        ok: false,
        problem: `the findings topic ${TOPIC} does not exist: no finding reaches anyone`,
        fix: 'Redeploy the stack (serverless deploy), which recreates the topic and its subscriptions.',
      },
    ]);
  });

  it('reports a listing it may not read as a check that could not be done, never as passed', async () => {
    // Prepare
    sns
      .on(ListSubscriptionsByTopicCommand)
      .rejects(
        awsError(
          'AuthorizationErrorException',
          'not authorized to perform: SNS:ListSubscriptionsByTopic',
          403,
        ),
      );

    // Act
    const checks = await source().checks();

    // Assess
    expect(checks).toEqual([
      {
        check: 'findings topic subscriptions',
        ok: false,
        problem:
          'could not be checked: ListSubscriptionsByTopic failed: not authorized to perform: SNS:ListSubscriptionsByTopic (AuthorizationErrorException)',
        fix: expect.stringContaining('read-only permission'),
      },
    ]);
  });
});

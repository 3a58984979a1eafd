/**
 * Alerts by severity (issue 13.6), on SNS (moto): the two Slack subscriptions' filter policies, exactly as
 * serverless.yml declares them (SLACK_FILTER_POLICIES, checked against the packaged template), route every
 * message to exactly one of the two notifiers. Critical and high findings and the alarms never wait behind a
 * burst of low ones.
 */
import { CreateTopicCommand, PublishCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  createQueue,
  createWorldClients,
  destroyWorldClients,
  drainQueue,
  uniqueSuffix,
  worldClientConfig,
} from '../../dev/world';
import { SnsFindingPublisher } from '../../src/aws/sns-publisher';
import type { Finding } from '../../src/core/finding';
import { SEVERITIES } from '../../src/core/finding';
import { motoEndpoint } from './moto-env';
import { SLACK_FILTER_POLICIES } from './support/severity-routing';

const world = createWorldClients(worldClientConfig(motoEndpoint()));
const suffix = uniqueSuffix();

afterAll(() => destroyWorldClients(world));

function finding(severity: Finding['severity'], n: number): Finding {
  return {
    id: `routing-${suffix}:k${n}:drift`,
    kind: 'drift',
    severity,
    title: `[${severity.toUpperCase()}] Key policy drift: k${n}`,
    keyArn: `arn:aws:kms:us-east-1:123456789012:key/k${n}`,
    keyId: `k${n}`,
    aliases: [],
    region: 'us-east-1',
    account: '123456789012',
    mode: 'alert',
    action: 'alerted',
    trigger: 'event',
    details: [],
    time: new Date().toISOString(),
  };
}

describe('Slack subscriptions by severity (SNS filter policies on moto)', () => {
  it('routes critical, high and attribute-less alarms to the urgent notifier, the rest to the routine one, each once', async () => {
    // Prepare: the findings topic with one SQS queue standing for each notifier's subscription.
    const { TopicArn } = await world.sns.send(new CreateTopicCommand({ Name: `kpg-routing-${suffix}` }));
    if (!TopicArn) throw new Error('no topic ARN');
    const queues = {
      routine: await createQueue(world.sqs, `kpg-routing-routine-${suffix}`),
      urgent: await createQueue(world.sqs, `kpg-routing-urgent-${suffix}`),
    };
    for (const [name, queue] of Object.entries(queues) as [keyof typeof queues, { arn: string }][]) {
      await world.sns.send(
        new SubscribeCommand({
          TopicArn,
          Protocol: 'sqs',
          Endpoint: queue.arn,
          Attributes: {
            RawMessageDelivery: 'true',
            FilterPolicyScope: 'MessageAttributes',
            FilterPolicy: JSON.stringify(SLACK_FILTER_POLICIES[name]),
          },
        }),
      );
    }
    const publisher = new SnsFindingPublisher(world.sns, TopicArn);

    // Act: one finding of every severity through the guard's own publisher, and an alarm as CloudWatch
    // sends it (no message attributes).
    for (const [n, severity] of SEVERITIES.entries()) await publisher.publish(finding(severity, n));
    await world.sns.send(
      new PublishCommand({
        TopicArn,
        Subject: 'ALARM: "kms-policy-guard-dev-audit-heartbeat"',
        Message: '{"AlarmName":"kms-policy-guard-dev-audit-heartbeat"}',
      }),
    );
    const received = {
      routine: await drainQueue(world.sqs, queues.routine.url),
      urgent: await drainQueue(world.sqs, queues.urgent.url),
    };
    // Raw delivery: the body is the finding JSON (the `default` of the guard's JSON message) or the alarm.
    const what = (body: string | undefined): string => {
      const parsed = JSON.parse(body ?? '{}') as { severity?: string; AlarmName?: string };
      return parsed.AlarmName ? 'alarm' : (parsed.severity ?? '?');
    };

    // Assess
    expect(received.urgent.map((message) => what(message.Body)).sort()).toEqual([
      'alarm',
      'critical',
      'high',
    ]);
    expect(received.routine.map((message) => what(message.Body)).sort()).toEqual(['info', 'low', 'medium']);
  });
});

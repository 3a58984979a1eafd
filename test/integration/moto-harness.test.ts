/**
 * Proves the integration setup against a real moto server: KMS key policies, the drift rule's event
 * pattern on EventBridge (routed to SQS), and SNS -> SQS delivery with MessageStructure json.
 */
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateKeyCommand, GetKeyPolicyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { CreateTopicCommand, PublishCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { MotoServerError, startMoto } from '../../dev/moto-server';
import { KMS_POLICY_CHANGE_EVENT_PATTERN } from '../../src/guard/event-pattern';
import { MOTO_ACCOUNT_ID, motoClientConfig } from './moto-env';

const kms = new KMSClient(motoClientConfig());
const events = new EventBridgeClient(motoClientConfig());
const sns = new SNSClient(motoClientConfig());
const sqs = new SQSClient(motoClientConfig());

async function createQueue(name: string): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (!QueueUrl) throw new Error('CreateQueue returned no URL');
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new Error('GetQueueAttributes returned no QueueArn');
  return { url: QueueUrl, arn };
}

/** Reads until the queue stays empty for one short poll: every message delivered so far. */
async function drainQueue(url: string): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    if (!Messages || Messages.length === 0) return messages;
    messages.push(...Messages);
  }
}

/** Test files run in parallel against one moto server: never reset it here, use unique resource names. */
function cloudTrailEvent(eventID: string, extra: Record<string, unknown> = {}) {
  return {
    Source: 'aws.kms',
    DetailType: 'AWS API Call via CloudTrail',
    Detail: JSON.stringify({
      eventVersion: '1.08',
      eventSource: 'kms.amazonaws.com',
      eventName: 'PutKeyPolicy',
      awsRegion: 'us-east-1',
      eventID,
      requestParameters: { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', policyName: 'default' },
      ...extra,
    }),
  };
}

describe('moto harness', () => {
  afterAll(() => {
    for (const client of [kms, events, sns, sqs]) client.destroy();
  });

  it('points the SDK at a loopback moto endpoint with dummy credentials', () => {
    // Act
    const config = motoClientConfig();

    // Assess
    expect(config.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(process.env.AWS_ACCESS_KEY_ID).toBe('testing');
    expect(process.env.AWS_REGION).toBe('us-east-1');
  });

  it('stores and returns a key policy with PolicyName default', async () => {
    // Prepare
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Description: 'harness' }));
    const keyId = KeyMetadata?.KeyId;
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'Enable IAM policies',
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT_ID}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
      ],
    });

    // Act
    await kms.send(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: policy }));
    const { Policy } = await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }));

    // Assess
    expect(KeyMetadata?.Arn).toMatch(new RegExp(`^arn:aws:kms:us-east-1:${MOTO_ACCOUNT_ID}:key/`));
    expect(Policy).toBe(policy);
  });

  it('routes a successful KMS CloudTrail event through the drift rule pattern, and not a failed one', async () => {
    // Prepare
    // Its own bus: other test files share this moto server and put KMS events on the default bus.
    const bus = 'harness-bus';
    const queue = await createQueue('harness-drift-events');
    await events.send(new CreateEventBusCommand({ Name: bus }));
    await events.send(
      new PutRuleCommand({
        Name: 'harness-drift',
        EventBusName: bus,
        EventPattern: JSON.stringify(KMS_POLICY_CHANGE_EVENT_PATTERN),
      }),
    );
    await events.send(
      new PutTargetsCommand({
        Rule: 'harness-drift',
        EventBusName: bus,
        Targets: [{ Id: 'queue', Arn: queue.arn }],
      }),
    );

    // Act
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          cloudTrailEvent('event-succeeded'),
          cloudTrailEvent('event-failed', { errorCode: 'AccessDenied', errorMessage: 'no' }),
          cloudTrailEvent('event-other-call', { eventName: 'Decrypt' }),
        ].map((entry) => ({ ...entry, EventBusName: bus })),
      }),
    );
    const delivered = await drainQueue(queue.url);

    // Assess
    expect(put.FailedEntryCount).toBe(0);
    expect(delivered).toHaveLength(1);
    const body = JSON.parse(delivered[0]?.Body ?? '{}') as { source?: string; detail?: { eventID?: string } };
    expect(body.source).toBe('aws.kms');
    expect(body.detail?.eventID).toBe('event-succeeded');
  });

  it('delivers an SNS message published with MessageStructure json to an SQS subscriber', async () => {
    // Prepare
    const queue = await createQueue('harness-findings');
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'harness-findings' }));
    await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: queue.arn }));
    const finding = { kind: 'drift', keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' };

    // Act
    await sns.send(
      new PublishCommand({
        TopicArn,
        Subject: 'KMS key policy drift',
        MessageStructure: 'json',
        Message: JSON.stringify({ default: 'Drift on key 1234abcd', sqs: JSON.stringify(finding) }),
        MessageAttributes: { severity: { DataType: 'String', StringValue: 'high' } },
      }),
    );
    const delivered = await drainQueue(queue.url);

    // Assess
    expect(delivered).toHaveLength(1);
    const envelope = JSON.parse(delivered[0]?.Body ?? '{}') as {
      Type?: string;
      TopicArn?: string;
      Subject?: string;
      Message?: string;
      MessageAttributes?: Record<string, { Value?: string }>;
    };
    expect(envelope.Type).toBe('Notification');
    expect(envelope.TopicArn).toBe(TopicArn);
    expect(envelope.Subject).toBe('KMS key policy drift');
    expect(JSON.parse(envelope.Message ?? '{}')).toEqual(finding);
    expect(envelope.MessageAttributes?.severity?.Value).toBe('high');
  });

  it('says how to install moto when moto_server is not on PATH', async () => {
    // Prepare
    const savedPath = process.env.PATH;
    process.env.PATH = '/nonexistent';

    // Act
    const started = startMoto().finally(() => {
      process.env.PATH = savedPath;
    });

    // Assess
    await expect(started).rejects.toThrow(MotoServerError);
    await expect(started).rejects.toThrow('install it with: pip install "moto[server]"');
  });
});

/** The SNS adapter: one Publish per finding, failures thrown as PublishFailedError. */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { SnsFindingPublisher } from '../../../src/aws/sns-publisher';
import type { Finding } from '../../../src/core/finding';
import { PublishFailedError } from '../../../src/guard/errors';
import { RecordingLogger } from '../guard/harness';

const TOPIC_ARN = 'arn:aws:sns:us-west-2:111122223333:kms-policy-guard-findings';
const snsMock = mockClient(SNSClient);

const FINDING: Finding = {
  id: 'event-1:1234abcd-12ab-34cd-56ef-1234567890ab:drift',
  kind: 'drift',
  severity: 'high',
  title: '[HIGH] Key policy drift: payments-data by user/Alice',
  keyArn: 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
  aliases: [],
  region: 'us-west-2',
  account: '111122223333',
  mode: 'alert',
  action: 'alerted',
  trigger: 'event',
  details: ['Alert mode: the guard changed nothing.'],
  time: '2026-03-02T10:00:00.000Z',
};

beforeEach(() => {
  snsMock.reset();
});

describe('SnsFindingPublisher', () => {
  it('publishes one JSON-structured message with filterable attributes', async () => {
    // Prepare
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const publisher = new SnsFindingPublisher(new SNSClient({ region: 'us-west-2' }), TOPIC_ARN);

    // Act
    await publisher.publish(FINDING);

    // Assess
    const calls = snsMock.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input).toMatchObject({
      TopicArn: TOPIC_ARN,
      Subject: FINDING.title,
      MessageStructure: 'json',
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: 'high' },
        keyId: { DataType: 'String', StringValue: FINDING.keyId },
        action: { DataType: 'String', StringValue: 'alerted' },
      },
    });
  });

  it('throws PublishFailedError with the SNS error as cause', async () => {
    // Prepare
    const sdkError = Object.assign(new Error('Topic does not exist'), {
      name: 'NotFoundException',
      $fault: 'client',
    });
    snsMock.on(PublishCommand).rejects(sdkError);
    const publisher = new SnsFindingPublisher(new SNSClient({ region: 'us-west-2' }), TOPIC_ARN);

    // Act
    const error = await publisher.publish(FINDING).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(PublishFailedError);
    expect((error as PublishFailedError).awsErrorCode).toBe('NotFoundException');
    expect((error as Error).cause).toBe(sdkError);
  });

  it('logs the complete finding when the message had to be shortened', async () => {
    // Prepare
    snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const logger = new RecordingLogger();
    const publisher = new SnsFindingPublisher(new SNSClient({ region: 'us-west-2' }), TOPIC_ARN, logger);
    const huge = {
      ...FINDING,
      details: Array.from({ length: 4_000 }, (_, index) => `line ${index} ${'x'.repeat(80)}`),
    };

    // Act
    await publisher.publish(huge);

    // Assess
    const line = logger.lines.find((entry) => entry.message === 'finding_truncated');
    expect(line?.attributes.finding).toBe(huge);
  });
});

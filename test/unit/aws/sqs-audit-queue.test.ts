/**
 * The organization audit's queue on SQS (src/aws/sqs-audit-queue.ts): what it sends, and its client loaded on the
 * first message only (the audit worker re-arms a deadline check rarely; docs/architecture.md#what-loads-when).
 */
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { SqsAuditQueue } from '../../../src/aws/sqs-audit-queue';

const QUEUE_URL = 'https://sqs.us-west-2.amazonaws.com/111122223333/kms-policy-guard-dev-audit-work';

function fakeSqs() {
  const sent: unknown[] = [];
  const sqs = {
    send: async (command: unknown) => {
      sent.push(command);
      return command instanceof SendMessageBatchCommand ? { Successful: [], Failed: [] } : {};
    },
  } as unknown as Pick<SQSClient, 'send'>;
  return { sqs, sent };
}

describe('SqsAuditQueue', () => {
  it('loads its client on the first message, once for messages sent at once', async () => {
    // Prepare
    const { sqs, sent } = fakeSqs();
    const load = jest.fn(async () => sqs);
    const queue = new SqsAuditQueue(load, QUEUE_URL);

    // Act
    const loadsBefore = load.mock.calls.length;
    await Promise.all([
      queue.sendDeadline('run-1', 1200),
      queue.sendUnits('run-1', [{ accountId: '111122223333', region: 'us-west-2', partition: 'aws' }]),
    ]);
    await queue.sendDeadline('run-1', 10);

    // Assess
    expect(loadsBefore).toBe(0);
    expect(load).toHaveBeenCalledTimes(1);
    expect(sent).toHaveLength(3);
    const [deadline, units] = sent;
    expect(deadline).toBeInstanceOf(SendMessageCommand);
    expect((deadline as SendMessageCommand).input).toEqual({
      QueueUrl: QUEUE_URL,
      MessageBody: JSON.stringify({ type: 'deadline', runId: 'run-1' }),
      DelaySeconds: 900,
    });
    expect(units).toBeInstanceOf(SendMessageBatchCommand);
    expect((units as SendMessageBatchCommand).input.Entries).toEqual([
      {
        Id: '0',
        MessageBody: JSON.stringify({
          type: 'unit',
          runId: 'run-1',
          accountId: '111122223333',
          region: 'us-west-2',
          partition: 'aws',
        }),
      },
    ]);
  });

  it('tries a failed load again on the next message', async () => {
    // Prepare
    const { sqs, sent } = fakeSqs();
    const load = jest.fn<Promise<Pick<SQSClient, 'send'>>, []>();
    load.mockRejectedValueOnce(new Error('import failed')).mockResolvedValue(sqs);
    const queue = new SqsAuditQueue(load, QUEUE_URL);

    // Act + Assess
    await expect(queue.sendDeadline('run-1', 60)).rejects.toThrow('import failed');
    await queue.sendDeadline('run-1', 60);
    expect(load).toHaveBeenCalledTimes(2);
    expect(sent).toHaveLength(1);
  });

  it('builds a client of its own with create and load', async () => {
    // Act
    const lazy = SqsAuditQueue.create({ region: 'us-west-2' }, QUEUE_URL);
    const loaded = await SqsAuditQueue.load({ region: 'us-west-2' }, QUEUE_URL);

    // Assess
    expect(lazy).toBeInstanceOf(SqsAuditQueue);
    expect(loaded).toBeInstanceOf(SqsAuditQueue);
  });
});

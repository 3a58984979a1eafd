/**
 * The organization audit's queue (AuditQueue port) on SQS: SendMessageBatch, 10 units a call, entries SQS
 * refused sent once more and then thrown (the scheduled audit fails loudly: errors alarm), and the run's
 * deadline check as one message with DelaySeconds (at most 900; the worker re-arms it until the deadline).
 */
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { AwsCallError } from '../guard/errors';
import type { DeadlineMessage, UnitMessage } from '../guard/org-audit/messages';
import { MAX_DELAY_SECONDS } from '../guard/org-audit/messages';
import type { AuditQueue, AuditUnit } from '../guard/ports';
import { AWS_RETRY_CONFIG, type AwsClientSettings } from './clients';
import { toAwsError } from './errors';

const BATCH = 10;

export class SqsAuditQueue implements AuditQueue {
  constructor(
    private readonly sqs: Pick<SQSClient, 'send'>,
    private readonly queueUrl: string,
  ) {}

  static create(settings: AwsClientSettings, queueUrl: string): SqsAuditQueue {
    return new SqsAuditQueue(new SQSClient({ ...AWS_RETRY_CONFIG, ...settings }), queueUrl);
  }

  async sendUnits(runId: string, units: readonly AuditUnit[]): Promise<void> {
    for (let start = 0; start < units.length; start += BATCH) {
      let entries = units.slice(start, start + BATCH).map((unit, index) => {
        const message: UnitMessage = { type: 'unit', runId, ...unit };
        return { Id: String(start + index), MessageBody: JSON.stringify(message) };
      });
      for (let attempt = 0; entries.length > 0; attempt += 1) {
        let output: SendMessageBatchCommandOutput;
        try {
          output = await this.sqs.send(
            new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }),
          );
        } catch (error) {
          throw toAwsError(error, 'SendMessageBatch');
        }
        const failed = new Set((output.Failed ?? []).map((entry) => entry.Id));
        entries = entries.filter((entry) => failed.has(entry.Id));
        if (entries.length > 0 && attempt >= 1) {
          throw new AwsCallError(
            'SendMessageBatch',
            `${entries.length} unit message(s) of run ${runId} were refused: ${(output.Failed ?? []).map((entry) => entry.Message).join('; ')}`,
            undefined,
          );
        }
      }
    }
  }

  async sendDeadline(runId: string, delaySeconds: number): Promise<void> {
    const message: DeadlineMessage = { type: 'deadline', runId };
    try {
      await this.sqs.send(
        new SendMessageCommand({
          QueueUrl: this.queueUrl,
          MessageBody: JSON.stringify(message),
          DelaySeconds: Math.max(0, Math.min(MAX_DELAY_SECONDS, Math.round(delaySeconds))),
        }),
      );
    } catch (error) {
      throw toAwsError(error, 'SendMessage');
    }
  }
}

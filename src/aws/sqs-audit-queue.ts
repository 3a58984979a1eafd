/**
 * The organization audit's queue (AuditQueue port) on SQS: SendMessageBatch, 10 units a call, entries SQS
 * refused sent once more and then thrown (the scheduled audit fails loudly: errors alarm), and the run's
 * deadline check as one message with DelaySeconds (at most 900; the worker re-arms it until the deadline).
 *
 * The SQS client comes from ./sqs-sdk.ts, a dynamic import: `create` loads and builds it on the first message (the
 * audit worker, which sends only to re-arm a deadline check), `load` at once (the fan-out, which sends every run).
 */
import type { SendMessageBatchCommandOutput, SQSClient } from '@aws-sdk/client-sqs';
import { loadedOnFirstUse } from '../core/built-on-first-use';
import { AwsCallError } from '../guard/errors';
import type { DeadlineMessage, UnitMessage } from '../guard/org-audit/messages';
import { MAX_DELAY_SECONDS } from '../guard/org-audit/messages';
import type { AuditQueue, AuditUnit } from '../guard/ports';
import { AWS_RETRY_CONFIG, type AwsClientSettings } from './client-settings';
import { toAwsError } from './errors';

const BATCH = 10;

type SqsSender = Pick<SQSClient, 'send'>;

export class SqsAuditQueue implements AuditQueue {
  /** The client: as given, or loaded and built on first use (once; a failed import is tried again). */
  private readonly sqs: () => Promise<SqsSender>;

  constructor(
    sqs: SqsSender | (() => Promise<SqsSender>),
    private readonly queueUrl: string,
  ) {
    this.sqs = loadedOnFirstUse(sqs);
  }

  /** A queue whose SQS client is imported and built on its first message. */
  static create(settings: AwsClientSettings, queueUrl: string): SqsAuditQueue {
    return new SqsAuditQueue(async () => {
      const { SQSClient } = await import('./sqs-sdk');
      return new SQSClient({ ...AWS_RETRY_CONFIG, ...settings });
    }, queueUrl);
  }

  /** A queue whose SQS client is imported and built now (a function that sends at every invocation). */
  static async load(settings: AwsClientSettings, queueUrl: string): Promise<SqsAuditQueue> {
    const { SQSClient } = await import('./sqs-sdk');
    return new SqsAuditQueue(new SQSClient({ ...AWS_RETRY_CONFIG, ...settings }), queueUrl);
  }

  async sendUnits(runId: string, units: readonly AuditUnit[]): Promise<void> {
    const [sqs, { SendMessageBatchCommand }] = await Promise.all([this.sqs(), import('./sqs-sdk')]);
    for (let start = 0; start < units.length; start += BATCH) {
      let entries = units.slice(start, start + BATCH).map((unit, index) => {
        const message: UnitMessage = { type: 'unit', runId, ...unit };
        return { Id: String(start + index), MessageBody: JSON.stringify(message) };
      });
      for (let attempt = 0; entries.length > 0; attempt += 1) {
        let output: SendMessageBatchCommandOutput;
        try {
          output = await sqs.send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: entries }));
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
    const [sqs, { SendMessageCommand }] = await Promise.all([this.sqs(), import('./sqs-sdk')]);
    try {
      await sqs.send(
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

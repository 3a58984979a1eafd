/**
 * What the organization audit's queue uses of the SQS client (./sqs-audit-queue.ts), imported dynamically: a module
 * of its own so that the chunk the Lambda bundles make of it holds these only. The audit worker sends a message only
 * to re-arm a run's deadline check, so it loads them then; the fan-out sends every run and loads them at init
 * (docs/architecture.md#what-loads-when).
 */
export { SendMessageBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

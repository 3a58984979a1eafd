/**
 * The guard as the demo runs it: the real drift handler (createDriftHandler) and the real audit
 * (auditKeys) over the real adapters (KMS, SNS, DynamoDB, EventBridge), all pointed at moto. Two small
 * additions make the run visible: a Powertools Logger that records its lines instead of printing
 * them, and a record of every SNS Publish request, so the demo can show the e-mail text exactly as
 * it was sent (an SQS subscriber only receives the JSON part of the message).
 */
import path from 'node:path';
import type { LogItem } from '@aws-lambda-powertools/logger';
import { Logger } from '@aws-lambda-powertools/logger';
import { PublishCommand, type PublishCommandInput, type SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { createDriftHandler } from '../../src/app/drift-handler';
import { buildGuard } from '../../src/app/guard-deps';
import { DynamoRemediationLedger } from '../../src/aws/dynamo-ledger';
import { EventBridgeRuleHealth } from '../../src/aws/rule-health';
import { type AuditReport, auditKeys } from '../../src/guard/audit-keys';
import type { BindingStore } from '../../src/guard/ports';
import type { LoadedManifest } from '../../src/manifest/types';
import { WORLD_PLACEHOLDERS, type WorldClientConfig } from '../world';

export type DriftHandler = ReturnType<typeof createDriftHandler>;
export type { DriftSummary } from '../../src/app/drift-handler';

export const REPO_ROOT = path.resolve(__dirname, '../..');

/** One line the guard logged (Powertools attributes: level, message, and the structured keys). */
export interface GuardLogLine {
  level: string;
  message: string;
  attributes: Record<string, unknown>;
}

/** A Powertools Logger whose lines are kept for the demo to show, instead of JSON on stdout. */
export class RecordingLogger extends Logger {
  readonly lines: GuardLogLine[] = [];

  protected override printLog(_logLevel: number, log: LogItem): void {
    const attributes = log.getAttributes();
    this.lines.push({
      level: String(attributes.level ?? ''),
      message: String(attributes.message ?? ''),
      attributes,
    });
  }
}

/** One SNS Publish request as the guard sent it. */
export interface SentMessage {
  findingId: string;
  subject: string;
  /** The `email` part of the JSON message: what an e-mail subscriber reads. */
  emailText: string;
}

const publishedMessageSchema = z.object({ default: z.string(), email: z.string() });
const findingIdSchema = z.looseObject({ id: z.string() });

/** Records the Publish requests an SNS client sends (an SDK middleware, so nothing else changes). */
export function recordPublishes(sns: SNSClient): SentMessage[] {
  const sent: SentMessage[] = [];
  sns.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === PublishCommand.name) {
        const input = args.input as PublishCommandInput;
        const message = publishedMessageSchema.safeParse(JSON.parse(input.Message ?? '{}'));
        const finding = message.success
          ? findingIdSchema.safeParse(JSON.parse(message.data.default))
          : undefined;
        if (message.success && finding?.success) {
          sent.push({
            findingId: finding.data.id,
            subject: input.Subject ?? '',
            emailText: message.data.email,
          });
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'demoRecordPublish' },
  );
  return sent;
}

/** What an EventBridge-invoked Lambda receives as its context; the handler's logger reads it. */
export function demoLambdaContext(requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'kms-policy-guard-local-drift',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kms-policy-guard-local-drift',
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/kms-policy-guard-local-drift',
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface DemoGuardOptions {
  clientConfig: WorldClientConfig;
  manifest: LoadedManifest;
  topicArn: string;
  stateTable: string;
  driftRule: { ruleName: string; busName: string };
}

export interface DemoGuard {
  drift: DriftHandler;
  /** The sticky bindings the guard keeps in the state table. */
  bindings: BindingStore;
  ledger: DynamoRemediationLedger;
  audit(runId: string): Promise<AuditReport>;
  logger: RecordingLogger;
  sent: SentMessage[];
  destroy(): void;
}

/** The guard with its own clients (it is a different principal from whoever tampers with the keys). */
export async function createDemoGuard(options: DemoGuardOptions): Promise<DemoGuard> {
  const { clientConfig, manifest } = options;
  const logger = new RecordingLogger({ serviceName: 'kms-policy-guard', logLevel: 'INFO' });
  const guard = buildGuard({
    manifest,
    aws: clientConfig,
    logger,
    repoRoot: REPO_ROOT,
    topicArn: options.topicArn,
    stateTable: options.stateTable,
  });
  const sent = recordPublishes(guard.sns);
  const { ledger } = guard.deps;
  if (!(ledger instanceof DynamoRemediationLedger))
    throw new TypeError('the demo guard keeps its ledger in DynamoDB');
  const handler = createDriftHandler(
    { ...guard.deps, logger, region: clientConfig.region },
    { timeoutEarlyInMillis: 0 },
  );
  const health = EventBridgeRuleHealth.create(clientConfig, options.driftRule.ruleName, {
    eventBusName: options.driftRule.busName,
  });
  return {
    drift: handler,
    bindings: guard.deps.bindings,
    ledger,
    audit: (runId) =>
      // As the audit function runs it: the location from the function's ARN, every customer managed key.
      auditKeys(
        { ...guard.deps, health },
        { runId, trigger: 'audit', concurrency: 4, reportUnmanaged: true, location: WORLD_PLACEHOLDERS },
      ),
    logger,
    sent,
    destroy: () => {
      guard.destroy();
      health.destroy();
    },
  };
}

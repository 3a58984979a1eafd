/**
 * The organization audit's worker (docs/architecture.md#the-organization-audit), an SQS event source with
 * partial batch responses: each unit message is audited (a member's feed too: its spoke forward rule and trail,
 * ./spoke-feed.ts) and recorded; the deadline message closes the run when its time has come. A unit that fails is
 * reported as a batch item failure (SQS delivers it again, then to the DLQ); on its last receive it is first
 * recorded as failed, so the run never waits on it. Retryable failures are never swallowed.
 *
 * handlers/audit-worker.ts only calls initAuditWorkerHandler. The scheduled audit that sends the messages:
 * ./audit-fan-out-handler.ts; what both share: ./org-audit-deps.ts.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { SqsAuditQueue } from '../aws/sqs-audit-queue';
import { partitionOfRegion } from '../core/key-arn';
import { hubBusArn } from '../core/spoke-names';
import type { AuditReport } from '../guard/audit-keys';
import { parseAuditMessage } from '../guard/org-audit/messages';
import { auditUnit, checkDeadline, failedUnitReport, recordUnit } from '../guard/org-audit/run';
import type { RunOutcome } from '../guard/org-audit/summary';
import { readAuditWorkerConfig } from './config';
import { guardFromConfig } from './guard-deps';
import { createGuardMetrics, publishAuditMetrics } from './metrics';
import { type OrgAuditHandlerDeps, orgAuditDeps } from './org-audit-deps';

/** The run's end as the audit metrics want it: the heartbeat only for a complete run. */
function emitRunMetrics(deps: OrgAuditHandlerDeps, outcome: RunOutcome): void {
  if (!deps.metrics) return;
  const report: AuditReport = {
    runId: outcome.runId,
    startedAt: new Date(deps.clock.now().getTime() - outcome.durationMs).toISOString(),
    durationMs: outcome.durationMs,
    complete: outcome.complete,
    summary: outcome.summary,
    keys: [],
    notChecked: [],
    awsManagedSkipped: 0,
    problems: [],
    notes: [],
    findings: outcome.findings,
  };
  try {
    publishAuditMetrics(deps.metrics, report);
  } catch (error) {
    deps.logger.error('audit_metrics_failed', { error });
  }
}

export interface WorkerOptions {
  concurrency: number;
  reportUnmanaged: boolean;
  /** The queue's maxReceiveCount: on the last receive a failing unit is recorded as failed first. */
  maxReceives: number;
  timeoutEarlyInMillis?: number;
}

export function createAuditWorkerHandler(deps: OrgAuditHandlerDeps, options: WorkerOptions) {
  const handle = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      const message = parseAuditMessage(record.body);
      if (!message) {
        // Not ours: retrying can never make it so. Logged loudly and dropped.
        deps.logger.error('audit_message_refused', {
          messageId: record.messageId,
          body: record.body.slice(0, 500),
        });
        continue;
      }
      deps.logger.appendKeys({ runId: message.runId });
      try {
        const outcome =
          message.type === 'unit'
            ? await recordUnit(
                deps,
                message.runId,
                await auditUnit(deps, message, {
                  concurrency: options.concurrency,
                  reportUnmanaged: options.reportUnmanaged,
                  timeLeftMs: () => context.getRemainingTimeInMillis(),
                }),
                deps.hubLocation,
              )
            : await checkDeadline(deps, message.runId, deps.hubLocation);
        if (outcome) emitRunMetrics(deps, outcome);
        // Security Hub, when on: the unit's findings in each key's account (a transient failure retries the
        // message; recording the unit again is a no-op).
        await deps.compliance?.flush();
      } catch (error) {
        const receives = Number(record.attributes?.ApproximateReceiveCount ?? '1');
        deps.logger.error('audit_message_failed', { messageId: record.messageId, receives, message, error });
        if (message.type === 'unit' && receives >= options.maxReceives) {
          try {
            const outcome = await recordUnit(
              deps,
              message.runId,
              failedUnitReport(message, error),
              deps.hubLocation,
            );
            if (outcome) emitRunMetrics(deps, outcome);
          } catch (recordError) {
            deps.logger.error('audit_unit_failure_not_recorded', { error: recordError });
          }
        }
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
  return middy(handle, { timeoutEarlyInMillis: options.timeoutEarlyInMillis }).use(
    injectLambdaContext(deps.logger, { resetKeys: true }),
  );
}

/** Production wiring of the audit worker from the environment, once per container (handlers/audit-worker.ts awaits it). */
export async function initAuditWorkerHandler(env: Readonly<Record<string, string | undefined>>) {
  const logger = new Logger({ serviceName: 'kms-policy-guard' });
  const config = readAuditWorkerConfig(env);
  const guard = await guardFromConfig(config, logger);
  // The worker sends a message only to re-arm a run's deadline check (rare): its SQS client is loaded then.
  const queue = SqsAuditQueue.create({ region: config.region }, config.queueUrl);
  const deps = orgAuditDeps(guard, logger, queue, config.region);
  const partition = partitionOfRegion(config.region);
  // A member account's unit checks its feed (EventBridge and CloudTrail through its spoke role, ./spoke-feed.ts);
  // a hub without member accounts has no such unit, so it never loads those clients.
  const hasMembers = config.hub.organizationId !== undefined || config.hub.memberAccounts.length > 0;
  const feed =
    guard.hub && hasMembers
      ? (await import('./spoke-feed')).buildSpokeFeedHealth(
          guard.hub.access,
          { region: config.region },
          { hubBusArn: hubBusArn(partition, config.region, config.hub.hubAccountId, config.hubEventBus) },
        )
      : undefined;
  logger.info('audit_worker_initialized', {
    manifest: config.manifestPath,
    accounts: config.hub.organizationId ?? config.hub.memberAccounts,
    regions: config.hub.regions,
    spokeFeed: feed !== undefined,
  });
  return createAuditWorkerHandler(
    { ...deps, ...(feed ? { spokeFeed: feed.probe } : {}), metrics: createGuardMetrics() },
    {
      concurrency: config.concurrency,
      reportUnmanaged: config.reportUnmanaged,
      maxReceives: config.maxReceives,
    },
  );
}

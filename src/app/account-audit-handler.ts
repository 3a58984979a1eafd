/**
 * The audit of one account and Region, which checks every key itself (docs/architecture.md#the-scheduled-audit):
 * an EventBridge schedule -> auditKeys over every key the manifest manages (and, by default, every customer
 * managed key it does not) -> one finding per problem key, a guard-disabled finding when the drift rule is missing
 * or disabled, a guard-degraded finding listing every other gap in the guard's health (./guard-health), and one
 * audit-summary finding; then the run's metrics (./metrics: the AuditHeartbeat the heartbeat alarm waits for).
 *
 * The audit function runs it when AUDIT_QUEUE_URL is not set: ./audit-handler.ts imports this module dynamically
 * then (a chunk of its own). The deployed audit fans out instead (./audit-fan-out-handler.ts: serverless.yml always
 * sets the queue), so its init never compiles the key check or the policy engine
 * (docs/architecture.md#what-loads-when).
 *
 * An audit that could not check every key publishes what it could (the audit-incomplete finding names
 * the keys not checked), emits its metrics without a heartbeat, and then THROWS, so the failure shows
 * in the function's Errors metric and alarm.
 *
 * Environment (src/app/config.ts): TOPIC_ARN, DRIFT_RULE_NAME, DRIFT_FUNCTION_ARN, AUDIT_RULE_NAME
 * (required), AUDIT_FUNCTION_ARN, FUNCTION_NAMES, MANIFEST_PATH, STATE_TABLE, AUDIT_CONCURRENCY (1..64,
 * default 8), AUDIT_REPORT_UNMANAGED (default true), GUARD_ROLE_ARN.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type KeyLocation, partitionOfRegion } from '../core/key-arn';
import * as z from '../core/zod';
import { type AuditDeps, AuditIncompleteError, type AuditSummary, auditKeys } from '../guard/audit-keys';
import { flushCompliance } from '../guard/compliance';
import { guardRoleArn } from '../manifest/placeholders';
import type { AuditConfig } from './config';
import { functionLocation } from './function-location';
import { guardFromConfig } from './guard-deps';
import { buildGuardHealth } from './guard-health';
import { createGuardMetrics, publishAuditMetrics } from './metrics';

export interface AuditHandlerDeps extends Omit<AuditDeps, 'logger'> {
  logger: Logger;
  region: string;
  concurrency: number;
  reportUnmanaged: boolean;
  guardRoleArn?: string;
  /** Where the run's metrics go (EMF log lines); absent: none (tests that do not look at them). */
  metrics?: Metrics;
}

export interface AuditHandlerOptions {
  /** middy: how long before the Lambda timeout to give up; tests use 0 (no timer). */
  timeoutEarlyInMillis?: number;
}

export interface AuditResult {
  runId: string;
  complete: true;
  summary: AuditSummary;
  durationMs: number;
}

/** Only what the audit uses from the scheduled event (`aws.events`, `Scheduled Event`). */
const scheduledEventSchema = z.looseObject({
  id: z.optional(z.string().check(z.minLength(1))),
  account: z.optional(z.string().check(z.regex(/^\d{12}$/))),
  region: z.optional(z.string().check(z.minLength(1))),
});

/** The audited account and Region: from the function's own ARN (always there), else the event. */
function locationOf(
  event: z.infer<typeof scheduledEventSchema>,
  context: Context,
  region: string,
): KeyLocation | undefined {
  const own = functionLocation(context);
  if (own) return own;
  if (event.account) {
    const eventRegion = event.region ?? region;
    return { partition: partitionOfRegion(eventRegion), region: eventRegion, accountId: event.account };
  }
  return undefined;
}

/** The Lambda handler around injected dependencies (middy + Powertools context injection). */
export function createAuditHandler(deps: AuditHandlerDeps, options: AuditHandlerOptions = {}) {
  const { logger } = deps;
  const handle = async (event: unknown, context: Context): Promise<AuditResult> => {
    const parsed = scheduledEventSchema.safeParse(event);
    const scheduled = parsed.success ? parsed.data : {};
    const now = deps.clock.now();
    // The scheduled event's ID: a retried invocation publishes findings with the same IDs.
    const runId = scheduled.id ?? `audit-${now.toISOString()}`;
    const location = locationOf(scheduled, context, deps.region);
    logger.appendKeys({ runId });
    const auditDeps: AuditDeps = { ...deps };
    const guardPrincipal =
      deps.guardPrincipalArn ?? deps.guardRoleArn ?? (location && guardRoleArn(location));
    if (guardPrincipal) auditDeps.guardPrincipalArn = guardPrincipal;
    const report = await auditKeys(auditDeps, {
      runId,
      trigger: 'audit',
      concurrency: deps.concurrency,
      reportUnmanaged: deps.reportUnmanaged,
      ...(location ? { location } : {}),
      region: deps.region,
      timeLeftMs: () => context.getRemainingTimeInMillis(),
    });
    // Security Hub (docs/architecture.md#security-hub), when on; a transient failure is thrown below.
    const complianceError = await flushCompliance(deps.compliance, logger);
    if (deps.metrics) {
      try {
        publishAuditMetrics(deps.metrics, report);
      } catch (error) {
        // A metrics bug must not hide the audit's outcome; the missing heartbeat then alarms.
        logger.error('audit_metrics_failed', { error });
      }
    }
    if (!report.complete) {
      logger.error('audit_incomplete', {
        summary: report.summary,
        notChecked: report.notChecked,
        problems: report.problems,
      });
      throw new AuditIncompleteError(report);
    }
    if (complianceError) throw complianceError;
    return { runId, complete: true, summary: report.summary, durationMs: report.durationMs };
  };
  return middy(handle, { timeoutEarlyInMillis: options.timeoutEarlyInMillis }).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );
}

/** Production wiring of the audit that checks the keys itself, once per container (./audit-handler.ts). */
export async function initAccountAuditHandler(config: AuditConfig, logger: Logger) {
  const guard = await guardFromConfig(config, logger);
  const { manifest } = guard.deps;
  logger.info('audit_initialized', {
    manifest: config.manifestPath,
    managedKeys: manifest.keys.length,
    concurrency: config.concurrency,
    reportUnmanaged: config.reportUnmanaged,
    driftRule: config.driftRuleName,
    driftFunction: config.driftFunctionArn,
    auditRule: config.auditRuleName,
    functions: config.functionNames,
  });
  return createAuditHandler({
    ...guard.deps,
    logger,
    health: buildGuardHealth(config, { region: config.region }).probe,
    metrics: createGuardMetrics(),
    region: config.region,
    concurrency: config.concurrency,
    reportUnmanaged: config.reportUnmanaged,
    guardRoleArn: config.guardRoleArn,
  });
}

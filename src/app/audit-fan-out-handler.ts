/**
 * The scheduled audit as deployed (AUDIT_QUEUE_URL set; docs/architecture.md#the-organization-audit): the hub's
 * health, one SQS message per guarded account and Region, and the run's deadline check. The audit workers check
 * the keys (./audit-worker-handler.ts); this function checks none, so nothing it imports holds the key check or
 * the policy engine, and its cold start does not compile them (docs/architecture.md#what-loads-when).
 *
 * handlers/audit.ts calls ./audit-handler.ts, which picks this when the queue is configured.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import * as z from 'zod';
import { SqsAuditQueue } from '../aws/sqs-audit-queue';
import { startOrganizationAudit } from '../guard/org-audit/start';
import { type AuditConfig, hubOrOwn } from './config';
import { guardFromConfig } from './guard-deps';
import { buildGuardHealth } from './guard-health';
import { type OrgAuditHandlerDeps, orgAuditDeps } from './org-audit-deps';

const scheduledEventSchema = z.looseObject({ id: z.string().min(1).max(200).optional() });

export function createFanOutHandler(
  deps: OrgAuditHandlerDeps,
  options: { deadlineSeconds: number; timeoutEarlyInMillis?: number },
) {
  const handle = async (event: unknown) => {
    const parsed = scheduledEventSchema.safeParse(event);
    const runId = (parsed.success ? parsed.data.id : undefined) ?? `audit-${deps.clock.now().toISOString()}`;
    deps.logger.appendKeys({ runId });
    const started = await startOrganizationAudit(deps, {
      runId,
      hubLocation: deps.hubLocation,
      deadlineSeconds: options.deadlineSeconds,
    });
    // Security Hub (docs/architecture.md#security-hub), when on: the hub's health; transient failures throw.
    await deps.compliance?.flush();
    return { runId, units: started.units.length, findings: started.findings.map((finding) => finding.id) };
  };
  return middy(handle, { timeoutEarlyInMillis: options.timeoutEarlyInMillis }).use(
    injectLambdaContext(deps.logger, { resetKeys: true }),
  );
}

/** Production wiring of the fan-out, once per container (./audit-handler.ts). */
export async function initFanOutAuditHandler(config: AuditConfig & { queueUrl: string }, logger: Logger) {
  // The organization audit: one SQS message per account and Region (a single account: one unit).
  const guard = await guardFromConfig({ ...config, hub: hubOrOwn(config) }, logger);
  // Every run sends its units: the SQS client is loaded now, not on the first run.
  const queue = await SqsAuditQueue.load({ region: config.region }, config.queueUrl);
  logger.info('audit_initialized', { fanOut: config.queueUrl, regions: guard.hub?.scope.regions });
  return createFanOutHandler(
    {
      ...orgAuditDeps(guard, logger, queue, config.region),
      health: buildGuardHealth(config, { region: config.region }).probe,
    },
    { deadlineSeconds: config.runDeadlineSeconds },
  );
}

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
import { SqsAuditQueue } from '../aws/sqs-audit-queue';
import type { KeyLocation } from '../core/key-arn';
import * as z from '../core/zod';
import { type FanOutDeps, startOrganizationAudit } from '../guard/org-audit/start';
import { loadManifestPrevalidated } from '../manifest/prevalidated';
import { type AuditConfig, hubOrOwn } from './config';
import { buildFindingParts } from './finding-deps';
import { buildGuardHealth } from './guard-health';
import { directoryFor, spokeAccessFor } from './hub-access';
import { auditRunsIn, hubLocationOf } from './org-audit-deps';
import { buildSecurityHubSink } from './security-hub';

export interface FanOutHandlerDeps extends Omit<FanOutDeps, 'logger'> {
  logger: Logger;
  /** The hub's own location: the run's account-level findings are held and shown there. */
  hubLocation: KeyLocation;
}

const scheduledEventSchema = z.looseObject({
  id: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
});

export function createFanOutHandler(
  deps: FanOutHandlerDeps,
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

/**
 * Production wiring of the fan-out, once per container (./audit-handler.ts): the findings' publisher and outbox,
 * the state table, the hub's directory, the health checks and the queue. Not buildGuard: no KMS client, no key
 * check. The manifest is loaded and checked as in every guard function (an invalid one fails init).
 */
export async function initFanOutAuditHandler(config: AuditConfig & { queueUrl: string }, logger: Logger) {
  await loadManifestPrevalidated(config.manifestPath);
  // The organization audit: one SQS message per account and Region (a single account: one unit).
  const hub = hubOrOwn(config);
  const aws = { region: config.region };
  const findings = buildFindingParts({
    aws,
    logger,
    topicArn: config.topicArn,
    ...(config.stateTable ? { stateTable: config.stateTable } : {}),
  });
  const { clock, publisher } = findings;
  const runs = auditRunsIn(findings.stateTable, clock);
  const securityHub =
    config.securityHub &&
    buildSecurityHubSink({ access: spokeAccessFor(hub, aws), aws, logger, clock, publisher });
  // Every run sends its units: the SQS client is loaded now, not on the first run.
  const queue = await SqsAuditQueue.load(aws, config.queueUrl);
  logger.info('audit_initialized', { fanOut: config.queueUrl, regions: hub.regions });
  return createFanOutHandler(
    {
      clock,
      logger,
      publisher,
      outbox: findings.outbox,
      ...(securityHub ? { compliance: securityHub.sink } : {}),
      health: buildGuardHealth(config, aws).probe,
      hub: { hubAccountId: hub.hubAccountId, regions: hub.regions, directory: directoryFor(hub, aws) },
      runs,
      queue,
      hubLocation: hubLocationOf(config.region, hub.hubAccountId),
    },
    { deadlineSeconds: config.runDeadlineSeconds },
  );
}

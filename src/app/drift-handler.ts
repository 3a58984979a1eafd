/**
 * The drift function (docs/architecture.md#data-flow): EventBridge (CloudTrail PutKeyPolicy | CreateKey |
 * ReplicateKey from aws.kms) -> classify the event -> checkKey -> a small summary. Parsing is
 * src/guard/event.ts, deciding is src/guard/check-key.ts; handlers/drift.ts only calls initDriftHandler.
 *
 * Init (once per container): configuration from the environment (src/app/config.ts), the manifest loaded
 * and validated (an invalid manifest fails init loudly), the guard built by buildGuard. Tests build
 * handlers with createDriftHandler and their own dependencies.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { type DriftIdempotencyMiddlewareOptions, driftIdempotencyMiddleware } from '../aws/idempotency';
import type { ActionTaken, FindingKind } from '../core/finding';
import { type CheckKeyDeps, type CheckResult, checkKey } from '../guard/check-key';
import { classifyKmsEvent, type RejectionReason } from '../guard/event';
import type { Severity } from '../policy/types';
import { readDriftConfig } from './config';
import { guardFromConfig } from './guard-deps';

export interface DriftHandlerDeps extends Omit<CheckKeyDeps, 'logger'> {
  /** Powertools Logger: injectLambdaContext adds the request ID and cold start to every line. */
  logger: Logger;
  /** The Region this guard runs in: keys elsewhere are not readable from here. */
  region: string;
  /** The guard's role ARN; absent: derived per event from the account and Region. */
  guardRoleArn?: string;
}

export interface DriftHandlerOptions {
  /** middy: how long before the Lambda timeout to give up; tests use 0 (no timer). */
  timeoutEarlyInMillis?: number;
  /**
   * Deduplicate deliveries by the CloudTrail `detail.eventID` on the state table (src/aws/idempotency.ts):
   * EventBridge delivers at least once, and a duplicate must not publish a second finding or re-apply twice.
   */
  idempotency?: DriftIdempotencyMiddlewareOptions;
}

export interface DriftSummary {
  status: CheckResult | 'rejected' | 'other-region';
  eventId?: string;
  eventName?: string;
  keyArn?: string;
  reason?: RejectionReason | 'key-in-other-region';
  finding?: { id: string; kind: FindingKind; severity: Severity; action: ActionTaken };
}

/** The Lambda handler around injected dependencies (middy + Powertools context injection). */
export function createDriftHandler(deps: DriftHandlerDeps, options: DriftHandlerOptions = {}) {
  const { logger } = deps;
  const handle = async (event: unknown): Promise<DriftSummary> => {
    const classified = classifyKmsEvent(event, { region: deps.region, guardRoleArn: deps.guardRoleArn });
    if (classified.outcome === 'rejected') {
      logger.warn('event_rejected', {
        reason: classified.reason,
        detail: classified.message,
        eventId: classified.eventId,
        eventName: classified.eventName,
        source: classified.source,
        detailType: classified.detailType,
        errorCode: classified.errorCode,
      });
      return {
        status: 'rejected',
        reason: classified.reason,
        eventId: classified.eventId,
        eventName: classified.eventName,
      };
    }
    if (classified.outcome === 'elsewhere') {
      logger.info('event_for_other_region', {
        reason: classified.reason,
        eventId: classified.eventId,
        eventName: classified.eventName,
        keyArn: classified.keyArn,
        keyRegion: classified.keyRegion,
        guardRegion: deps.region,
        actor: classified.actor.arn,
        note: `KMS is regional: the guard deployed in ${classified.keyRegion} checks this key (its CreateKey event there, and its audit).`,
      });
      return {
        status: 'other-region',
        reason: classified.reason,
        eventId: classified.eventId,
        eventName: classified.eventName,
        keyArn: classified.keyArn,
      };
    }
    logger.appendKeys({ eventId: classified.eventId, actor: classified.actor.arn });
    const outcome = await checkKey(
      { ...deps, guardPrincipalArn: deps.guardPrincipalArn ?? deps.guardRoleArn },
      {
        keyRef: classified.keyRef,
        trigger: 'event',
        actor: classified.actor,
        eventId: classified.eventId,
      },
    );
    const summary: DriftSummary = {
      status: outcome.result,
      eventId: classified.eventId,
      eventName: classified.eventName,
      keyArn: outcome.keyArn,
    };
    if (outcome.finding) {
      const { id, kind, severity, action } = outcome.finding;
      summary.finding = { id, kind, severity, action };
    }
    return summary;
  };
  const handler = middy(handle, { timeoutEarlyInMillis: options.timeoutEarlyInMillis }).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );
  // After the logger: a duplicate answered early still has the request's log context, and Powertools'
  // early-return cleanup resets the logger keys as the skipped `after` would.
  return options.idempotency ? handler.use(driftIdempotencyMiddleware(options.idempotency)) : handler;
}

/** Production wiring from the environment, run once per container at module init. */
export function initDriftHandler(env: Readonly<Record<string, string | undefined>>) {
  const logger = new Logger({ serviceName: 'kms-policy-guard' });
  const config = readDriftConfig(env);
  const guard = guardFromConfig(config, logger);
  const { manifest } = guard.deps;
  logger.info('drift_guard_initialized', {
    manifest: config.manifestPath,
    managedKeys: manifest.keys.length,
    unmanagedKeys: manifest.unmanagedKeys,
  });
  return createDriftHandler(
    { ...guard.deps, logger, region: config.region, guardRoleArn: config.guardRoleArn },
    // An event without an eventID is not deduplicated; the handler then rejects it as malformed.
    guard.stateTable ? { idempotency: { ...guard.stateTable, onMissingEventId: 'run-unprotected' } } : {},
  );
}

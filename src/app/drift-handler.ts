/**
 * The drift function (docs/architecture.md#data-flow): EventBridge (CloudTrail PutKeyPolicy | CreateKey |
 * ReplicateKey from aws.kms) -> classify the event -> checkKey -> a small summary, then (when on) the
 * checks' findings to Security Hub in one flush. Parsing is src/guard/event.ts, deciding is
 * src/guard/check-key.ts; handlers/drift.ts only calls initDriftHandler.
 *
 * Init (once per container): configuration from the environment (src/app/config.ts), the manifest loaded
 * and validated (an invalid manifest fails init loudly), the guard built by buildGuard. Tests build
 * handlers with createDriftHandler and their own dependencies.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type DriftIdempotencyMiddlewareOptions, driftIdempotencyMiddleware } from '../aws/idempotency';
import type { ActionTaken, Actor, Finding, FindingKind } from '../core/finding';
import { type KeyLocation, parseKeyArn, partitionOfRegion, sameLocation } from '../core/key-arn';
import { type CheckKeyDeps, type CheckKeyRequest, type CheckResult, checkKey } from '../guard/check-key';
import { PublishFailedError } from '../guard/errors';
import {
  type ClassifyOptions,
  classifyKmsEvent,
  type KmsEventClassification,
  type RejectionReason,
} from '../guard/event';
import { type HubScope, routeLocation } from '../guard/hub';
import { deliverHeld } from '../guard/outbox';
import type { Severity } from '../policy/types';
import { readDriftConfig } from './config';
import { DriftPrefetch, ownLocation } from './drift-prefetch';
import { type Guard, guardFromConfig } from './guard-deps';
import { createGuardMetrics, publishDriftMetrics } from './metrics';

export interface DriftHandlerDeps extends Omit<CheckKeyDeps, 'logger'> {
  /** Powertools Logger: injectLambdaContext adds the request ID and cold start to every line. */
  logger: Logger;
  /** The Region this guard runs in: keys elsewhere are not readable from here. */
  region: string;
  /** The guard's role ARN; absent: derived per event from the account and Region. */
  guardRoleArn?: string;
  /**
   * The hub (docs/architecture.md#the-hub-and-its-spokes): keys of every guarded account and Region, each
   * checked with the clients of its own location; absent: this function's own account and Region only.
   */
  hub?: HubScope;
  /** Where the invocation's metrics go (EMF log lines, ./metrics.ts); absent: none. */
  metrics?: Metrics;
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

type FindingSummary = { id: string; kind: FindingKind; severity: Severity; action: ActionTaken };

export interface DriftSummary {
  /** The first key's result, or `published` when any key's check published a finding. */
  status: CheckResult | 'rejected' | 'other-region';
  eventId?: string;
  eventName?: string;
  /** The first key the event touched. */
  keyArn?: string;
  reason?: RejectionReason | 'key-in-other-region' | 'account-not-guarded' | 'spoke-unreachable';
  /** The first key's policy finding (or its first finding). */
  finding?: FindingSummary;
  /** Every key the event touched (an alias move touches two) and what its check published. */
  keys?: { keyArn: string; status: CheckResult; findings: FindingSummary[] }[];
  /** The CloudTrail record's eventTime (the metrics' event-to-finding latency). */
  eventTime?: string;
}

/** Every finding the invocation published (the scope refusal's, or each key's). */
function findingsOf(summary: DriftSummary): FindingSummary[] {
  if (summary.keys) return summary.keys.flatMap((key) => key.findings);
  return summary.finding ? [summary.finding] : [];
}

/** The kinds a policy check ends in: the summary's `finding` prefers one of them. */
const POLICY_KINDS: ReadonlySet<FindingKind> = new Set([
  'drift',
  'remediated',
  'would-remediate',
  'invalid-desired',
  'invalid-live',
  'orphaned-principal',
  'flapping',
  'remediation-failed',
  'lockout-risk',
  'unmanaged-key',
]);

function eventTimeOf(actor: Actor): { eventTime?: string } {
  return actor.eventTime !== undefined ? { eventTime: actor.eventTime } : {};
}

function summaryOf(finding: Finding): FindingSummary {
  return { id: finding.id, kind: finding.kind, severity: finding.severity, action: finding.action };
}

/** An event the hub refused (outside its scope, spoke unreachable): the rejection and its finding. */
function refusedSummary(
  refusal: { kind: 'account-not-guarded' | 'spoke-unreachable'; finding: Finding },
  event: { eventId: string; eventName: string; actor: Actor },
): DriftSummary {
  return {
    status: 'rejected',
    reason: refusal.kind,
    eventId: event.eventId,
    eventName: event.eventName,
    finding: summaryOf(refusal.finding),
    ...eventTimeOf(event.actor),
  };
}

/** The keys an event touches: the one it names, and for an alias call every key bound by that alias. */
async function keysTouched(
  deps: DriftHandlerDeps,
  classified: Extract<KmsEventClassification, { outcome: 'check' }>,
  served: KeyLocation,
): Promise<string[]> {
  const keys = new Set<string>();
  if (classified.keyRef !== undefined) keys.add(classified.keyRef);
  if (classified.aliasName !== undefined) {
    for (const binding of await deps.bindings.list(served)) {
      if (binding.matcherKind === 'alias' && binding.matcherValue === classified.aliasName)
        keys.add(binding.keyArn);
    }
  }
  return [...keys];
}

/** The Lambda handler around injected dependencies (middy + Powertools context injection). */
export function createDriftHandler(deps: DriftHandlerDeps, options: DriftHandlerOptions = {}) {
  const { logger } = deps;
  const classifyOptions: ClassifyOptions = { region: deps.region };
  if (deps.guardRoleArn !== undefined) classifyOptions.guardRoleArn = deps.guardRoleArn;
  const { hub: hubScope } = deps;
  if (hubScope) {
    // The key's account and Region come from the CloudTrail record, never from the envelope.
    classifyOptions.regions = hubScope.regions;
    classifyOptions.recordLocationOnly = true;
    classifyOptions.guardPrincipalFor = (accountId) => hubScope.principalFor(accountId) ?? deps.guardRoleArn;
  }
  // With idempotency, a PutKeyPolicy event's key is read while its record is written (./drift-prefetch.ts).
  const prefetch = options.idempotency && !hubScope ? new DriftPrefetch(deps, classifyOptions) : undefined;
  const metricsOf = (outcome: string, summary: DriftSummary | undefined, publishedAt: Date): void => {
    if (!deps.metrics) return;
    try {
      publishDriftMetrics(deps.metrics, {
        outcome,
        findings: summary ? findingsOf(summary) : [],
        publishedAt,
        ...(summary?.eventTime !== undefined ? { eventTime: summary.eventTime } : {}),
      });
    } catch (error) {
      // A metrics bug must never fail (or hide) the invocation's result.
      logger.error('drift_metrics_failed', { error });
    }
  };
  const handle = async (event: unknown, context: Context): Promise<DriftSummary> => {
    let summary: DriftSummary | undefined;
    let publishedAt = deps.clock.now();
    try {
      summary = await route(event, context);
      publishedAt = deps.clock.now();
      // Security Hub (docs/architecture.md#security-hub), when on: what the checks found, in one go.
      await deps.compliance?.flush();
    } catch (error) {
      metricsOf('error', summary, publishedAt);
      throw error;
    }
    metricsOf(summary.status, summary, publishedAt);
    return summary;
  };
  const route = async (event: unknown, context: Context): Promise<DriftSummary> => {
    const { hub } = deps;
    const classified = classifyKmsEvent(event, classifyOptions);
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
    if (classified.outcome === 'elsewhere' && hub) {
      // A Region the hub does not guard: refused with a finding, nothing read.
      const refused = await routeLocation(hub, deps, {
        location: parseKeyArn(classified.keyArn) ?? {
          partition: partitionOfRegion(classified.keyRegion),
          region: classified.keyRegion,
          accountId: classified.accountId,
        },
        keyArn: classified.keyArn,
        eventId: classified.eventId,
        trigger: 'event',
        actor: classified.actor,
      });
      if (refused.outcome === 'refused') return refusedSummary(refused, classified);
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
    let served: KeyLocation;
    const checkDeps: CheckKeyDeps = {
      ...deps,
      guardPrincipalArn: deps.guardPrincipalArn ?? deps.guardRoleArn,
    };
    if (hub) {
      // The hub: the record's account and Region (checked against the key ARN when classifying).
      served = {
        partition: partitionOfRegion(classified.recordRegion),
        region: classified.recordRegion,
        accountId: classified.recipientAccountId,
      };
      const route = await routeLocation(hub, deps, {
        location: served,
        ...(classified.keyRef !== undefined ? { keyArn: classified.keyRef } : {}),
        eventId: classified.eventId,
        trigger: 'event',
        actor: classified.actor,
      });
      if (route.outcome === 'refused') return refusedSummary(route, classified);
      checkDeps.store = route.store;
      const principal = route.guardPrincipalArn ?? checkDeps.guardPrincipalArn;
      if (principal !== undefined) checkDeps.guardPrincipalArn = principal;
    } else {
      served = ownLocation(deps.region, context, classified.recipientAccountId);
    }
    const here = served;
    checkDeps.serves = deps.serves ?? ((location: KeyLocation) => sameLocation(location, here));
    // Alias and tag calls change what binds keys to entries: read them fresh, not from the lookup cache.
    if (classified.aliasName !== undefined) checkDeps.store.forget();
    const keyRefs = await keysTouched(deps, classified, served);
    if (classified.eventName === 'TagResource' || classified.eventName === 'UntagResource') {
      for (const keyRef of keyRefs) checkDeps.store.forgetTags(parseKeyArn(keyRef)?.keyId ?? keyRef);
    }
    const keys: NonNullable<DriftSummary['keys']> = [];
    for (const keyRef of keyRefs) {
      const request: CheckKeyRequest = {
        keyRef,
        trigger: 'event',
        actor: classified.actor,
        eventId: classified.eventId,
      };
      if (classified.replicaRegion !== undefined) request.replicaRegion = classified.replicaRegion;
      request.eventName = classified.eventName;
      if (classified.writtenPolicySha256 !== undefined)
        request.writtenPolicySha256 = classified.writtenPolicySha256;
      const prefetched = prefetch?.take(event, keyRef);
      if (prefetched) request.prefetched = prefetched;
      const outcome = await checkKey(checkDeps, request);
      keys.push({
        keyArn: outcome.keyArn,
        status: outcome.result,
        findings: outcome.findings.map(summaryOf),
      });
    }
    // Then the findings an earlier invocation held but could not publish (docs/architecture.md#outbox): after
    // the check, so no restore waits for them; SNS still refusing fails this invocation, so the event is retried.
    const held = await deliverHeld(deps.outbox, deps.publisher, served, logger);
    const [stuck] = held.failed;
    if (stuck)
      throw new PublishFailedError(stuck.findingId, `still held in the outbox: ${stuck.error}`, undefined);
    const [first] = keys;
    if (!first) {
      logger.info('event_touches_no_key', {
        eventName: classified.eventName,
        aliasName: classified.aliasName,
      });
      return {
        status: 'ignored',
        eventId: classified.eventId,
        eventName: classified.eventName,
        keys,
        ...eventTimeOf(classified.actor),
      };
    }
    const summary: DriftSummary = {
      status: keys.some((key) => key.findings.length > 0) ? 'published' : first.status,
      eventId: classified.eventId,
      eventName: classified.eventName,
      keyArn: first.keyArn,
      keys,
      ...eventTimeOf(classified.actor),
    };
    const finding = first.findings.find((item) => POLICY_KINDS.has(item.kind)) ?? first.findings[0];
    if (finding) summary.finding = finding;
    return summary;
  };
  const handler = middy(handle, { timeoutEarlyInMillis: options.timeoutEarlyInMillis }).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );
  // After the logger: a duplicate answered early still has the request's log context, and Powertools'
  // early-return cleanup resets the logger keys as the skipped `after` would. The prefetch goes first, so
  // its reads are on their way while the idempotency record is written.
  if (!options.idempotency) return handler;
  if (prefetch) handler.use(prefetch.middleware());
  return handler.use(driftIdempotencyMiddleware(options.idempotency));
}

/**
 * Production wiring from the environment, run once per container at module init (handlers/drift.ts awaits it:
 * top-level await of the ES module bundle). `instrument` sees the
 * guard's SDK clients before the handler is built (npm run bench -- exposure times calls with middleware).
 */
export async function initDriftHandler(
  env: Readonly<Record<string, string | undefined>>,
  instrument?: (guard: Guard) => void,
) {
  const logger = new Logger({ serviceName: 'kms-policy-guard' });
  const config = readDriftConfig(env);
  const guard = await guardFromConfig(config, logger);
  instrument?.(guard);
  const { manifest } = guard.deps;
  logger.info('drift_guard_initialized', {
    manifest: config.manifestPath,
    managedKeys: manifest.keys.length,
    unmanagedKeys: manifest.unmanagedKeys,
  });
  return createDriftHandler(
    {
      ...guard.deps,
      logger,
      region: config.region,
      guardRoleArn: config.guardRoleArn,
      metrics: createGuardMetrics(),
      ...(guard.hub ? { hub: guard.hub.scope } : {}),
    },
    // An event without an eventID is not deduplicated; the handler then rejects it as malformed.
    guard.stateTable
      ? { idempotency: { ...guard.stateTable, onMissingEventId: 'run-unprotected', logger } }
      : {},
  );
}

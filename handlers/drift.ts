/**
 * Drift Lambda: EventBridge (CloudTrail PutKeyPolicy | CreateKey | ReplicateKey from aws.kms) ->
 * classify the event -> checkKey -> a small summary. Thin on purpose: parsing is src/guard/event.ts,
 * deciding is src/guard/check-key.ts.
 *
 * Module init (once per container): configuration from the environment, the manifest loaded and
 * validated (an invalid manifest fails init loudly), SDK clients created. Tests build handlers with
 * createDriftHandler and their own dependencies.
 *
 * Environment: TOPIC_ARN (required), MANIFEST_PATH (default `policies/manifest.yaml`, relative to the
 * Lambda task root), GUARD_ROLE_ARN (default `arn:<partition>:iam::<account>:role/kms-policy-guard-<region>`),
 * STATE_TABLE (DynamoDB remediation ledger and drift idempotency; without it the ledger lives in the
 * container's memory and a duplicated delivery of one CloudTrail event is checked twice).
 */
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import { createKmsClient, createSnsClient } from '../src/aws/clients';
import { remediationLedgerFor, stateTableClientFor } from '../src/aws/dynamo-ledger';
import { type DriftIdempotencyMiddlewareOptions, driftIdempotencyMiddleware } from '../src/aws/idempotency';
import { KmsKeyPolicyStore } from '../src/aws/kms-store';
import { SnsFindingPublisher } from '../src/aws/sns-publisher';
import type { ActionTaken, FindingKind } from '../src/core/finding';
import { type CheckKeyDeps, type CheckResult, checkKey } from '../src/guard/check-key';
import { GuardConfigError } from '../src/guard/errors';
import { classifyKmsEvent, type RejectionReason } from '../src/guard/event';
import { systemClock } from '../src/guard/ports';
import { loadManifest } from '../src/manifest';
import type { Severity } from '../src/policy/types';

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

export interface DriftConfig {
  topicArn: string;
  manifestPath: string;
  region: string;
  guardRoleArn?: string;
  stateTable?: string;
  taskRoot: string;
}

/** Reads the environment; throws GuardConfigError (failing init) when something required is missing. */
export function readDriftConfig(env: NodeJS.ProcessEnv): DriftConfig {
  const topicArn = env.TOPIC_ARN;
  if (!topicArn?.startsWith('arn:')) {
    throw new GuardConfigError(
      `TOPIC_ARN must be the SNS topic ARN, got ${JSON.stringify(topicArn ?? null)}`,
    );
  }
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new GuardConfigError('AWS_REGION is not set');
  const taskRoot = env.LAMBDA_TASK_ROOT ?? process.cwd();
  const manifestPath = path.resolve(taskRoot, env.MANIFEST_PATH || 'policies/manifest.yaml');
  const config: DriftConfig = { topicArn, manifestPath, region, taskRoot };
  if (env.GUARD_ROLE_ARN) config.guardRoleArn = env.GUARD_ROLE_ARN;
  if (env.STATE_TABLE) config.stateTable = env.STATE_TABLE;
  return config;
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

/** Production wiring, run once per container at module init. */
function initialize(): ReturnType<typeof createDriftHandler> {
  const logger = new Logger({ serviceName: 'kms-policy-guard' });
  const config = readDriftConfig(process.env);
  const manifest = loadManifest(config.manifestPath);
  const kms = createKmsClient({ region: config.region });
  const sns = createSnsClient({ region: config.region });
  // One DynamoDB client per container, shared by the ledger and the idempotency records.
  const stateTable = stateTableClientFor(config.stateTable, config.region);
  const ledger = remediationLedgerFor(stateTable, manifest.flapping, logger);
  logger.info('drift_guard_initialized', {
    manifest: config.manifestPath,
    managedKeys: manifest.keys.length,
    unmanagedKeys: manifest.unmanagedKeys,
  });
  return createDriftHandler(
    {
      store: new KmsKeyPolicyStore(kms),
      publisher: new SnsFindingPublisher(sns, config.topicArn, logger),
      ledger,
      clock: systemClock,
      logger,
      manifest,
      region: config.region,
      guardRoleArn: config.guardRoleArn,
      repoRoot: config.taskRoot,
    },
    // An event without an eventID is not deduplicated; the handler then rejects it as malformed.
    stateTable ? { idempotency: { ...stateTable, onMissingEventId: 'run-unprotected' } } : {},
  );
}

export const handler = initialize();

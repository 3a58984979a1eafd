/**
 * The drift handler as the handler tests build it: the composition root (buildGuard) over the mocked SDK clients
 * of ../guard/harness (aws-sdk-client-mock), an in-memory ledger, the instant clock and a short stabilization.
 * Each test file captures the Powertools logger's lines its own way and passes the logger in.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { createDriftHandler } from '../../../src/app/drift-handler';
import { buildGuard, type Guard, type GuardWiring } from '../../../src/app/guard-deps';
import type { GuardMode } from '../../../src/core/key';
import { InMemoryRemediationLedger } from '../../../src/guard/memory-ledger';
import { fixtureManifest, InstantClock, REPO_ROOT, TOPIC_ARN } from '../guard/harness';

export interface DriftHandlerOptions {
  region?: string;
  guardedRegions?: string[];
  metrics?: Metrics;
  securityHub?: GuardWiring['securityHub'];
}

export function driftHandlerOverMocks(
  mode: GuardMode,
  logger: Logger,
  options: DriftHandlerOptions = {},
): { handler: ReturnType<typeof createDriftHandler>; guard: Guard } {
  const region = options.region ?? 'us-west-2';
  const manifest = fixtureManifest(mode);
  const guard = buildGuard({
    manifest,
    aws: { region },
    logger,
    repoRoot: REPO_ROOT,
    topicArn: TOPIC_ARN,
    ledger: new InMemoryRemediationLedger(manifest.flapping),
    clock: new InstantClock(),
    stabilization: { attempts: 4, delayMs: 10, requiredStableReads: 2 },
    ...(options.guardedRegions ? { guardedRegions: options.guardedRegions } : {}),
    ...(options.securityHub ? { securityHub: options.securityHub } : {}),
  });
  const handler = createDriftHandler(
    { ...guard.deps, logger, region, ...(options.metrics ? { metrics: options.metrics } : {}) },
    { timeoutEarlyInMillis: 0 },
  );
  return { handler, guard };
}

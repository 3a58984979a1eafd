/**
 * The audit worker's dependencies (docs/architecture.md#the-organization-audit), built from a guard with a hub: the
 * per-run progress in the state table, and the audit-work queue. The fan-out (./audit-fan-out-handler.ts) builds
 * no guard and takes a subset (FanOutHandlerDeps), with the same run state and hub location (auditRunsIn,
 * hubLocationOf); the tests and the demo give both handlers these.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoAuditRuns } from '../aws/dynamo-runs';
import type { StateTableClient } from '../aws/state-table';
import { type KeyLocation, partitionOfRegion } from '../core/key-arn';
import { GuardConfigError } from '../guard/errors';
import type { OrgAuditDeps } from '../guard/org-audit/run';
import type { AuditQueue, Clock } from '../guard/ports';
import type { Guard } from './guard-deps';

/** The run's progress in the state table, which an organization audit cannot do without. */
export function auditRunsIn(stateTable: StateTableClient | undefined, clock: Clock): DynamoAuditRuns {
  if (!stateTable)
    throw new GuardConfigError('the organization audit needs STATE_TABLE (per-run progress lives there)');
  return new DynamoAuditRuns(stateTable.tableName, stateTable.client, () => clock.now());
}

/** The hub's own location (its account, in the function's Region): where a run's account-level findings go. */
export function hubLocationOf(region: string, hubAccountId: string): KeyLocation {
  return { partition: partitionOfRegion(region), region, accountId: hubAccountId };
}

export interface OrgAuditHandlerDeps extends Omit<OrgAuditDeps, 'logger'> {
  logger: Logger;
  metrics?: Metrics;
  /** The hub's own location: the run's account-level findings are held and shown there. */
  hubLocation: KeyLocation;
}

/** The worker's dependencies from a guard built with a hub, and the audit-work queue (../aws/sqs-audit-queue.ts). */
export function orgAuditDeps(
  guard: Guard,
  logger: Logger,
  queue: AuditQueue,
  region: string,
): OrgAuditHandlerDeps {
  const hub = guard.hub;
  if (!hub) throw new GuardConfigError('the organization audit needs a hub (buildGuard with hub settings)');
  return {
    ...guard.deps,
    logger,
    hub: hub.scope,
    runs: auditRunsIn(guard.stateTable, guard.deps.clock),
    queue,
    hubLocation: hubLocationOf(region, hub.scope.hubAccountId),
  };
}

/**
 * The organization audit's start (docs/architecture.md#the-organization-audit): what the scheduled audit runs when
 * it fans out. The hub's health, one unit per guarded account and Region, the run's deadline, one SQS message per
 * unit. It checks no key: the audit workers do (./run.ts), so this module and what it imports hold no key check and
 * no policy engine, and the fan-out's bundle does not compile them at init (docs/architecture.md#what-loads-when).
 */
import type { Finding } from '../../core/finding';
import { type KeyLocation, partitionOfRegion } from '../../core/key-arn';
import { auditFindingContext, reportGuardDegraded, reportGuardHealth } from '../audit/account-findings';
import type { AuditDeps } from '../audit-keys';
import { accountComplianceRecord } from '../compliance';
import { healthGaps } from '../health';
import type { HubScope } from '../hub';
import type { AuditQueue, AuditRuns, AuditUnit } from '../ports';
import { MAX_DELAY_SECONDS } from './messages';

/**
 * What the start uses: the findings' publisher and outbox, the hub's health, the guarded accounts and Regions, the
 * run's state and the queue. No KMS, no key check (the workers' OrgAuditDeps, ./run.ts, have them).
 */
export interface FanOutDeps
  extends Pick<AuditDeps, 'clock' | 'logger' | 'publisher' | 'outbox' | 'health' | 'compliance'> {
  hub: Pick<HubScope, 'hubAccountId' | 'regions' | 'directory'>;
  runs: AuditRuns;
  queue: AuditQueue;
}

/** Every guarded account (the hub's first) in every guarded Region. */
export async function planUnits(hub: FanOutDeps['hub']): Promise<AuditUnit[]> {
  const accounts = [hub.hubAccountId, ...(await hub.directory.accounts())];
  return accounts.flatMap((accountId) =>
    hub.regions.map((region) => ({ accountId, region, partition: partitionOfRegion(region) })),
  );
}

export interface StartOptions {
  runId: string;
  /** The hub's own location: where the run's account-level findings are held and shown. */
  hubLocation: KeyLocation;
  /** Seconds until units that never reported are listed as not checked (default 3300: before the next hourly run). */
  deadlineSeconds: number;
}

/** The scheduled audit: health of the hub, the units, the deadline, one message per unit. */
export async function startOrganizationAudit(
  deps: FanOutDeps,
  options: StartOptions,
): Promise<{ runId: string; units: AuditUnit[]; findings: Finding[] }> {
  const now = deps.clock.now();
  const context = auditFindingContext(deps, options.runId, options.hubLocation);
  const { findings } = context;
  let health: { passed: number; failed: number; driftRule: string } | undefined;
  if (deps.health) {
    // The hub's own health first: a blind hub is the most urgent thing the run can find.
    const checked = await deps.health.checkHealth();
    await reportGuardHealth(context, checked.driftRule);
    await reportGuardDegraded(context, checked.checks);
    const gaps = healthGaps(checked.checks).length;
    health = {
      passed: checked.checks.length - gaps,
      failed: gaps,
      driftRule: `${checked.driftRule.ruleName} ${checked.driftRule.state}`,
    };
  }
  // The compliance view learns the hub's health checks, so a hub healthy again closes them.
  if (health) {
    deps.compliance?.record(
      accountComplianceRecord({
        location: options.hubLocation,
        trigger: 'audit',
        time: now,
        findings,
        ruleChecked: true,
        healthChecked: true,
        runLevel: false,
      }),
    );
  }
  const units = await planUnits(deps.hub);
  const deadlineAt = new Date(now.getTime() + options.deadlineSeconds * 1000);
  await deps.runs.start(
    {
      runId: options.runId,
      units: units.length,
      reported: 0,
      startedAt: now.toISOString(),
      deadlineAt: deadlineAt.toISOString(),
      ...(health ? { health } : {}),
    },
    units,
  );
  // The deadline first: whatever happens to the units, the run is closed and summarised.
  await deps.queue.sendDeadline(options.runId, Math.min(MAX_DELAY_SECONDS, options.deadlineSeconds));
  await deps.queue.sendUnits(options.runId, units);
  deps.logger.info('org_audit_started', { runId: options.runId, units: units.length, deadlineAt });
  return { runId: options.runId, units, findings };
}

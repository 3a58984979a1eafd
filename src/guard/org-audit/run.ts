/**
 * The organization audit (docs/architecture.md#the-organization-audit): the scheduled audit plans one unit per
 * guarded account and Region and sends one SQS message per unit; audit workers check a unit each (the same
 * auditKeys, with the clients of the unit's account and Region) and record its report in the state table; the
 * run's summary is published exactly once, by whichever worker records the last unit, or by the deadline
 * check (a delayed SQS message, re-armed until the run's deadline) with every unit that never reported listed
 * as not checked. No scheduler and no thread pool of our own: SQS, Lambda's event source and DynamoDB's
 * conditional writes do the distributing, the retrying and the counting.
 */
import { describeLocation, type KeyLocation, sameLocation } from '../../core/key-arn';
import { errorMessage } from '../audit/report';
import { type AuditDeps, auditKeys } from '../audit-keys';
import { accountComplianceRecord } from '../compliance';
import type { SpokeFeedProbe } from '../health';
import { type HubScope, routeLocation } from '../hub';
import type { AuditQueue, AuditRuns, UnitReport } from '../ports';
import { MAX_DELAY_SECONDS, type UnitMessage } from './messages';
import { checkSpokeFeed } from './spoke-feed';
import { type RunOutcome, runFindings } from './summary';

/** What the audit worker uses: a unit's key check (auditKeys) through the hub, the run's state, the queue. */
export interface OrgAuditDeps extends AuditDeps {
  hub: HubScope;
  runs: AuditRuns;
  queue: AuditQueue;
  /** What feeds the guard from each member account and Region (./spoke-feed.ts); absent: not checked. */
  spokeFeed?: SpokeFeedProbe;
}

/** Lines of reasons a unit report keeps (the summary lists units, not every key). */
const MAX_REASONS = 20;

export interface UnitOptions {
  concurrency: number;
  reportUnmanaged: boolean;
  timeLeftMs?: () => number;
}

/**
 * One unit: routed (in scope, spoke role assumed); a member's feed checked (its `guard-degraded`), then its
 * keys audited like a single account.
 */
export async function auditUnit(
  deps: OrgAuditDeps,
  message: UnitMessage,
  options: UnitOptions,
): Promise<UnitReport> {
  const location: KeyLocation = {
    partition: message.partition,
    region: message.region,
    accountId: message.accountId,
  };
  const base = { accountId: message.accountId, region: message.region, partition: message.partition };
  const empty = { checked: 0, inSync: 0, drift: 0, failed: 0, unmanaged: 0, notChecked: 0, findings: 0 };
  const route = await routeLocation(deps.hub, deps, {
    location,
    eventId: message.runId,
    trigger: 'audit',
  });
  if (route.outcome === 'refused') {
    return { ...base, ...empty, status: 'refused', reasons: [`${route.kind}: ${route.reason}`], findings: 1 };
  }
  // The feed first: a member whose events no longer reach the hub is the most urgent thing the unit can find.
  const feed =
    deps.spokeFeed && message.accountId !== deps.hub.hubAccountId
      ? await checkSpokeFeed(deps, deps.spokeFeed, message.runId, location)
      : undefined;
  const unitDeps: AuditDeps = {
    ...deps,
    store: route.store,
    defaultLocation: location,
    serves: (keyLocation) => sameLocation(keyLocation, location),
  };
  delete unitDeps.health;
  if (route.guardPrincipalArn !== undefined) unitDeps.guardPrincipalArn = route.guardPrincipalArn;
  const report = await auditKeys(unitDeps, {
    runId: message.runId,
    trigger: 'audit',
    concurrency: options.concurrency,
    reportUnmanaged: options.reportUnmanaged,
    location,
    unitOfRun: true,
    ...(options.timeLeftMs ? { timeLeftMs: options.timeLeftMs } : {}),
  });
  const reasons = [
    ...(feed?.problems ?? []),
    ...report.problems,
    ...report.notChecked.map((key) => `${key.name ?? key.keyRef}: ${key.reason}`),
  ].slice(0, MAX_REASONS);
  return {
    ...base,
    ...report.summary,
    status: report.complete ? 'checked' : 'incomplete',
    reasons,
    findings: report.findings.length + (feed?.findings.length ?? 0),
  };
}

/** A unit whose worker failed for good (its last receive): recorded so the run is never waiting on it. */
export function failedUnitReport(message: UnitMessage, error: unknown): UnitReport {
  return {
    accountId: message.accountId,
    region: message.region,
    partition: message.partition,
    status: 'failed',
    checked: 0,
    inSync: 0,
    drift: 0,
    failed: 0,
    unmanaged: 0,
    notChecked: 0,
    reasons: [`the audit worker failed on every attempt: ${errorMessage(error)}`],
    findings: 0,
  };
}

/** Records a unit's report; the worker that records the last unit closes the run. */
export async function recordUnit(
  deps: OrgAuditDeps,
  runId: string,
  report: UnitReport,
  hubLocation: KeyLocation,
): Promise<RunOutcome | undefined> {
  const { first, progress } = await deps.runs.report(runId, report);
  deps.logger.info('org_audit_unit_reported', {
    runId,
    unit: describeLocation(report),
    status: report.status,
    first,
    reported: progress?.reported,
    units: progress?.units,
  });
  if (!progress || progress.summary === 'published' || progress.reported < progress.units) return undefined;
  return closeRun(deps, runId, hubLocation);
}

/** The deadline check: re-armed until the deadline while units are missing, then the run is closed. */
export async function checkDeadline(
  deps: OrgAuditDeps,
  runId: string,
  hubLocation: KeyLocation,
): Promise<RunOutcome | undefined> {
  const progress = await deps.runs.progress(runId);
  if (!progress || progress.summary === 'published') return undefined;
  const left = (Date.parse(progress.deadlineAt) - deps.clock.now().getTime()) / 1000;
  if (progress.reported < progress.units && left > 0) {
    await deps.queue.sendDeadline(runId, Math.min(MAX_DELAY_SECONDS, Math.ceil(left)));
    return undefined;
  }
  // A claim older than 5 minutes belongs to a worker that died before publishing: take it over.
  return closeRun(deps, runId, hubLocation, new Date(deps.clock.now().getTime() - 5 * 60_000));
}

/** Claims the summary (exactly one caller wins), then publishes audit-incomplete and audit-summary. */
async function closeRun(
  deps: OrgAuditDeps,
  runId: string,
  hubLocation: KeyLocation,
  staleClaimBefore?: Date,
): Promise<RunOutcome | undefined> {
  if (!(await deps.runs.claimSummary(runId, staleClaimBefore))) return undefined;
  const [progress, units] = await Promise.all([deps.runs.progress(runId), deps.runs.units(runId)]);
  if (!progress) return undefined;
  const outcome = await runFindings(deps, { runId, progress, units, hubLocation });
  // The run's audit-incomplete (or none: the hub's open one is closed) in the compliance view.
  deps.compliance?.record(
    accountComplianceRecord({
      location: hubLocation,
      trigger: 'audit',
      time: deps.clock.now(),
      findings: outcome.findings,
      ruleChecked: false,
      healthChecked: false,
    }),
  );
  await deps.runs.summaryPublished(runId);
  deps.logger.info('org_audit_finished', { runId, complete: outcome.complete, summary: outcome.summary });
  return outcome;
}

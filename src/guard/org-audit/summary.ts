/**
 * The organization audit's end (docs/architecture.md#the-organization-audit): the unit reports added up into
 * one `audit-summary` (and an `audit-incomplete` whenever a unit was refused, failed, left keys unchecked or
 * never reported), held in the hub's outbox and published. A unit that never reported is listed as not
 * checked: a run with one is never clean.
 */
import type { Finding, FindingKind } from '../../core/finding';
import { describeLocation, type KeyLocation } from '../../core/key-arn';
import type { Severity } from '../../policy/types';
import { accountWideFields } from '../account-finding';
import type { AuditSummary } from '../audit/report';
import { publishFailure } from '../errors';
import type { GuardLogger } from '../logger';
import { publishThroughOutbox } from '../outbox';
import type { AuditUnit, Clock, FindingOutbox, FindingPublisher, RunProgress, UnitReport } from '../ports';

/** Units named one by one in a finding. */
const LISTED_UNITS = 50;

export interface RunOutcome {
  runId: string;
  /** Every unit reported, every key of every unit checked. */
  complete: boolean;
  summary: AuditSummary;
  units: { total: number; reported: number; refused: number; failed: number; notReported: number };
  durationMs: number;
  findings: Finding[];
}

interface RunFindingDeps {
  publisher: FindingPublisher;
  outbox: FindingOutbox;
  clock: Pick<Clock, 'now'>;
  logger: Pick<GuardLogger, 'warn'>;
}

function finding(
  runId: string,
  location: KeyLocation,
  kind: FindingKind,
  severity: Severity,
  headline: string,
  details: string[],
  now: Date,
): Finding {
  return {
    id: `${runId}:*:${kind}`,
    kind,
    severity,
    title: `[${severity.toUpperCase()}] ${headline}`,
    ...accountWideFields(location),
    trigger: 'audit',
    details,
    time: now.toISOString(),
  };
}

function listed(lines: string[]): string[] {
  return [
    ...lines.slice(0, LISTED_UNITS).map((line) => `  ${line}`),
    ...(lines.length > LISTED_UNITS ? [`  … and ${lines.length - LISTED_UNITS} more`] : []),
  ];
}

export async function runFindings(
  deps: RunFindingDeps,
  run: {
    runId: string;
    progress: RunProgress;
    units: { unit: AuditUnit; report?: UnitReport }[];
    hubLocation: KeyLocation;
  },
): Promise<RunOutcome> {
  const now = deps.clock.now();
  const reports = run.units.flatMap((item) => (item.report ? [item.report] : []));
  const missing = run.units.filter((item) => !item.report).map((item) => item.unit);
  const sum = (field: keyof AuditSummary) => reports.reduce((total, report) => total + report[field], 0);
  const summary: AuditSummary = {
    checked: sum('checked'),
    inSync: sum('inSync'),
    drift: sum('drift'),
    failed: sum('failed'),
    notChecked: sum('notChecked'),
    unmanaged: sum('unmanaged'),
  };
  const refused = reports.filter((report) => report.status === 'refused');
  const failedUnits = reports.filter((report) => report.status === 'failed');
  const incompleteUnits = reports.filter((report) => report.status === 'incomplete');
  const complete =
    missing.length === 0 && refused.length === 0 && failedUnits.length === 0 && incompleteUnits.length === 0;
  const units = {
    total: run.progress.units,
    reported: reports.length,
    refused: refused.length,
    failed: failedUnits.length,
    notReported: missing.length,
  };
  const durationMs = now.getTime() - Date.parse(run.progress.startedAt);
  const unitLines = [
    ...missing.map(
      (unit) => `${describeLocation(unit)}: not checked: no report from the audit worker by the deadline`,
    ),
    ...[...failedUnits, ...refused, ...incompleteUnits].map(
      (report) =>
        `${describeLocation(report)}: ${report.status}: ${report.reasons.join('; ') || 'no reason given'}`,
    ),
  ];
  const findings: Finding[] = [];
  if (!complete) {
    const nothing = reports.every((report) => report.status === 'refused' || report.status === 'failed');
    findings.push(
      finding(
        run.runId,
        run.hubLocation,
        'audit-incomplete',
        nothing ? 'critical' : 'high',
        `Audit incomplete: ${unitLines.length} of ${units.total} account/Region units not fully checked`,
        [
          'These accounts and Regions were not (fully) checked in this run; nothing there is known to be in sync:',
          ...listed(unitLines),
        ],
        now,
      ),
    );
  }
  const health = run.progress.health;
  findings.push(
    finding(
      run.runId,
      run.hubLocation,
      'audit-summary',
      'info',
      `Audit summary: ${units.total} account/Region units, ${summary.checked} keys checked, ${summary.drift} drift, ${summary.failed} failed${complete ? '' : ', INCOMPLETE'}`,
      [
        `Organization audit ${run.runId}: ${units.total} units (accounts × Regions), ${units.reported} reported, ${units.notReported} not reported by the deadline, ${units.refused} refused (out of scope or spoke unreachable), ${units.failed} failed.`,
        `Keys: ${summary.checked} checked, ${summary.inSync} in sync, ${summary.drift} drift, ${summary.failed} failed, ${summary.unmanaged} unmanaged, ${summary.notChecked} not checked.`,
        ...(health
          ? [
              `Hub health: drift rule ${health.driftRule}; ${health.passed} checks passed, ${health.failed} failed.`,
            ]
          : []),
        `Duration: ${Math.round(durationMs / 1000)} s.`,
        ...(unitLines.length > 0 ? ['Units not fully checked:', ...listed(unitLines)] : []),
      ],
      now,
    ),
  );
  for (const item of findings) {
    try {
      await publishThroughOutbox(deps.outbox, deps.publisher, item, deps.logger);
    } catch (error) {
      // Held in the hub's outbox: the next audit delivers it.
      throw publishFailure(item.id, error);
    }
  }
  return { runId: run.runId, complete, summary, units, durationMs, findings };
}

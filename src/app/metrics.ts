/**
 * The audit's CloudWatch metrics, as embedded-metric-format log lines (Powertools Metrics): no API call
 * and no IAM permission, CloudWatch Logs extracts them. The names below are the contract with
 * serverless.yml (the heartbeat alarm) and any dashboard over them: change them here and only here
 * (test/integration/template.test.ts proves the alarm uses these).
 *
 * Per audit run (timestamped at the run's start, so a long run never lands in the next period):
 * - `AuditHeartbeat` = 1 when the audit checked everything (a complete run); the alarm treats a period
 *   without it as breaching, so an audit that stops running (schedule disabled or deleted, function
 *   throttled or broken) alarms;
 * - `KeysChecked` (Count) and `AuditDurationMs` (Milliseconds), complete or not;
 * - `Findings` (Count) once per finding kind and severity seen in the run, with those two as extra
 *   dimensions (the summary is not counted). Dimensions are kept to that: a few kinds per run.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { FindingKind } from '../core/finding';
import type { AuditReport } from '../guard/audit-keys';
import type { Severity } from '../policy/types';

export const GUARD_METRICS = {
  namespace: 'KmsPolicyGuard',
  /** The `service` dimension Powertools puts on every metric (POWERTOOLS_SERVICE_NAME). */
  service: 'kms-policy-guard',
  auditHeartbeat: 'AuditHeartbeat',
  keysChecked: 'KeysChecked',
  auditDurationMs: 'AuditDurationMs',
  findings: 'Findings',
  dimensions: { service: 'service', kind: 'kind', severity: 'severity' },
} as const;

/** The Powertools Metrics instance of the audit function (one per container). */
export function createGuardMetrics(): Metrics {
  return new Metrics({ namespace: GUARD_METRICS.namespace, serviceName: GUARD_METRICS.service });
}

/** Findings of the run by kind and severity, the summary left out. */
function findingCounts(
  report: AuditReport,
): Map<string, { kind: FindingKind; severity: Severity; count: number }> {
  const counts = new Map<string, { kind: FindingKind; severity: Severity; count: number }>();
  for (const finding of report.findings) {
    if (finding.kind === 'audit-summary') continue;
    const key = `${finding.kind}/${finding.severity}`;
    const entry = counts.get(key) ?? { kind: finding.kind, severity: finding.severity, count: 0 };
    entry.count += 1;
    counts.set(key, entry);
  }
  return counts;
}

/** Emits the run's metrics (see the module comment) and flushes them as EMF log lines. */
export function publishAuditMetrics(metrics: Metrics, report: AuditReport): void {
  const timestamp = new Date(report.startedAt);
  for (const { kind, severity, count } of findingCounts(report).values()) {
    const single = metrics.singleMetric();
    single.setTimestamp(timestamp);
    single.addDimension(GUARD_METRICS.dimensions.kind, kind);
    single.addDimension(GUARD_METRICS.dimensions.severity, severity);
    single.addMetric(GUARD_METRICS.findings, MetricUnit.Count, count);
  }
  metrics.setTimestamp(timestamp);
  if (report.complete) metrics.addMetric(GUARD_METRICS.auditHeartbeat, MetricUnit.Count, 1);
  metrics.addMetric(GUARD_METRICS.keysChecked, MetricUnit.Count, report.summary.checked);
  metrics.addMetric(GUARD_METRICS.auditDurationMs, MetricUnit.Milliseconds, report.durationMs);
  metrics.publishStoredMetrics();
}

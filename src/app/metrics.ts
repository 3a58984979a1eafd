/**
 * The guard's CloudWatch metrics, as embedded-metric-format log lines (Powertools Metrics): no API call
 * and no IAM permission, CloudWatch Logs extracts them. The names below are the contract with
 * serverless.yml (the heartbeat alarm and the dashboard, docs/architecture.md#metrics-and-the-dashboard):
 * change them here and only here (test/integration/template.test.ts proves the alarm and every dashboard
 * widget use these). A metrics failure is logged, never thrown over a result.
 *
 * Per drift invocation (./drift-handler.ts, `publishDriftMetrics`):
 * - `EventsHandled` (Count) = 1 with the `outcome` dimension: the summary's status (`published`,
 *   `in-sync`, `rejected`, `other-region`, `ignored`, …), or `error` when the invocation threw;
 * - `EventFindings` (Count) per finding kind and severity the event's checks published;
 * - `Restores` (Count): findings whose action is `remediated` (the guard restored a policy, state or grant);
 * - `Refusals` (Count): findings whose action is `failed` (the guard refused or failed to restore);
 * - `EventToFindingMs` (Milliseconds): from the CloudTrail `eventTime` to the findings published, when the
 *   event published any (a time in the future or over a day old is not a latency and is left out).
 *
 * Per audit run (timestamped at the run's start, so a long run never lands in the next period):
 * - `AuditHeartbeat` = 1 when the audit checked everything (a complete run); the alarm treats a period
 *   without it as breaching, so an audit that stops running (schedule disabled or deleted, function
 *   throttled or broken) alarms;
 * - `KeysChecked` (Count) and `AuditDurationMs` (Milliseconds), complete or not;
 * - `Findings` (Count) once per finding kind and severity seen in the run, with those two as extra
 *   dimensions (the summary is not counted). Dimensions are kept to that: a few kinds per run;
 * - `Restores` and `Refusals` (Count) as for the drift function above, when the run had any.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { ActionTaken, FindingKind } from '../core/finding';
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
  eventsHandled: 'EventsHandled',
  eventFindings: 'EventFindings',
  restores: 'Restores',
  refusals: 'Refusals',
  eventToFindingMs: 'EventToFindingMs',
  dimensions: { service: 'service', kind: 'kind', severity: 'severity', outcome: 'outcome' },
} as const;

const { service, kind, severity, outcome } = GUARD_METRICS.dimensions;
/**
 * Every metric the code emits and its dimensions (CloudWatch tells metrics apart by name and dimension set):
 * the contract the dashboard and the alarm are tested against (test/integration/template.test.ts), and that
 * test/unit/app/metrics.test.ts proves the EMF lines keep.
 */
export const EMITTED_METRICS: Readonly<Record<string, readonly string[]>> = {
  [GUARD_METRICS.auditHeartbeat]: [service],
  [GUARD_METRICS.keysChecked]: [service],
  [GUARD_METRICS.auditDurationMs]: [service],
  [GUARD_METRICS.findings]: [service, kind, severity],
  [GUARD_METRICS.eventsHandled]: [service, outcome],
  [GUARD_METRICS.eventFindings]: [service, kind, severity],
  [GUARD_METRICS.restores]: [service],
  [GUARD_METRICS.refusals]: [service],
  [GUARD_METRICS.eventToFindingMs]: [service],
};

/** The longest CloudTrail-to-finding time that is still a latency (older: a replayed or forged event). */
const MAX_EVENT_AGE_MS = 24 * 3600_000;

/** The Powertools Metrics instance of the audit function (one per container). */
export function createGuardMetrics(): Metrics {
  return new Metrics({ namespace: GUARD_METRICS.namespace, serviceName: GUARD_METRICS.service });
}

/** Findings by kind and severity, the audit's summary left out. */
function findingCounts(
  findings: readonly { kind: FindingKind; severity: Severity }[],
): Map<string, { kind: FindingKind; severity: Severity; count: number }> {
  const counts = new Map<string, { kind: FindingKind; severity: Severity; count: number }>();
  for (const finding of findings) {
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
  for (const { kind, severity, count } of findingCounts(report.findings).values()) {
    const single = metrics.singleMetric();
    single.setTimestamp(timestamp);
    single.addDimension(GUARD_METRICS.dimensions.kind, kind);
    single.addDimension(GUARD_METRICS.dimensions.severity, severity);
    single.addMetric(GUARD_METRICS.findings, MetricUnit.Count, count);
  }
  metrics.setTimestamp(timestamp);
  // The audit restores too (remediate mode): its restores and refusals count with the drift function's.
  const restores = report.findings.filter((finding) => finding.action === 'remediated').length;
  const refusals = report.findings.filter((finding) => finding.action === 'failed').length;
  if (restores > 0) metrics.addMetric(GUARD_METRICS.restores, MetricUnit.Count, restores);
  if (refusals > 0) metrics.addMetric(GUARD_METRICS.refusals, MetricUnit.Count, refusals);
  if (report.complete) metrics.addMetric(GUARD_METRICS.auditHeartbeat, MetricUnit.Count, 1);
  metrics.addMetric(GUARD_METRICS.keysChecked, MetricUnit.Count, report.summary.checked);
  metrics.addMetric(GUARD_METRICS.auditDurationMs, MetricUnit.Milliseconds, report.durationMs);
  metrics.publishStoredMetrics();
}

/** What one drift invocation ended in, as the metrics want it. */
export interface DriftMetricsInput {
  /** The summary's status, or `error` when the invocation threw. */
  outcome: string;
  findings: readonly { kind: FindingKind; severity: Severity; action: ActionTaken }[];
  /** The CloudTrail record's `eventTime` (attacker-controllable text: parsed, bounded). */
  eventTime?: string;
  /** When the findings were published. */
  publishedAt: Date;
}

/** The drift invocation's metrics (see the module comment), flushed as EMF log lines. */
export function publishDriftMetrics(metrics: Metrics, input: DriftMetricsInput): void {
  for (const { kind, severity, count } of findingCounts(input.findings).values()) {
    const single = metrics.singleMetric();
    single.addDimension(GUARD_METRICS.dimensions.kind, kind);
    single.addDimension(GUARD_METRICS.dimensions.severity, severity);
    single.addMetric(GUARD_METRICS.eventFindings, MetricUnit.Count, count);
  }
  const outcome = metrics.singleMetric();
  outcome.addDimension(GUARD_METRICS.dimensions.outcome, input.outcome);
  outcome.addMetric(GUARD_METRICS.eventsHandled, MetricUnit.Count, 1);
  const restores = input.findings.filter((finding) => finding.action === 'remediated').length;
  const refusals = input.findings.filter((finding) => finding.action === 'failed').length;
  let stored = false;
  const add = (name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): void => {
    metrics.addMetric(name, unit, value);
    stored = true;
  };
  if (restores > 0) add(GUARD_METRICS.restores, MetricUnit.Count, restores);
  if (refusals > 0) add(GUARD_METRICS.refusals, MetricUnit.Count, refusals);
  const eventTime =
    input.eventTime !== undefined && /^\d{4}-\d{2}-\d{2}T/.test(input.eventTime)
      ? Date.parse(input.eventTime)
      : Number.NaN;
  const latency = input.publishedAt.getTime() - eventTime;
  if (input.findings.length > 0 && Number.isFinite(latency) && latency >= 0 && latency <= MAX_EVENT_AGE_MS) {
    add(GUARD_METRICS.eventToFindingMs, MetricUnit.Milliseconds, latency);
  }
  // Nothing stored: no empty EMF line (Powertools warns about one).
  if (stored) metrics.publishStoredMetrics();
}

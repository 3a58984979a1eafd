/**
 * The audit's metrics as CloudWatch will read them: the embedded-metric-format lines Powertools writes
 * to stdout, parsed back. The names come from GUARD_METRICS, the one place the alarm and any dashboard
 * take them from.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createGuardMetrics, GUARD_METRICS, publishAuditMetrics } from '../../../src/app/metrics';
import type { Finding } from '../../../src/core/finding';
import type { AuditReport } from '../../../src/guard/audit-keys';
import { emfLines, metricNames } from '../support/emf';

/** A minute ago: CloudWatch keeps EMF timestamps from the last 14 days only (Powertools warns otherwise). */
const STARTED_AT = new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000).toISOString();

function finding(kind: Finding['kind'], severity: Finding['severity']): Finding {
  return {
    id: `run-1:*:${kind}`,
    kind,
    severity,
    title: kind,
    keyArn: 'arn:aws:kms:us-west-2:111122223333:key/*',
    keyId: '*',
    aliases: [],
    region: 'us-west-2',
    account: '111122223333',
    mode: 'alert',
    action: 'none',
    trigger: 'audit',
    details: [],
    time: STARTED_AT,
  };
}

function report(complete: boolean, findings: Finding[]): AuditReport {
  return {
    runId: 'run-1',
    startedAt: STARTED_AT,
    durationMs: 5_432,
    complete,
    summary: { checked: 7, inSync: 5, drift: 2, failed: 0, notChecked: complete ? 0 : 1, unmanaged: 0 },
    keys: [],
    notChecked: [],
    awsManagedSkipped: 0,
    problems: [],
    notes: [],
    findings,
  };
}

let savedDisabled: string | undefined;
beforeAll(() => {
  savedDisabled = process.env.POWERTOOLS_METRICS_DISABLED;
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
});
afterAll(() => {
  if (savedDisabled === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
  else process.env.POWERTOOLS_METRICS_DISABLED = savedDisabled;
});

describe('publishAuditMetrics', () => {
  it('emits one heartbeat, the keys checked and the duration of a complete run, at its start time', () => {
    // Prepare
    const metrics = createGuardMetrics();

    // Act
    const lines = emfLines(() =>
      publishAuditMetrics(metrics, report(true, [finding('audit-summary', 'info')])),
    );

    // Assess
    expect(lines).toHaveLength(1);
    const [line] = lines;
    expect(line?._aws.Timestamp).toBe(Date.parse(STARTED_AT));
    expect(line?._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'KmsPolicyGuard',
        Dimensions: [['service']],
        Metrics: [
          { Name: 'AuditHeartbeat', Unit: 'Count' },
          { Name: 'KeysChecked', Unit: 'Count' },
          { Name: 'AuditDurationMs', Unit: 'Milliseconds' },
        ],
      },
    ]);
    expect(line).toMatchObject({
      service: GUARD_METRICS.service,
      [GUARD_METRICS.auditHeartbeat]: 1,
      [GUARD_METRICS.keysChecked]: 7,
      [GUARD_METRICS.auditDurationMs]: 5_432,
    });
  });

  it('emits no heartbeat for an incomplete run, but still the keys checked and the duration', () => {
    // Prepare
    const metrics = createGuardMetrics();

    // Act
    const lines = emfLines(() => publishAuditMetrics(metrics, report(false, [])));

    // Assess
    expect(lines.map(metricNames)).toEqual([[GUARD_METRICS.keysChecked, GUARD_METRICS.auditDurationMs]]);
  });

  it('counts findings by kind and severity, one line per pair, the summary left out', () => {
    // Prepare
    const metrics = createGuardMetrics();
    const findings = [
      finding('drift', 'critical'),
      finding('drift', 'critical'),
      finding('drift', 'high'),
      finding('guard-degraded', 'critical'),
      finding('audit-summary', 'info'),
    ];

    // Act
    const lines = emfLines(() => publishAuditMetrics(metrics, report(true, findings)));

    // Assess
    const counts = lines
      .filter((line) => metricNames(line).includes(GUARD_METRICS.findings))
      .map((line) => ({
        dimensions: line._aws.CloudWatchMetrics[0]?.Dimensions,
        kind: line.kind,
        severity: line.severity,
        count: line[GUARD_METRICS.findings],
        timestamp: line._aws.Timestamp,
      }));
    const dimensions = [['service', 'kind', 'severity']];
    const timestamp = Date.parse(STARTED_AT);
    expect(counts).toEqual([
      { dimensions, kind: 'drift', severity: 'critical', count: 2, timestamp },
      { dimensions, kind: 'drift', severity: 'high', count: 1, timestamp },
      { dimensions, kind: 'guard-degraded', severity: 'critical', count: 1, timestamp },
    ]);
    expect(lines).toHaveLength(4);
  });

  it('writes nothing when Powertools metrics are disabled (POWERTOOLS_METRICS_DISABLED)', () => {
    // Prepare
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    const metrics = new Metrics({ namespace: GUARD_METRICS.namespace, serviceName: GUARD_METRICS.service });
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';

    // Act
    const lines = emfLines(() => publishAuditMetrics(metrics, report(true, [])));

    // Assess
    expect(lines).toEqual([]);
  });
});

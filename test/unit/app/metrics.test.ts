/**
 * The audit's metrics as CloudWatch will read them: the embedded-metric-format lines Powertools writes
 * to stdout, parsed back. The names come from GUARD_METRICS, the one place the alarm and any dashboard
 * take them from.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  createGuardMetrics,
  EMITTED_METRICS,
  GUARD_METRICS,
  publishAuditMetrics,
  publishDriftMetrics,
} from '../../../src/app/metrics';
import type { Finding } from '../../../src/core/finding';
import type { AuditReport } from '../../../src/guard/audit-keys';
import { type EmfLine, emfLines, metricNames } from '../support/emf';

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

/** Each metric of the lines with its dimension set and value. */
function emitted(lines: readonly EmfLine[]): { name: string; dimensions: string[]; value: unknown }[] {
  return lines.flatMap((line) =>
    line._aws.CloudWatchMetrics.flatMap((directive) =>
      directive.Metrics.map((metric) => ({
        name: metric.Name,
        dimensions: [...(directive.Dimensions[0] ?? [])].sort(),
        value: line[metric.Name],
      })),
    ),
  );
}

describe('publishAuditMetrics: restores and refusals', () => {
  it("counts the run's restores (action remediated) and refusals (action failed) with the drift function's", () => {
    // Prepare
    const findings = [
      { ...finding('remediated', 'critical'), action: 'remediated' as const },
      { ...finding('grant-not-allowed', 'high'), action: 'remediated' as const },
      { ...finding('lockout-risk', 'critical'), action: 'failed' as const },
    ];

    // Act
    const lines = emfLines(() => publishAuditMetrics(createGuardMetrics(), report(true, findings)));

    // Assess
    expect(emitted(lines)).toEqual(
      expect.arrayContaining([
        { name: GUARD_METRICS.restores, dimensions: ['service'], value: 2 },
        { name: GUARD_METRICS.refusals, dimensions: ['service'], value: 1 },
      ]),
    );
  });
});

describe('publishDriftMetrics', () => {
  const PUBLISHED_AT = new Date(Date.parse(STARTED_AT) + 1_500);
  const drift = { kind: 'drift' as const, severity: 'critical' as const, action: 'alerted' as const };
  const restored = {
    kind: 'remediated' as const,
    severity: 'critical' as const,
    action: 'remediated' as const,
  };
  const refused = { kind: 'lockout-risk' as const, severity: 'critical' as const, action: 'failed' as const };

  it('emits the outcome, the findings by kind and severity, restores, refusals and the time since the CloudTrail event', () => {
    // Prepare
    const metrics = createGuardMetrics();

    // Act
    const lines = emfLines(() =>
      publishDriftMetrics(metrics, {
        outcome: 'published',
        findings: [drift, restored, restored, refused],
        eventTime: STARTED_AT,
        publishedAt: PUBLISHED_AT,
      }),
    );

    // Assess
    const values = emitted(lines);
    expect(values).toEqual(
      expect.arrayContaining([
        { name: GUARD_METRICS.eventsHandled, dimensions: ['outcome', 'service'], value: 1 },
        { name: GUARD_METRICS.eventFindings, dimensions: ['kind', 'service', 'severity'], value: 1 },
        { name: GUARD_METRICS.eventFindings, dimensions: ['kind', 'service', 'severity'], value: 2 },
        { name: GUARD_METRICS.restores, dimensions: ['service'], value: 2 },
        { name: GUARD_METRICS.refusals, dimensions: ['service'], value: 1 },
        { name: GUARD_METRICS.eventToFindingMs, dimensions: ['service'], value: 1_500 },
      ]),
    );
    expect(lines.find((line) => GUARD_METRICS.eventsHandled in line)?.outcome).toBe('published');
  });

  it.each([
    ['not a time', 'yesterday'],
    ['in the future', new Date(PUBLISHED_AT.getTime() + 60_000).toISOString()],
    ['over a day old', new Date(PUBLISHED_AT.getTime() - 25 * 3600_000).toISOString()],
  ])('leaves the latency out when the eventTime is %s (attacker-controllable text)', (_, eventTime) => {
    // Prepare
    const metrics = createGuardMetrics();

    // Act
    const lines = emfLines(() =>
      publishDriftMetrics(metrics, {
        outcome: 'published',
        findings: [drift],
        eventTime,
        publishedAt: PUBLISHED_AT,
      }),
    );

    // Assess
    expect(emitted(lines).map((metric) => metric.name)).not.toContain(GUARD_METRICS.eventToFindingMs);
    expect(emitted(lines).map((metric) => metric.name)).toContain(GUARD_METRICS.eventsHandled);
  });

  it('emits only the outcome for an event that published nothing (no latency, no empty line)', () => {
    // Prepare
    const metrics = createGuardMetrics();

    // Act
    const lines = emfLines(() =>
      publishDriftMetrics(metrics, {
        outcome: 'in-sync',
        findings: [],
        eventTime: STARTED_AT,
        publishedAt: PUBLISHED_AT,
      }),
    );

    // Assess
    expect(emitted(lines)).toEqual([
      { name: GUARD_METRICS.eventsHandled, dimensions: ['outcome', 'service'], value: 1 },
    ]);
  });
});

describe('EMITTED_METRICS (the contract the dashboard is tested against)', () => {
  it('lists exactly the metrics the audit and the drift function emit, each with the dimension set it is emitted with', () => {
    // Prepare
    const findings = [{ ...finding('remediated', 'high'), action: 'remediated' as const }];

    // Act
    const lines = [
      ...emfLines(() => publishAuditMetrics(createGuardMetrics(), report(true, findings))),
      ...emfLines(() =>
        publishDriftMetrics(createGuardMetrics(), {
          outcome: 'published',
          findings: [
            { kind: 'remediated', severity: 'high', action: 'remediated' },
            { kind: 'lockout-risk', severity: 'critical', action: 'failed' },
          ],
          eventTime: STARTED_AT,
          publishedAt: new Date(Date.parse(STARTED_AT) + 10),
        }),
      ),
    ];

    // Assess
    const seen = Object.fromEntries(emitted(lines).map((metric) => [metric.name, metric.dimensions]));
    const contract = Object.fromEntries(
      Object.entries(EMITTED_METRICS).map(([name, dimensions]) => [name, [...dimensions].sort()]),
    );
    expect(seen).toEqual(contract);
  });
});

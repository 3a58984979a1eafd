/**
 * The drift handler's metrics (docs/architecture.md#metrics-and-the-dashboard): every invocation emits its
 * outcome, its findings, restores, refusals and the time since the CloudTrail event, as EMF lines read back
 * here; a thrown invocation emits `error` and still throws; a metrics failure never fails the event.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createGuardMetrics, GUARD_METRICS } from '../../../src/app/metrics';
import type { GuardMode } from '../../../src/core/key';
import {
  awsError,
  driftedPolicyText,
  EVENTS,
  GetKeyPolicyCommand,
  kmsMock,
  kmsRestoresDesiredAfter,
  NOW,
  resetMocks,
} from '../guard/harness';
import { type EmfLine, emfLinesOf } from '../support/emf';
import { driftHandlerOverMocks } from './drift-harness';

const CONTEXT = {
  functionName: 'kms-policy-guard-dev-drift',
  invokedFunctionArn: 'arn:aws:lambda:us-west-2:111122223333:function:kms-policy-guard-dev-drift',
  awsRequestId: 'request-1',
  getRemainingTimeInMillis: () => 30_000,
} as Context;

const PUT_KEY_POLICY = JSON.parse(readFileSync(path.join(EVENTS, 'put-key-policy.json'), 'utf8')) as {
  detail: Record<string, unknown>;
};

/** The record, changed 2.5 s before the guard's clock reads. */
const EVENT = {
  ...PUT_KEY_POLICY,
  detail: { ...PUT_KEY_POLICY.detail, eventTime: new Date(NOW.getTime() - 2_500).toISOString() },
};

function setup(mode: GuardMode, metrics: Metrics = createGuardMetrics()) {
  const logger = new Logger({ serviceName: 'kms-policy-guard' });
  const errors: string[] = [];
  jest.spyOn(logger, 'error').mockImplementation((message, ..._extra) => {
    errors.push(typeof message === 'string' ? message : message.message);
  });
  for (const level of ['debug', 'info', 'warn'] as const)
    jest.spyOn(logger, level).mockImplementation(() => undefined);
  const { handler, guard } = driftHandlerOverMocks(mode, logger, { metrics });
  return { handler, errors, destroy: () => guard.destroy() };
}

/** The value of each metric across the lines, with the line's `outcome`, `kind` and `severity`. */
function values(lines: readonly EmfLine[]): Record<string, unknown>[] {
  return lines.flatMap((line) =>
    line._aws.CloudWatchMetrics.flatMap((directive) =>
      directive.Metrics.map((metric) => ({
        name: metric.Name,
        value: line[metric.Name],
        ...(line.outcome !== undefined ? { outcome: line.outcome } : {}),
        ...(line.kind !== undefined ? { kind: line.kind, severity: line.severity } : {}),
      })),
    ),
  );
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
beforeEach(() => resetMocks());
afterEach(() => jest.restoreAllMocks());

describe('drift handler metrics', () => {
  it('emits a published outcome, the drift finding by kind and severity, and 2.5 s from the CloudTrail event to the finding', async () => {
    // Prepare
    const { handler, destroy } = setup('alert');
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

    // Act
    const { lines, outcome: result } = await emfLinesOf(() => handler(EVENT, CONTEXT));

    // Assess
    expect(result.status).toBe('fulfilled');
    expect(values(lines)).toEqual(
      expect.arrayContaining([
        { name: GUARD_METRICS.eventsHandled, value: 1, outcome: 'published' },
        { name: GUARD_METRICS.eventFindings, value: 1, kind: 'drift', severity: 'critical' },
        { name: GUARD_METRICS.eventToFindingMs, value: 2_500 },
      ]),
    );
    expect(values(lines).map((metric) => metric.name)).not.toContain(GUARD_METRICS.restores);
    destroy();
  });

  it('counts a restore in remediate mode', async () => {
    // Prepare
    const { handler, destroy } = setup('remediate');
    kmsRestoresDesiredAfter(driftedPolicyText());

    // Act
    const { lines } = await emfLinesOf(() => handler(EVENT, CONTEXT));

    // Assess
    expect(values(lines)).toEqual(
      expect.arrayContaining([
        { name: GUARD_METRICS.eventsHandled, value: 1, outcome: 'published' },
        { name: GUARD_METRICS.restores, value: 1 },
      ]),
    );
    destroy();
  });

  it('emits the error outcome when the invocation throws, and still throws (Lambda retries)', async () => {
    // Prepare
    const { handler, destroy } = setup('alert');
    kmsMock.on(GetKeyPolicyCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 'client', 400));

    // Act
    const { lines, outcome: result } = await emfLinesOf(() => handler(EVENT, CONTEXT));

    // Assess
    expect(result.status).toBe('rejected');
    expect(values(lines)).toEqual([{ name: GUARD_METRICS.eventsHandled, value: 1, outcome: 'error' }]);
    destroy();
  });

  it('logs a metrics failure and returns the summary all the same', async () => {
    // Prepare
    const broken = createGuardMetrics();
    jest.spyOn(broken, 'singleMetric').mockImplementation(() => {
      throw new Error('metrics are broken');
    });
    const { handler, errors, destroy } = setup('alert', broken);
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

    // Act
    const summary = await handler(EVENT, CONTEXT);

    // Assess
    expect(summary.status).toBe('published');
    expect(errors).toContain('drift_metrics_failed');
    destroy();
  });
});

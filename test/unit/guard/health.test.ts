/**
 * The health port's pure parts: the drift rule's pattern compared semantically, and the probe that asks
 * every source at once and never loses a failure.
 */

import { RetryableAwsError } from '../../../src/guard/errors';
import { eventPatternDifferences, KMS_POLICY_CHANGE_EVENT_PATTERN } from '../../../src/guard/event-pattern';
import {
  combineHealthProbes,
  type GuardHealth,
  type GuardHealthProbe,
  type HealthCheck,
  type HealthCheckSource,
  healthGaps,
  uncheckable,
} from '../../../src/guard/health';

describe('eventPatternDifferences', () => {
  it('finds none for the pattern itself, in any key order, list order or with repeated values', () => {
    // Prepare
    const { detail } = KMS_POLICY_CHANGE_EVENT_PATTERN;
    const reordered = JSON.stringify({
      detail: {
        eventName: [...detail.eventName].reverse().concat(['PutKeyPolicy']),
        errorCode: [{ exists: false }],
        eventSource: ['kms.amazonaws.com'],
      },
      source: ['aws.kms'],
      'detail-type': ['AWS API Call via CloudTrail'],
    });

    // Act
    const found = [JSON.stringify(KMS_POLICY_CHANGE_EVENT_PATTERN), reordered].map((text) =>
      eventPatternDifferences(text),
    );

    // Assess
    expect(found).toEqual([[], []]);
  });

  it.each([
    [
      'failed calls let through',
      {
        ...KMS_POLICY_CHANGE_EVENT_PATTERN,
        detail: { ...KMS_POLICY_CHANGE_EVENT_PATTERN.detail, errorCode: undefined },
      },
      ['detail.errorCode is missing'],
    ],
    [
      'another source',
      { ...KMS_POLICY_CHANGE_EVENT_PATTERN, source: ['aws.kms-decoy'] },
      ['source lacks "aws.kms"', 'source also has "aws.kms-decoy"'],
    ],
    [
      'an extra condition that matches nothing',
      { ...KMS_POLICY_CHANGE_EVENT_PATTERN, account: ['000000000000'] },
      ['account is extra: ["000000000000"]'],
    ],
    [
      'a string where a list was',
      { ...KMS_POLICY_CHANGE_EVENT_PATTERN, 'detail-type': 'AWS API Call via CloudTrail' },
      ['detail-type is "AWS API Call via CloudTrail" instead of ["AWS API Call via CloudTrail"]'],
    ],
  ])('names each difference when the pattern has %s', (_what, pattern, expected) => {
    // Act
    const found = eventPatternDifferences(JSON.stringify(pattern));

    // Assess
    expect(found).toEqual(expected);
  });

  it.each([
    [undefined, ['the rule has no event pattern']],
    ['  ', ['the rule has no event pattern']],
    ['{"source": [', ['the event pattern is not JSON']],
    ['[]', [`the pattern is [] instead of ${JSON.stringify(KMS_POLICY_CHANGE_EVENT_PATTERN)}`]],
  ])('says what is wrong with a pattern text %j', (text, expected) => {
    // Act + Assess
    expect(eventPatternDifferences(text)).toEqual(expected);
  });
});

class ScriptedProbe implements GuardHealthProbe {
  calls = 0;
  constructor(private readonly answer: GuardHealth | Error) {}
  async checkHealth(): Promise<GuardHealth> {
    this.calls += 1;
    if (this.answer instanceof Error) throw this.answer;
    return this.answer;
  }
}

class ScriptedSource implements HealthCheckSource {
  calls = 0;
  constructor(
    readonly name: string,
    private readonly answer: HealthCheck[] | Error,
  ) {}
  async checks(): Promise<HealthCheck[]> {
    this.calls += 1;
    if (this.answer instanceof Error) throw this.answer;
    return this.answer;
  }
}

const DRIFT_RULE = { ruleName: 'kms-policy-guard-dev-drift', state: 'ENABLED' };

describe('combineHealthProbes', () => {
  it('asks the rule probe and every source once, and keeps their checks in order', async () => {
    // Prepare
    const probe = new ScriptedProbe({
      driftRule: DRIFT_RULE,
      checks: [{ check: 'drift rule pattern', ok: true }],
    });
    const lambda = new ScriptedSource('reserved concurrency', [
      { check: 'reserved concurrency of a', ok: true },
    ]);
    const trail = new ScriptedSource('CloudTrail trail', [
      { check: 'CloudTrail trail', ok: false, problem: 'stopped' },
    ]);

    // Act
    const health = await combineHealthProbes(probe, [lambda, trail]).checkHealth();

    // Assess
    expect(health).toEqual({
      driftRule: DRIFT_RULE,
      checks: [
        { check: 'drift rule pattern', ok: true },
        { check: 'reserved concurrency of a', ok: true },
        { check: 'CloudTrail trail', ok: false, problem: 'stopped' },
      ],
    });
    expect([probe.calls, lambda.calls, trail.calls]).toEqual([1, 1, 1]);
    expect(healthGaps(health.checks).map((gap) => gap.check)).toEqual(['CloudTrail trail']);
  });

  it('turns a source that throws into one failed check under its name, never a pass', async () => {
    // Prepare
    const probe = new ScriptedProbe({ driftRule: DRIFT_RULE, checks: [] });
    const broken = new ScriptedSource(
      'findings topic subscriptions',
      new RetryableAwsError('ListSubscriptionsByTopic', 'Rate exceeded', 'Throttling'),
    );

    // Act
    const health = await combineHealthProbes(probe, [broken]).checkHealth();

    // Assess
    expect(health.checks).toEqual([
      {
        check: 'findings topic subscriptions',
        ok: false,
        problem:
          'could not be checked: ListSubscriptionsByTopic failed after retries: Rate exceeded (Throttling)',
        fix: uncheckable('x', new Error('x')).fix,
      },
    ]);
  });

  it('throws when the drift rule itself could not be described', async () => {
    // Prepare
    const error = new RetryableAwsError('DescribeRule', 'Rate exceeded', 'ThrottlingException');
    const source = new ScriptedSource('CloudTrail trail', []);

    // Act + Assess
    await expect(combineHealthProbes(new ScriptedProbe(error), [source]).checkHealth()).rejects.toBe(error);
  });
});

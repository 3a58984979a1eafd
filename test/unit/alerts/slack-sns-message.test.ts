import { readFindingFromSnsMessage } from '../../../src/alerts/slack-sns-message';
import { buildSnsPublishInput } from '../../../src/alerts/sns-message';
import { driftFinding } from './slack-fixtures';

describe('readFindingFromSnsMessage', () => {
  const finding = driftFinding();
  const findingJson = JSON.stringify(finding);

  it.each([
    ['the finding JSON (MessageStructure json delivers the default value)', findingJson, 'finding'],
    ['an envelope with a default key', JSON.stringify({ default: findingJson, email: 'text' }), 'envelope'],
    [
      'an envelope with a lambda key',
      JSON.stringify({ default: 'plain text', lambda: findingJson }),
      'envelope',
    ],
  ] as const)('reads %s', (_name, message, shape) => {
    // Act
    const result = readFindingFromSnsMessage(message);

    // Assess
    expect(result).toEqual({ ok: true, kind: 'finding', finding, shape });
  });

  it('reads a CloudWatch alarm notification of the stack as an alarm', () => {
    // Prepare
    const alarm = {
      AlarmName: 'kms-policy-guard-prod-dlq-depth',
      AlarmDescription: 'KMS events were dead-lettered; check them by hand and re-run kms-guard audit.',
      AWSAccountId: '111122223333',
      NewStateValue: 'ALARM',
      NewStateReason: 'Threshold Crossed: 1 datapoint [2.0] was greater than the threshold (0.0).',
      StateChangeTime: '2026-05-04T10:20:00.000+0000',
      Region: 'EU (Ireland)',
      OldStateValue: 'OK',
      Trigger: { MetricName: 'ApproximateNumberOfMessagesVisible' },
    };

    // Act
    const result = readFindingFromSnsMessage(JSON.stringify(alarm));

    // Assess
    expect(result).toMatchObject({
      ok: true,
      kind: 'alarm',
      alarm: { AlarmName: alarm.AlarmName, NewStateValue: 'ALARM' },
    });
  });

  it('tells the reader when the publisher shortened the finding to fit SNS', () => {
    // Prepare
    const { diff: _diff, ...withoutDiff } = finding;
    const shortened = { ...withoutDiff, truncated: ['JSON: live document and diff left out'] };

    // Act
    const result = readFindingFromSnsMessage(JSON.stringify(shortened));

    // Assess
    expect(result.ok && result.kind === 'finding' && result.finding.details).toEqual([
      ...finding.details,
      'SNS message shortened: JSON: live document and diff left out',
    ]);
  });

  it('fills lists a publisher left out with empty ones', () => {
    // Prepare
    const { details: _details, aliases: _aliases, ...withoutLists } = finding;

    // Act
    const result = readFindingFromSnsMessage(JSON.stringify(withoutLists));

    // Assess
    expect(result.ok && result.kind === 'finding' && result.finding.details).toEqual([]);
    expect(result.ok && result.kind === 'finding' && result.finding.aliases).toEqual([]);
  });

  it.each([
    ['not JSON', 'Key policy drift on alias/payments', 'not-json'],
    ['a JSON array', '[1,2]', 'not-an-object'],
    [
      'an envelope of plain text',
      JSON.stringify({ default: 'Key policy drift', email: 'x' }),
      'envelope-without-finding',
    ],
    [
      'an object that is not a finding',
      JSON.stringify({ keyArn: 'arn:aws:kms:eu-west-1:1:key/x' }),
      'not-a-finding',
    ],
    [
      'a finding with an unknown severity',
      JSON.stringify({ ...finding, severity: 'urgent' }),
      'not-a-finding',
    ],
  ])('classifies %s as unreadable', (_name, message, reason) => {
    // Act
    const result = readFindingFromSnsMessage(message);

    // Assess
    expect(result).toMatchObject({ ok: false, reason });
  });

  it('names the fields that are wrong', () => {
    // Act
    const result = readFindingFromSnsMessage(JSON.stringify({ ...finding, severity: 'urgent', keyId: 7 }));

    // Assess
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.detail).toMatch(/severity: .*; keyId: /);
  });

  describe('with what the publisher (src/alerts/sns-message.ts) really sends', () => {
    const topicArn = 'arn:aws:sns:eu-west-1:111122223333:kms-policy-guard-findings';
    const withDocuments = driftFinding({
      livePolicy: JSON.stringify({ Statement: [] }),
      desiredPolicy: '{}',
    });

    function deliveredToLambda(message: string | undefined): string {
      // MessageStructure json: SNS hands a Lambda subscriber the `lambda` value, else `default`.
      const envelope: unknown = JSON.parse(message ?? '');
      if (typeof envelope !== 'object' || envelope === null || !('default' in envelope))
        throw new Error('no default');
      const delivered = 'lambda' in envelope ? envelope.lambda : envelope.default;
      if (typeof delivered !== 'string') throw new Error('default is not a string');
      return delivered;
    }

    it('reads the finding SNS delivers to the Lambda subscriber, and the raw envelope too', () => {
      // Prepare
      const published = buildSnsPublishInput(withDocuments, topicArn);

      // Act
      const delivered = readFindingFromSnsMessage(deliveredToLambda(published.input.Message));
      const raw = readFindingFromSnsMessage(published.input.Message ?? '');

      // Assess
      expect(published.input.MessageStructure).toBe('json');
      expect(delivered).toEqual({ ok: true, kind: 'finding', finding: withDocuments, shape: 'finding' });
      expect(raw).toEqual({ ok: true, kind: 'finding', finding: withDocuments, shape: 'envelope' });
    });

    it('reads a finding the publisher had to shorten, and says what was cut', () => {
      // Prepare
      const huge = driftFinding({ livePolicy: 'x'.repeat(300_000) });
      const published = buildSnsPublishInput(huge, topicArn);

      // Act
      const result = readFindingFromSnsMessage(deliveredToLambda(published.input.Message));

      // Assess
      expect(published.truncated.length).toBeGreaterThan(0);
      expect(result.ok && result.kind === 'finding' && result.finding.details).toEqual(
        expect.arrayContaining(published.truncated.map((note) => `SNS message shortened: ${note}`)),
      );
    });
  });
});

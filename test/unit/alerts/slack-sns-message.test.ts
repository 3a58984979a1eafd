import { readFindingFromSnsMessage } from '../../../src/alerts/slack-sns-message';
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
});

/**
 * Bugs the fuzz suites found, each pinned by the smallest input that showed it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readFindingFromSnsMessage } from '../../../src/alerts/slack-sns-message';
import { buildSnsPublishInput, SNS_MESSAGE_MAX_BYTES } from '../../../src/alerts/sns-message';
import { comparePolicies } from '../../../src/policy/compare';
import { expandActionPattern } from '../../../src/policy/service-data';
import { validatePolicy } from '../../../src/policy/validate';
import { driftFinding } from '../alerts/slack-fixtures';
import { REPO_ROOT } from './mutate';

function appLogsPolicyWithAction(action: string): { Statement: { Action: unknown }[] } {
  const document = JSON.parse(readFileSync(path.join(REPO_ROOT, 'policies/app-logs.json'), 'utf8')) as {
    Statement: { Action: unknown }[];
  };
  const statement = document.Statement[0];
  if (statement) statement.Action = [action];
  return document;
}

describe('wildcard actions of any length (fuzz finding: "Regular expression too large")', () => {
  it.each([
    ['a 40 KB wildcard pattern', `kms:Encrypt*${'A'.repeat(40_000)}`, []],
    ['40,000 stars', `kms:${'*'.repeat(40_000)}`, expandActionPattern('kms:*')],
    ['a pattern that backtracks a regular expression', `kms:${'*a'.repeat(30)}*b`, []],
    ['a question mark per character', 'kms:???????', ['kms:Decrypt', 'kms:Encrypt']],
    ['a star in the middle, any case', 'KMS:get*POLICY', ['kms:GetKeyPolicy']],
    ['a literal regex metacharacter', 'kms:Get.*', []],
  ])('expands %s without throwing', (_case, pattern, expected) => {
    // Act
    const started = Date.now();
    const actions = expandActionPattern(pattern);
    // Assess
    expect(actions).toEqual(expected);
    expect(Date.now() - started).toBeLessThan(200);
  });

  it('validatePolicy and comparePolicies report a 40 KB wildcard action instead of throwing', () => {
    // Prepare
    const document = appLogsPolicyWithAction(`kms:Encrypt*${'A'.repeat(40_000)}`);
    // Act
    const validation = validatePolicy(document);
    const comparison = comparePolicies(document, JSON.stringify(document));
    // Assess
    expect(validation.findings.map((finding) => finding.code)).toEqual(
      expect.arrayContaining(['KMS003', 'KMS202']),
    );
    expect(comparison.status).toBe('equivalent');
  });
});

describe('typo suggestions for huge names (fuzz finding: 40 KB action names took seconds each)', () => {
  it.each([
    ['action', (value: string) => appLogsPolicyWithAction(value)],
    [
      'condition key',
      (value: string) => ({
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 'kms:Decrypt',
            Resource: '*',
            Condition: { StringEquals: { [value]: 'x' } },
          },
        ],
      }),
    ],
    [
      'principal type',
      (value: string) => ({
        Statement: [{ Effect: 'Allow', Principal: { [value]: '*' }, Action: 'kms:Decrypt', Resource: '*' }],
      }),
    ],
  ])('validates a document with a 40 KB unknown %s in well under a second', (_element, build) => {
    // Prepare
    const document = build(`kms:Decrypt${'x'.repeat(40_000)}`);
    // Act
    const started = Date.now();
    const result = validatePolicy(document);
    // Assess
    expect(Date.now() - started).toBeLessThan(500);
    expect(result.findings.map((finding) => finding.code)).toContain('KMS003');
  });

  it('still suggests the closest name for an ordinary typo', () => {
    const result = validatePolicy(appLogsPolicyWithAction('kms:Decrpyt'));
    expect(result.findings.find((finding) => finding.code === 'KMS201')?.message).toContain(
      'did you mean "kms:Decrypt"?',
    );
  });
});

describe('SNS message of a finding full of huge attacker-controlled strings (fuzz finding: 604 KB message)', () => {
  it('still fits 256 KB, says it was reduced, and stays readable as a finding', () => {
    // Prepare: 40 KB in every CloudTrail- or policy-controlled field outside the details
    const huge = 'x'.repeat(40_000);
    const base = driftFinding();
    const finding = {
      ...base,
      title: huge,
      aliases: [huge, huge],
      keyName: huge,
      actor: { ...base.actor, arn: huge, userAgent: huge, sourceIPAddress: huge, type: huge },
      livePolicy: huge,
      desiredPolicy: huge,
      cosmetic: [{ kind: 'sid' as const, message: huge }],
      validation: {
        live: [{ code: 'KMS201', level: 'error' as const, path: '$', message: huge }],
        desired: [],
      },
      details: ['first line', huge],
    };
    // Act
    const { input, bytes, truncated } = buildSnsPublishInput(
      finding,
      'arn:aws:sns:us-west-2:111122223333:findings',
    );
    // Assess
    expect(bytes).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
    expect(truncated).toContain(
      'finding reduced to its essentials (identity, first detail lines, every string capped)',
    );
    const structure = JSON.parse(input.Message ?? '{}') as { default: string; email: string };
    const read = readFindingFromSnsMessage(structure.default);
    expect(read).toMatchObject({
      ok: true,
      kind: 'finding',
      finding: { id: base.id, kind: 'drift', keyArn: base.keyArn },
    });
    expect(structure.email).toContain(base.keyArn);
  });
});

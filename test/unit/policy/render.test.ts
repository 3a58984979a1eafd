import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { comparePolicies } from '../../../src/policy/compare';
import { renderCompactDiff, renderDiffText, renderFindingsText } from '../../../src/policy/render';
import type { PolicyDocument } from '../../../src/policy/types';

const exampleText = readFileSync(join(__dirname, 'fixtures', 'example-key-policy.json'), 'utf8');
const example = JSON.parse(exampleText) as PolicyDocument;

function driftedExample(): PolicyDocument {
  const live = structuredClone(example);
  const [enable, admins, use, grants] = live.Statement;
  if (!enable || !admins || !use || !grants) throw new Error('fixture has four statements');
  use.Principal = { AWS: ['arn:aws:iam::111122223333:user/ExampleUser', '*'] };
  delete grants.Condition;
  enable.Sid = 'Root';
  live.Statement.push({
    Effect: 'Allow',
    Principal: { AWS: 'AROAJ52OTH4H7LEXAMPLE' },
    Action: 'kms:Decrypt',
    Resource: '*',
  });
  return live;
}

describe('renderDiffText', () => {
  it('shows who gained what first, then statement changes, orphans and cosmetic notes', () => {
    // Act
    const text = renderDiffText(comparePolicies(exampleText, driftedExample()));

    // Assess
    const order = [
      'Policy drift, severity CRITICAL',
      'Who gained or lost access:',
      '[CRITICAL] * (anyone, in any AWS account)',
      'Statement changes (live compared with desired):',
      'adds principal *',
      'removes condition Bool kms:grantisforawsresource=[true]',
      'Orphaned principals',
      'AROAJ52OTH4H7LEXAMPLE at $.Statement[4]',
      'Cosmetic differences (not drift):',
      'Sid differs: "Enable IAM policies" desired, "Root" live',
    ].map((needle) => text.indexOf(needle));
    expect(order.every((position) => position >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  });

  it('contains no ANSI colour codes and is deterministic', () => {
    // Act
    const first = renderDiffText(comparePolicies(exampleText, driftedExample()));
    const second = renderDiffText(comparePolicies(exampleText, driftedExample()));

    // Assess
    expect(first.includes('\u001b[')).toBe(false);
    expect(first).toBe(second);
  });

  it('says so plainly when the policies are equivalent', () => {
    const text = renderDiffText(comparePolicies(exampleText, JSON.stringify(example)));
    expect(text.split('\n')[0]).toBe('Policies are equivalent (1 cosmetic difference, not drift).');
  });

  it('lists problems with the document and path when a policy cannot be read', () => {
    const text = renderDiffText(comparePolicies(exampleText, '{"Statement": [}'));
    expect(text).toContain('Problems (the document could not be compared fully):');
    expect(text).toContain("  - live $: Not JSON: expected a value, found '}' at line 1 column 16");
  });

  it('shows Version drift with its severity', () => {
    const text = renderDiffText(comparePolicies(exampleText, { ...example, Version: undefined }));
    expect(text).toContain('[MEDIUM] Version changed from 2012-10-17 to (missing)');
  });

  it('shows the wildcard note with the service-data date', () => {
    // Prepare
    const desired = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: '*', Action: 'kms:Describe*', Resource: '*' }],
    };
    const live = {
      ...desired,
      Statement: [{ ...desired.Statement[0], Action: ['kms:DescribeKey', 'kms:DescribeCustomKeyStores'] }],
    };

    // Act
    const result = comparePolicies(desired, live);

    // Assess
    expect(renderDiffText(result)).toContain(`same effective actions as of ${result.serviceDataDate}`);
  });
});

describe('renderCompactDiff', () => {
  const result = comparePolicies(exampleText, driftedExample());

  it('returns the whole text (without blank lines) when it fits', () => {
    const full = renderDiffText(result).split('\n').filter(Boolean).join('\n');
    expect(renderCompactDiff(result, 100_000)).toBe(full);
  });

  it.each([0, 1, 10, 40, 100, 280, 1000, 2900])('never exceeds %i characters', (maxChars) => {
    expect(renderCompactDiff(result, maxChars).length).toBeLessThanOrEqual(maxChars);
  });

  it('keeps whole lines in priority order and says how many were left out', () => {
    // Act
    const compact = renderCompactDiff(result, 300);

    // Assess
    const lines = compact.split('\n');
    expect(lines[0]).toMatch(/^Policy drift, severity CRITICAL/);
    expect(lines.at(-1)).toMatch(/^… \d+ more lines$/);
    expect(renderDiffText(result)).toContain(lines.slice(0, -1).join('\n').split('\n')[1] ?? '');
  });

  it('does not split a surrogate pair when even the first line must be cut', () => {
    // Prepare
    const emoji = comparePolicies(
      {
        Statement: [
          { Sid: '🔑'.repeat(50), Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*' },
        ],
      },
      '{',
    );

    // Act
    const compact = renderCompactDiff(emoji, 7);

    // Assess
    expect(compact.length).toBeLessThanOrEqual(7);
    expect(() => encodeURIComponent(compact)).not.toThrow();
  });
});

describe('renderFindingsText', () => {
  it('lists errors before warnings, one per line with code and path', () => {
    // Act
    const text = renderFindingsText([
      {
        code: 'KMS020',
        level: 'warning',
        path: '$.Statement[0].Principal',
        message: 'Anyone may use the key',
      },
      { code: 'KMS001', level: 'error', path: '$', message: 'Not JSON' },
    ]);

    // Assess
    expect(text).toBe(
      'ERROR KMS001 $: Not JSON\nWARNING KMS020 $.Statement[0].Principal: Anyone may use the key',
    );
  });

  it('says there are no findings', () => {
    expect(renderFindingsText([])).toBe('No findings.');
  });
});

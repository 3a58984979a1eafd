/**
 * Fuzzing the policy engine: arbitrary JSON, arbitrary text (binary included) and the real policies
 * (policies/*.json and the test fixtures) damaged at random paths or bytes, into parsePolicy,
 * validatePolicy, comparePolicies and renderDiffText.
 *
 * Properties: nothing throws; every rejection says where (a JSON path) and why (a non-empty message,
 * and for validation a catalogue code); a document that is not valid always has an error finding.
 */
import fc from 'fast-check';
import { RULES } from '../../../src/policy/catalogue';
import { comparePolicies } from '../../../src/policy/compare';
import { parsePolicy } from '../../../src/policy/parse';
import { renderDiffText } from '../../../src/policy/render';
import type { CompareResult, ParseIssue, ValidationFinding } from '../../../src/policy/types';
import { validatePolicy } from '../../../src/policy/validate';
import { FUZZ_RUNS, loadJsonFiles, mutatedDocument, mutatedText } from './mutate';

const SEED_FILES = loadJsonFiles(
  'policies',
  'test/fixtures/cli',
  'test/unit/guard/fixtures',
  'test/unit/policy/fixtures',
).filter((entry) => typeof entry.value === 'object' && entry.value !== null && 'Statement' in entry.value);
const SEED_DOCUMENTS = SEED_FILES.map((entry) => entry.value);
const SEED_TEXTS = SEED_FILES.map((entry) => entry.text);
const CATALOGUE_CODES = new Set(RULES.map((rule) => rule.code));

/** Any input a caller could hand the engine: text or an in-memory value. */
const policyInput: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: mutatedDocument(SEED_DOCUMENTS, 4) },
  { weight: 3, arbitrary: mutatedDocument(SEED_DOCUMENTS, 3).map((value) => JSON.stringify(value) ?? '') },
  { weight: 4, arbitrary: mutatedText(SEED_TEXTS) },
  { weight: 1, arbitrary: fc.constantFrom(...SEED_TEXTS) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 100 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(
      undefined,
      null,
      '',
      '{}',
      '[]',
      'null',
      '{"Statement":{}}',
      '{"Statement":[null]}',
      `{"Statement":${'['.repeat(2_000)}`,
      `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
      '{"__proto__":{"Statement":[]}}',
      '\ufeff{"Version":"2012-10-17","Statement":[]}',
      Number.NaN,
      Symbol('policy'),
      () => '{}',
      new Date(0),
      new Map([['Statement', []]]),
    ),
  },
);

function issueProblems(issues: readonly ParseIssue[], where: string): string[] {
  return issues.flatMap((issue, index) => {
    const problems: string[] = [];
    if (typeof issue.path !== 'string' || !issue.path.startsWith('$'))
      problems.push(`${where}[${index}] path`);
    if (typeof issue.message !== 'string' || issue.message.trim() === '')
      problems.push(`${where}[${index}] message`);
    return problems;
  });
}

function findingProblems(findings: readonly ValidationFinding[]): string[] {
  return findings.flatMap((finding, index) => {
    const problems: string[] = [];
    if (!CATALOGUE_CODES.has(finding.code)) problems.push(`finding[${index}] code ${finding.code}`);
    if (!finding.path.startsWith('$')) problems.push(`finding[${index}] path ${finding.path}`);
    if (finding.message.trim() === '') problems.push(`finding[${index}] empty message`);
    if (finding.level !== 'error' && finding.level !== 'warning') problems.push(`finding[${index}] level`);
    return problems;
  });
}

function compareProblems(result: CompareResult): string[] {
  const problems: string[] = [];
  if (result.status !== 'equivalent' && result.status !== 'drift') problems.push(`status ${result.status}`);
  if (result.problems.length > 0 && result.status !== 'drift') problems.push('problems but not drift');
  for (const problem of result.problems) {
    if (problem.issues.length === 0) problems.push(`${problem.document}: empty issue list`);
    problems.push(...issueProblems(problem.issues, problem.document));
  }
  return problems;
}

describe('policy engine under arbitrary and damaged input (fuzz)', () => {
  it('has real policies to damage', () => {
    expect(SEED_DOCUMENTS.length).toBeGreaterThanOrEqual(8);
  });

  it(`parsePolicy never throws and explains every rejection (${FUZZ_RUNS.parsePolicy} cases)`, () => {
    fc.assert(
      fc.property(policyInput, (input) => {
        // Act
        const result = parsePolicy(input);
        // Assess
        if (result.ok) {
          expect(Array.isArray(result.document.Statement)).toBe(true);
          expect(issueProblems(result.unknownElements, 'unknownElements')).toEqual([]);
        } else {
          expect(result.issues.length).toBeGreaterThan(0);
          expect(issueProblems(result.issues, 'issues')).toEqual([]);
        }
      }),
      { numRuns: FUZZ_RUNS.parsePolicy },
    );
  });

  it(`validatePolicy never throws; an invalid document always has an error with code, path and message (${FUZZ_RUNS.validatePolicy} cases)`, () => {
    fc.assert(
      fc.property(
        policyInput,
        fc.constantFrom<'alert' | 'remediate' | 'dry-run' | undefined>(
          'alert',
          'remediate',
          'dry-run',
          undefined,
        ),
        (input, mode) => {
          // Act
          const result = validatePolicy(input, {
            mode,
            guardPrincipal: 'arn:aws:iam::111122223333:role/kms-policy-guard-us-west-2',
            allowedAccounts: ['111122223333'],
          });
          // Assess
          expect(findingProblems(result.findings)).toEqual([]);
          expect(result.valid).toBe(result.findings.every((finding) => finding.level !== 'error'));
          expect(Number.isInteger(result.byteLength) && result.byteLength >= 0).toBe(true);
        },
      ),
      { numRuns: FUZZ_RUNS.validatePolicy },
    );
  });

  it(`comparePolicies and renderDiffText never throw; problems always mean drift, with paths (${FUZZ_RUNS.compareAndRender} cases)`, () => {
    fc.assert(
      fc.property(
        fc.oneof(policyInput, fc.constantFrom(...SEED_DOCUMENTS)),
        policyInput,
        fc.boolean(),
        (desired, live, swap) => {
          // Act
          const result = swap ? comparePolicies(live, desired) : comparePolicies(desired, live);
          const text = renderDiffText(result);
          // Assess
          expect(compareProblems(result)).toEqual([]);
          expect(typeof text).toBe('string');
          expect(text.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: FUZZ_RUNS.compareAndRender },
    );
  });

  it('the checks can fail: a finding without a code or an issue without a path is reported', () => {
    expect(findingProblems([{ code: 'X1', level: 'error', path: 'Statement', message: ' ' }])).toEqual([
      'finding[0] code X1',
      'finding[0] path Statement',
      'finding[0] empty message',
    ]);
    expect(issueProblems([{ path: '', message: '' }], 'issues')).toEqual([
      'issues[0] path',
      'issues[0] message',
    ]);
  });
});

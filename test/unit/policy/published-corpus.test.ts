/**
 * The published key policies of the AWS guides (test/fixtures/published/, issue 11.3): every one
 * validates with no error and no warning that contradicts its guide; a warning that is right is
 * listed with why in index.json; a published example that is itself broken keeps its broken text
 * and its error names the breakage exactly.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { comparePolicies } from '../../../src/policy/compare';
import type { ValidateOptions } from '../../../src/policy/types';
import { validatePolicy } from '../../../src/policy/validate';

interface CorpusEntry {
  file: string;
  source: string;
  url: string;
  form: string;
  kms: string;
  options?: ValidateOptions;
  placeholders?: Record<string, string>;
  note?: string;
  expect: {
    errors: { code: string; path: string; message: string }[];
    warnings: { code: string; path: string }[];
    why?: string;
  };
}

const DIR = join(__dirname, '../../fixtures/published');
const INDEX: CorpusEntry[] = JSON.parse(readFileSync(join(DIR, 'index.json'), 'utf8'));

describe('the published key policies', () => {
  it('holds 50 or more documents from the KMS guide, the service guides and the Terraform registry', () => {
    // Act
    const sources = new Set(INDEX.map((entry) => entry.source));
    // Assess
    expect(INDEX.length).toBeGreaterThanOrEqual(50);
    expect([...sources].sort()).toEqual(
      expect.arrayContaining([
        'autoscaling',
        'cloudformation',
        'cloudtrail',
        'cloudwatch-logs',
        'config',
        'controltower',
        'eventbridge',
        'guardduty',
        'kms-guide',
        's3',
        'sns',
        'sqs',
        'systems-manager',
        'terraform',
      ]),
    );
  });

  it('names where each document was published: an AWS guide, or the Terraform registry for Terraform', () => {
    // Act
    const elsewhere = INDEX.filter((entry) =>
      entry.source === 'terraform'
        ? !entry.url.startsWith('https://registry.terraform.io/providers/hashicorp/aws/')
        : !entry.url.startsWith('https://docs.aws.amazon.com/'),
    );
    // Assess
    expect(elsewhere).toEqual([]);
  });

  it('lists each file once, and every file of the corpus', () => {
    // Act
    const listed = INDEX.map((entry) => entry.file).sort();
    const files = readdirSync(DIR)
      .filter((file) => file.endsWith('.json') && file !== 'index.json')
      .sort();
    // Assess
    expect(listed).toEqual(files);
  });

  it.each(INDEX.map((entry) => [entry.file, entry] as const))(
    '%s validates as its index entry expects',
    (_file, entry) => {
      // Prepare
      const text = readFileSync(join(DIR, entry.file), 'utf8');
      // Act
      const result = validatePolicy(text, entry.options ?? {});
      // Assess
      const errors = result.findings
        .filter((finding) => finding.level === 'error')
        .map(({ code, path, message }) => ({ code, path, message }));
      const warnings = result.findings
        .filter((finding) => finding.level === 'warning')
        .map(({ code, path }) => ({ code, path }));
      expect(errors).toEqual(entry.expect.errors);
      expect(warnings).toEqual(entry.expect.warnings);
      if (warnings.length > 0) expect(entry.expect.why).toBeDefined();
    },
  );

  it('finds no operator/key mismatch (KMS206) and no unknown key (KMS205) in any published condition', () => {
    // Act
    const found = INDEX.flatMap((entry) =>
      validatePolicy(readFileSync(join(DIR, entry.file), 'utf8'), entry.options ?? {})
        .findings.filter((finding) => finding.code === 'KMS206' || finding.code === 'KMS205')
        .map((finding) => `${entry.file} ${finding.path}`),
    );
    // Assess
    expect(found).toEqual([]);
  });

  it.each(
    INDEX.filter((entry) => entry.options?.keyArn !== undefined).map((entry) => [entry.file, entry] as const),
  )('%s naming its key as Resource compares equal to "*" when the key ARN is known', (_file, entry) => {
    // Prepare: each Resource that names the key written "*", as a desired document would
    const keyArn = entry.options?.keyArn ?? '';
    const text = readFileSync(join(DIR, entry.file), 'utf8');
    const document = JSON.parse(text) as { Statement: { Resource?: unknown }[] };
    for (const statement of document.Statement) {
      if (statement.Resource === keyArn) statement.Resource = '*';
    }
    // Act
    const known = comparePolicies(document, text, { keyArn });
    const unknown = comparePolicies(document, text);
    // Assess
    expect(known.status).toBe('equivalent');
    expect(unknown.status).toBe('drift');
  });

  it.each([
    [
      'kms-guide-replica-region.json',
      "Not JSON: expected ',' or '}' after a property value, found '\"' at line 18 column 3",
    ],
    ['guardduty-export-findings-first.json', "Not JSON: expected a value, found '<' at line 11 column 11"],
    ['guardduty-export-findings-last.json', "Not JSON: expected a value, found '<' at line 11 column 12"],
    ['kms-guide-bypass-lockout-null.json', 'Statement has no Principal'],
  ])('the broken published %s is refused, naming the breakage: %s', (file, message) => {
    // Act
    const result = validatePolicy(readFileSync(join(DIR, file), 'utf8'));
    // Assess
    expect(result.valid).toBe(false);
    expect(
      result.findings.filter((finding) => finding.level === 'error').map((finding) => finding.message),
    ).toEqual([message]);
  });
});

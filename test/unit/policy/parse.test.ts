import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parsePolicy, utf8ByteLength } from '../../../src/policy/parse';
import { validatePolicy } from '../../../src/policy/validate';

const exampleText = readFileSync(join(__dirname, 'fixtures', 'example-key-policy.json'), 'utf8');

function issuesOf(input: unknown): { path: string; message: string }[] {
  const result = parsePolicy(input);
  if (result.ok) throw new Error('expected the parse to fail');
  return result.issues;
}

describe('parsePolicy', () => {
  it('parses the seed example key policy with its four statements and UTF-8 byte length', () => {
    // Act
    const result = parsePolicy(exampleText);

    // Assess
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.document.Version).toBe('2012-10-17');
    expect(result.document.Id).toBe('key-consolepolicy-2');
    expect(result.document.Statement).toHaveLength(4);
    expect(result.document.Statement[3]?.Condition).toEqual({
      Bool: { 'kms:GrantIsForAWSResource': 'true' },
    });
    expect(result.unknownElements).toEqual([]);
    expect(result.byteLength).toBe(Buffer.byteLength(exampleText, 'utf8'));
  });

  it('turns a lone statement object into a one-element array', () => {
    // Act
    const result = parsePolicy({
      Statement: { Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*' },
    });

    // Assess
    expect(result.ok && result.document.Statement).toEqual([
      { Effect: 'Allow', Principal: '*', Action: 'kms:Decrypt', Resource: '*' },
    ]);
  });

  it('accepts an already-parsed object and measures the bytes of its JSON text', () => {
    // Prepare
    const input = { Version: '2012-10-17', Statement: [{ Sid: 'café', Effect: 'Allow' }] };

    // Act
    const result = parsePolicy(input);

    // Assess
    expect(result.ok && result.byteLength).toBe(Buffer.byteLength(JSON.stringify(input), 'utf8'));
  });

  it.each([
    ['ASCII', 'kms'],
    ['Latin-1', 'café'],
    ['three-byte', '€uro'],
    ['astral (surrogate pair)', 'key 🔑'],
    ['lone surrogate', '\ud800x'],
  ])('counts UTF-8 bytes of %s text like Buffer does', (_case, text) => {
    expect(utf8ByteLength(text)).toBe(Buffer.byteLength(text, 'utf8'));
  });

  it.each([
    ['a missing value', '{\n  "Version": "2012-10-17",\n  "Statement": [ , ]\n}', 3, 18],
    ['a trailing comma', '{"Version": "2012-10-17",}', 1, 26],
    ['an unterminated document', '{\n "Statement": [\n', 3, 1],
    ['a single-quoted string', "{\n\n   'Version': 1}", 3, 4],
    ['text after the document', '{} x', 1, 4],
    ['an empty text', '', 1, 1],
  ])('reports invalid JSON (%s) at its line and column, path $', (_case, text, line, column) => {
    // Act
    const issues = issuesOf(text);

    // Assess
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('$');
    expect(issues[0]?.message).toContain(`at line ${line} column ${column}`);
  });

  it.each([
    ['a non-object document', [], '$', 'A key policy is a JSON object, not a list'],
    ['a null document', null, '$', 'A key policy is a JSON object, not null'],
    ['a missing Statement', { Version: '2012-10-17' }, '$', 'Statement is missing'],
    [
      'a string Statement',
      { Statement: 'x' },
      '$.Statement',
      'Statement is a list of statements or a single statement object, not a string',
    ],
    [
      'a non-object statement',
      { Statement: [{ Effect: 'Allow' }, 'x'] },
      '$.Statement[1]',
      'A statement is an object, not a string',
    ],
    [
      'a numeric Version',
      { Version: 2012, Statement: [] },
      '$.Version',
      'Version must be "2012-10-17", not a number',
    ],
    ['a numeric Sid', { Statement: [{ Sid: 1 }] }, '$.Statement[0].Sid', 'Sid is a string, not a number'],
    [
      'a numeric Effect',
      { Statement: [{ Effect: true }] },
      '$.Statement[0].Effect',
      'Effect is "Allow" or "Deny", not a boolean',
    ],
    [
      'a principal string other than *',
      { Statement: [{ Principal: 'arn:aws:iam::1:root' }] },
      '$.Statement[0].Principal',
      '"*" or an object',
    ],
    [
      'a principal list',
      { Statement: [{ NotPrincipal: ['*'] }] },
      '$.Statement[0].NotPrincipal',
      '"*" or an object',
    ],
    [
      'a numeric principal ID',
      { Statement: [{ Principal: { AWS: [1] } }] },
      '$.Statement[0].Principal.AWS[0]',
      'AWS principals are strings, not a number',
    ],
    [
      'a numeric action',
      { Statement: [{ Action: ['kms:Decrypt', 7] }] },
      '$.Statement[0].Action[1]',
      'Action entries are strings, not a number',
    ],
    [
      'an object NotResource',
      { Statement: [{ NotResource: {} }] },
      '$.Statement[0].NotResource',
      'NotResource is a string or a list of strings, not an object',
    ],
    [
      'a string Condition',
      { Statement: [{ Condition: 'x' }] },
      '$.Statement[0].Condition',
      'Condition is an object of operator -> {key: value}, not a string',
    ],
    [
      'an operator mapping to a string',
      { Statement: [{ Condition: { StringEquals: 'x' } }] },
      '$.Statement[0].Condition.StringEquals',
      'StringEquals holds {condition key: value}, not a string',
    ],
    [
      'a null condition value',
      { Statement: [{ Condition: { Bool: { 'aws:SecureTransport': null } } }] },
      '$.Statement[0].Condition.Bool.aws:SecureTransport',
      'Condition values are strings, numbers or booleans, not null',
    ],
    [
      'an object inside a condition value list',
      { Statement: [{ Condition: { StringEquals: { 'kms:ViaService': ['a', {}] } } }] },
      '$.Statement[0].Condition.StringEquals.kms:ViaService[1]',
      'Condition values are strings, numbers or booleans, not an object',
    ],
    [
      'a qualified operator mapping to a list',
      { Statement: [{ Condition: { 'ForAnyValue:StringEquals': [] } }] },
      '$.Statement[0].Condition.ForAnyValue:StringEquals',
      'ForAnyValue:StringEquals holds {condition key: value}, not a list',
    ],
  ])('reports %s as a shape issue with its JSON path', (_case, input, path, message) => {
    // Act
    const issues = issuesOf(input);

    // Assess
    expect(issues).toContainEqual({ path, message: expect.stringContaining(message) });
  });

  it('reports every shape issue, not only the first', () => {
    // Act
    const issues = issuesOf({ Statement: [{ Action: 1 }, { Resource: 2 }] });

    // Assess
    expect(issues.map((issue) => issue.path)).toEqual(['$.Statement[0].Action', '$.Statement[1].Resource']);
  });

  it('lists element names outside the grammar with their paths, matching exact case', () => {
    // Prepare
    const input = {
      Version: '2012-10-17',
      Versoin: '2012-10-17',
      Statement: [{ Effect: 'Allow', action: 'kms:Decrypt', Actoin: 'x', Principal: '*', Resource: '*' }],
    };

    // Act
    const result = parsePolicy(input);

    // Assess
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.unknownElements.map((issue) => issue.path)).toEqual([
      '$.Versoin',
      '$.Statement[0].action',
      '$.Statement[0].Actoin',
    ]);
    expect(result.unknownElements[1]?.message).toContain('did you mean action → Action?');
    expect(result.document.Statement[0]).toEqual({ Effect: 'Allow', Principal: '*', Resource: '*' });
  });

  it('keeps a missing Effect as an empty string for validation to report', () => {
    const result = parsePolicy({ Statement: [{ Principal: '*' }] });
    expect(result.ok && result.document.Statement[0]?.Effect).toBe('');
  });

  it.each([
    ['undefined', undefined],
    ['a number', 42],
    ['a bigint', BigInt(1)],
    [
      'a circular object',
      (() => {
        const circular: Record<string, unknown> = {};
        circular.self = circular;
        return circular;
      })(),
    ],
    ['a deeply nested text', `${'['.repeat(2000)}${']'.repeat(1999)}`],
  ])('never throws, even for %s', (_case, input) => {
    // Act
    const act = () => parsePolicy(input);

    // Assess
    expect(act).not.toThrow();
    expect(act().ok).toBe(false);
  });

  describe('agrees with validatePolicy: one front end, one path, one wording', () => {
    /** Every problem parse reports must be a validate finding with the same path and message. */
    function notInValidate(input: unknown): string[] {
      const parsed = parsePolicy(input);
      const issues = parsed.ok ? parsed.unknownElements : parsed.issues;
      const findings = new Set(
        validatePolicy(input).findings.map(({ path, message }) => `${path} ${message}`),
      );
      return issues.map(({ path, message }) => `${path} ${message}`).filter((issue) => !findings.has(issue));
    }

    it('reports the bad condition of the issue at one path, in one wording', () => {
      // Prepare
      const input = { Statement: [{ Condition: { StringEquals: { 'kms:ViaService': { service: 's3' } } } }] };
      // Act
      const issues = issuesOf(input);
      const finding = validatePolicy(input).findings.find(({ code }) => code === 'KMS122');
      // Assess
      expect(issues).toEqual([
        {
          path: '$.Statement[0].Condition.StringEquals.kms:ViaService',
          message: 'Condition values are strings, numbers or booleans, not an object',
        },
      ]);
      expect(finding).toMatchObject(issues[0] ?? {});
    });

    it.each([
      ['text that is not JSON', '{"Statement": [}'],
      ['a value with no JSON form', { Statement: [{ Sid: BigInt(1) }] }],
      ['a misspelt element', { Statement: [{ Effect: 'Allow', Actoin: 'kms:Decrypt' }] }],
      ['a name that needs brackets', { Statement: [{ Condition: { 'a.b': 'x' } }] }],
    ])('for %s', (_case, input) => {
      expect(notInValidate(input)).toEqual([]);
    });

    it('for any policy-shaped value, as text and in memory', () => {
      const name = fc.constantFrom(
        'Version',
        'Id',
        'Statement',
        'Sid',
        'Effect',
        'Principal',
        'NotPrincipal',
        'Action',
        'Resource',
        'Condition',
        'AWS',
        'StringEquals',
        'kms:ViaService',
        'a.b',
      );
      const shaped = fc.letrec((tie) => ({
        value: fc.oneof(
          { depthSize: 'small' },
          fc.jsonValue({ maxDepth: 1 }),
          fc.constantFrom('*', 'Allow', 'kms:Decrypt'),
          fc.array(tie('value'), { maxLength: 3 }),
          fc.dictionary(name, tie('value'), { maxKeys: 4 }),
        ),
      })).value;
      fc.assert(
        fc.property(shaped, (statement) => {
          const document = { Version: '2012-10-17', Statement: [statement] };
          expect(notInValidate(document)).toEqual([]);
          expect(notInValidate(JSON.stringify(document))).toEqual([]);
        }),
      );
    });
  });
});

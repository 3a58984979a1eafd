import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixture, runCli, tempFiles } from './helpers';

const EXAMPLE = fixture('example-key-policy.json');
const EXAMPLE_TEXT = readFileSync(EXAMPLE, 'utf8');
const ESC = '\u001b[';

describe('kms-guard validate', () => {
  it('exits 0 and ticks the seeds example key policy', async () => {
    // Act
    const result = await runCli(['validate', EXAMPLE]);
    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`✔ ${EXAMPLE} (1821 bytes)`);
    expect(result.stdout).toContain('1 file checked, 1 valid, 0 invalid (0 errors, 0 warnings)');
    expect(result.stderr).toBe('');
  });

  it('exits 1 and prints each finding as level, code, path and message', async () => {
    const result = await runCli(['validate', EXAMPLE, fixture('broken-resource.json')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`✖ ${fixture('broken-resource.json')}`);
    expect(result.stdout).toContain(
      '  error  KMS104  $.Statement[0].Resource  Resource must be "*" in a key policy',
    );
    expect(result.stdout).toContain('2 files checked, 1 valid, 1 invalid (2 errors, 0 warnings)');
  });

  it('exits 0 when a policy has only warnings', async () => {
    // (lockout warnings KMS305/KMS306 are refused instead: validate-lockout.test.ts)
    const result = await runCli(['validate', fixture('condition-warnings.json')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('  warning  KMS205  $.Statement[3].Condition.StringEquals.kms:ViaServce');
  });

  it('exits 1 for a file that is not JSON and says where it breaks', async () => {
    const result = await runCli(['validate', fixture('not-json.json')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      "  error  KMS001  $  Not JSON: expected a value, found '}' at line 4 column 5",
    );
  });

  it('exits 2 for an unreadable file, names it and the OS error, and still checks the others', async () => {
    const missing = join(tempFiles({}), 'missing.json');
    const result = await runCli(['validate', missing, EXAMPLE]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`kms-guard: ${missing}: cannot read: ENOENT: no such file or directory\n`);
    expect(result.stdout).toContain(`✔ ${EXAMPLE}`);
  });

  it('exits 2 when a directory is given as a file', async () => {
    const dir = tempFiles({});
    const result = await runCli(['validate', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${dir}: cannot read: EISDIR`);
  });

  it.each([
    [['validate'], "missing required argument 'file'"],
    [['validate', EXAMPLE, '--mode', 'bogus'], "argument 'bogus' is invalid"],
    [['validate', EXAMPLE, '--allowed-accounts', '1234'], '"1234" is not a 12-digit account ID'],
    [['validate', EXAMPLE, '--mode', 'remediate'], '--mode remediate needs --guard-principal'],
    [['validate', EXAMPLE, '--no-such-option'], "unknown option '--no-such-option'"],
  ])('exits 2 on the usage error %j', async (argv, message) => {
    const result = await runCli(argv);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('applies --allowed-accounts, --admin, --guard-principal and --mode', async () => {
    // Prepare: the example grants 444455556666; kms:* goes to the root only
    const argv = ['validate', EXAMPLE, '--allowed-accounts', '111122223333'];
    // Act
    const restricted = await runCli(argv);
    const guarded = await runCli([
      ...argv,
      '--mode',
      'remediate',
      '--guard-principal',
      'arn:aws:iam::999999999999:role/guard',
      '--admin',
      'arn:aws:iam::111122223333:role/KMSAdminRole',
    ]);
    // Assess
    expect(restricted.code).toBe(0);
    expect(restricted.stdout).toContain('  warning  KMS302  $.Statement[2].Principal.AWS[2]');
    expect(guarded.stdout).toContain('  error  KMS306  $.Statement  In remediate mode the guard');
  });

  it('prints the documented --json shape', async () => {
    const result = await runCli(['validate', '--json', EXAMPLE, fixture('broken-typos.json')]);
    const output: unknown = JSON.parse(result.stdout);
    expect(result.code).toBe(1);
    expect(output).toEqual({
      valid: false,
      files: [
        { file: EXAMPLE, kind: 'policy', valid: true, byteLength: 1821, findings: [] },
        {
          file: fixture('broken-typos.json'),
          kind: 'policy',
          valid: false,
          byteLength: 1992,
          findings: [
            expect.objectContaining({ code: 'KMS201', level: 'error', path: '$.Statement[2].Action[0]' }),
            expect.objectContaining({ code: 'KMS111', level: 'error', path: '$.Statement[2].Actoin' }),
          ],
        },
      ],
    });
  });

  it('reports an unreadable file in --json with an error field', async () => {
    const missing = join(tempFiles({}), 'gone.json');
    const result = await runCli(['validate', '--json', missing]);
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout)).toEqual({
      valid: false,
      files: [
        {
          file: missing,
          kind: 'policy',
          valid: false,
          byteLength: 0,
          findings: [],
          error: 'cannot read: ENOENT: no such file or directory',
        },
      ],
    });
  });

  it('counts a multi-byte file in bytes', async () => {
    const dir = tempFiles({
      'latin1.json': EXAMPLE_TEXT.replace('Enable IAM policies', 'Enable IAM policiés'),
    });
    const result = await runCli(['validate', '--json', join(dir, 'latin1.json')]);
    expect(JSON.parse(result.stdout).files[0].byteLength).toBe(1822);
  });

  describe('colour', () => {
    it.each([
      ['a terminal', { tty: true }, true],
      ['a pipe', { tty: false }, false],
      ['a terminal with NO_COLOR', { tty: true, env: { NO_COLOR: '1' } }, false],
      ['a pipe with FORCE_COLOR', { tty: false, env: { FORCE_COLOR: '1' } }, true],
      ['a terminal with FORCE_COLOR=0', { tty: true, env: { FORCE_COLOR: '0' } }, false],
    ])('on %s colours: %s', async (_where, settings, coloured) => {
      const result = await runCli(['validate', fixture('broken-resource.json')], settings);
      expect(result.stdout.includes(ESC)).toBe(coloured);
      expect(
        result.stdout
          .split(ESC)
          .map((part) => part.replace(/^\d+m/, ''))
          .join(''),
      ).toContain('  error  KMS104  $.Statement[0].Resource');
    });

    it('never colours --json', async () => {
      const result = await runCli(['validate', '--json', EXAMPLE], { tty: true, env: { FORCE_COLOR: '1' } });
      expect(result.stdout.includes(ESC)).toBe(false);
    });
  });

  describe('manifests', () => {
    it('validates a manifest and every document it names through src/manifest', async () => {
      const dir = tempFiles({
        'manifest.json': JSON.stringify({
          keys: [
            { name: 'example', match: { alias: 'alias/example' }, mode: 'alert', policy: 'example.json' },
          ],
        }),
        'example.json': EXAMPLE_TEXT,
      });
      const result = await runCli(['validate', join(dir, 'manifest.json')]);
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain(`✔ ${join(dir, 'manifest.json')} (manifest, 1 key)`);
      expect(result.code).toBe(0);
    });

    it('exits 1 with the manifest problems when it is invalid', async () => {
      // Prepare: not named manifest.*, recognised by its top-level keys list
      const dir = tempFiles({ 'keys.json': JSON.stringify({ keys: [{ name: 'x', mode: 'sometimes' }] }) });
      const result = await runCli(['validate', join(dir, 'keys.json')]);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`✖ ${join(dir, 'keys.json')}`);
      expect(result.stdout).toMatch(/ {2}error {2}.*keys\[0\]/);
    });
  });
});

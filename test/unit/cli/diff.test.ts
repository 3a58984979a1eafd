import { join } from 'node:path';
import { fixture, runCli, tempFiles } from './helpers';

const DESIRED = fixture('example-key-policy.json');

describe('kms-guard diff', () => {
  it('exits 0 for equivalent documents and lists the cosmetic differences', async () => {
    const result = await runCli(['diff', DESIRED, fixture('live-cosmetic.json')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✔ Policies are equivalent (2 cosmetic differences, not drift).');
    expect(result.stdout).toContain('Statements are in a different order');
  });

  it('exits 0 for a document compared with itself', async () => {
    const result = await runCli(['diff', DESIRED, DESIRED]);
    expect(result.code).toBe(0);
  });

  it('exits 1 for drift and shows who gained access', async () => {
    const result = await runCli(['diff', DESIRED, fixture('live-drift.json')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('✖ Policy drift, severity CRITICAL');
    expect(result.stdout).toMatch(/arn:aws:iam::444455556666:root\n\s+gained: kms:PutKeyPolicy/);
  });

  it('exits 1 when the live document uses an unknown element (drift, not equal)', async () => {
    const result = await runCli(['diff', DESIRED, fixture('broken-typos.json')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Actoin');
  });

  it.each([
    ['not JSON', fixture('not-json.json'), "not JSON: expected a value, found '}' at line 4 column 5"],
    ['an array', 'array.json', 'not a key policy document: $: '],
    ['missing', 'missing.json', 'cannot read: ENOENT: no such file or directory'],
  ])('exits 2 when the live file is %s, naming the file and the problem', async (_what, name, problem) => {
    const dir = tempFiles({ 'array.json': '[{"Effect": "Allow"}]' });
    const live = name.startsWith('/') ? name : join(dir, name);
    const result = await runCli(['diff', DESIRED, live]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`kms-guard: ${live}: ${problem}`);
    expect(result.stdout).toBe('');
  });

  it('exits 2 when the desired file is missing', async () => {
    const missing = join(tempFiles({}), 'desired.json');
    const result = await runCli(['diff', missing, DESIRED]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${missing}: cannot read`);
  });

  it('exits 2 without both arguments', async () => {
    const result = await runCli(['diff', DESIRED]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("missing required argument 'live'");
  });

  it('prints the documented --json shape', async () => {
    const result = await runCli(['diff', '--json', DESIRED, fixture('live-drift.json')]);
    const output = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(result.code).toBe(1);
    expect(Object.keys(output)).toEqual([
      'status',
      'severity',
      'cosmetic',
      'diff',
      'problems',
      'serviceDataDate',
    ]);
    expect(output).toMatchObject({ status: 'drift', severity: 'critical', problems: [] });
    expect(output.serviceDataDate).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it('prints equivalent --json with severity info', async () => {
    const result = await runCli(['diff', '--json', DESIRED, fixture('live-cosmetic.json')]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ status: 'equivalent', severity: 'info' });
  });

  it.each([
    [{ tty: true }, true],
    [{ tty: true, env: { NO_COLOR: '1' } }, false],
  ])('colours the diff only where allowed (%j)', async (settings, coloured) => {
    const result = await runCli(['diff', DESIRED, fixture('live-drift.json')], settings);
    expect(result.stdout.includes('\u001b[31m[CRITICAL]')).toBe(coloured);
    expect(result.stdout.includes('\u001b[')).toBe(coloured);
  });
});

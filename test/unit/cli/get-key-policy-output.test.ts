/**
 * `aws kms get-key-policy` prints `{"Policy": "<string>", "PolicyName": "default"}` by default:
 * diff and validate read the Policy string out of exactly that shape, and say so (issue 11.5).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unwrapGetKeyPolicyOutput } from '../../../src/cli/files';
import { fixture, runCli, tempFiles } from './helpers';

const EXAMPLE = fixture('example-key-policy.json');
const EXAMPLE_TEXT = readFileSync(EXAMPLE, 'utf8');
const CLI_OUTPUT = JSON.stringify({ Policy: EXAMPLE_TEXT, PolicyName: 'default' }, null, 4);

describe('get-key-policy output', () => {
  it.each([
    ['the CLI output', CLI_OUTPUT, EXAMPLE_TEXT],
    ['its names in the other order', JSON.stringify({ PolicyName: 'default', Policy: '{}' }), '{}'],
  ])('unwraps %s', (_what, text, expected) => {
    expect(unwrapGetKeyPolicyOutput(text)).toBe(expected);
  });

  it.each([
    ['a key policy', EXAMPLE_TEXT],
    ['another policy name', JSON.stringify({ Policy: '{}', PolicyName: 'other' })],
    ['a third name', JSON.stringify({ Policy: '{}', PolicyName: 'default', Extra: 1 })],
    ['no PolicyName', JSON.stringify({ Policy: '{}' })],
    ['a Policy object', JSON.stringify({ Policy: {}, PolicyName: 'default' })],
    ['not JSON', '{"Policy": '],
    ['an array', '[]'],
  ])('leaves %s as it is', (_what, text) => {
    expect(unwrapGetKeyPolicyOutput(text)).toBeUndefined();
  });

  it('diff compares the Policy string of get-key-policy output and says it unwrapped it', async () => {
    // Prepare
    const live = join(tempFiles({ 'live.json': CLI_OUTPUT }), 'live.json');
    // Act
    const result = await runCli(['diff', EXAMPLE, live]);
    const json = await runCli(['diff', '--json', EXAMPLE, live]);
    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `note: ${live} is \`aws kms get-key-policy\` output: its Policy string was unwrapped`,
    );
    expect(result.stdout).toContain('✔ Policies are equivalent');
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'equivalent', unwrapped: [live] });
  });

  it('diff names the Policy string when what it holds is not JSON', async () => {
    // Prepare
    const live = join(
      tempFiles({ 'live.json': JSON.stringify({ Policy: '{"Version": ', PolicyName: 'default' }) }),
      'live.json',
    );
    // Act
    const result = await runCli(['diff', EXAMPLE, live]);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`kms-guard: ${live} (its Policy string): not JSON:`);
  });

  it('validate checks the Policy string, counts its bytes and says it unwrapped it', async () => {
    // Prepare
    const file = join(tempFiles({ 'live.json': CLI_OUTPUT }), 'live.json');
    // Act
    const result = await runCli(['validate', file]);
    const json = await runCli(['validate', '--json', file]);
    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`✔ ${file} (1821 bytes)`);
    expect(result.stdout).toContain(`note: ${file} is \`aws kms get-key-policy\` output`);
    expect(JSON.parse(json.stdout).files[0]).toMatchObject({
      unwrapped: true,
      byteLength: 1821,
      valid: true,
    });
  });

  it('a document that only resembles the output is validated as the policy it is', async () => {
    // Prepare
    const file = join(
      tempFiles({ 'odd.json': JSON.stringify({ Policy: EXAMPLE_TEXT, PolicyName: 'custom' }) }),
      'odd.json',
    );
    // Act
    const result = await runCli(['validate', file]);
    // Assess: not a key policy (no Statement, unknown elements)
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('KMS111');
    expect(result.stdout).not.toContain('unwrapped');
  });
});

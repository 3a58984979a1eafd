/**
 * Options that take several values are repeatable or comma-separated and never consume the
 * positional arguments after them (issue 11.6).
 */
import type { Command } from 'commander';
import { buildProgram } from '../../../src/cli/main';
import { collectValues } from '../../../src/cli/option-values';
import { capturingIo } from '../../../src/cli/output';
import { fixture, runCli } from './helpers';

const EXAMPLE = fixture('example-key-policy.json');
const LOCKOUT = fixture('lockout-risk.json');
const ROLE = 'arn:aws:iam::111122223333:role/ExampleRole';
const USER = 'arn:aws:iam::111122223333:user/ExampleUser';

function commands(): Command[] {
  const { io } = capturingIo({ env: {}, stdoutIsTTY: false });
  return [...buildProgram({ io, rawStderr: () => undefined, setExitCode: () => undefined }).commands];
}

describe('options with several values', () => {
  it('no option of any command is variadic, so none can swallow a file name', () => {
    // Act
    const variadic = commands().flatMap((command) =>
      command.options
        .filter((option) => option.variadic)
        .map((option) => `${command.name()} ${option.flags}`),
    );
    // Assess
    expect(variadic).toEqual([]);
  });

  it.each([
    [['a'], ['a']],
    [['a,b'], ['a', 'b']],
    [
      ['a', 'b'],
      ['a', 'b'],
    ],
    [
      ['a, b', 'c'],
      ['a', 'b', 'c'],
    ],
    [['a,,', ' '], ['a']],
  ])('collects %j into %j (repeated, comma-separated, blanks dropped)', (occurrences, expected) => {
    // Act
    const collected = occurrences.reduce<string[] | undefined>(
      (previous, value) => collectValues(value, previous),
      undefined,
    );
    // Assess
    expect(collected).toEqual(expected);
  });

  it('validate --admin ARN file.json validates the file (the ARN does not swallow it)', async () => {
    // Act
    const result = await runCli(['validate', '--admin', ROLE, LOCKOUT]);
    // Assess: ExampleRole holds no kms:PutKeyPolicy, so the file is checked and still refused
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`✖ ${LOCKOUT}`);
    expect(result.stdout).toContain('1 file checked');
  });

  it.each([
    ['repeated', ['--admin', ROLE, '--admin', USER]],
    ['comma-separated', ['--admin', `${ROLE},${USER}`]],
  ])('validate takes --admin %s before several files', async (_how, admins) => {
    // Act
    const result = await runCli(['validate', ...admins, EXAMPLE, EXAMPLE]);
    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('2 files checked, 2 valid');
  });

  it.each([
    ['repeated', ['--allowed-accounts', '111122223333', '--allowed-accounts', '444455556666']],
    ['comma-separated', ['--allowed-accounts', '111122223333,444455556666']],
  ])('validate takes --allowed-accounts %s', async (_how, accounts) => {
    // Act
    const result = await runCli(['validate', ...accounts, EXAMPLE]);
    // Assess: 444455556666 is allowed, so no KMS302
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('KMS302');
  });

  it('still rejects an --allowed-accounts entry that is not 12 digits', async () => {
    // Act
    const result = await runCli([
      'validate',
      '--allowed-accounts',
      '111122223333',
      '--allowed-accounts',
      'x',
      EXAMPLE,
    ]);
    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--allowed-accounts: "x" is not a 12-digit account ID');
  });
});

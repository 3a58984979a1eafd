import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import packageJson from '../../../package.json';
import { runCli } from './helpers';

describe('kms-guard program', () => {
  it('prints help naming every command and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: kms-guard');
    expect(result.stdout).toMatch(/validate \[options\] <file\.\.\.>/);
    expect(result.stdout).toMatch(/diff \[options\] <desired> <live>/);
  });

  it('prints the package version', async () => {
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(packageJson.version);
  });

  it.each([[[]], [['frobnicate']]])('exits 2 for %j (no or unknown command)', async (argv) => {
    const result = await runCli(argv);
    expect(result.code).toBe(2);
  });

  it('runs as a real process through bin/kms-guard.cjs (what npx kms-guard runs)', () => {
    // Act
    const child = spawnSync(process.execPath, [join(__dirname, '../../../bin/kms-guard.cjs'), '--help'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    // Assess
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    expect(child.stdout).toContain('Usage: kms-guard');
  }, 30_000);
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../../src/cli/main';
import { capturingIo } from '../../../src/cli/output';

export const FIXTURES = join(__dirname, '../../fixtures/cli');
export const fixture = (name: string): string => join(FIXTURES, name);

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kms-guard in-process with captured output; by default not a terminal and no colour variables. */
export async function runCli(
  argv: string[],
  settings: { env?: Record<string, string>; tty?: boolean } = {},
): Promise<CliRun> {
  const { io, captured } = capturingIo({ env: settings.env ?? {}, stdoutIsTTY: settings.tty ?? false });
  const code = await run(argv, io);
  return { code, ...captured };
}

/** A fresh directory with the given files (name -> content). */
export function tempFiles(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kms-guard-cli-'));
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}

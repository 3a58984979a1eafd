import type { CliIo } from './output';

/**
 * What every command's `register…Command(program, context)` receives: where to write, and how to
 * report its exit code (commands never call process.exit, so tests can run them in-process).
 */
export interface CommandContext {
  io: CliIo;
  setExitCode(code: number): void;
}

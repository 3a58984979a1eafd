import type { CliIo } from './output';

/**
 * What every command's `register…Command(program, context)` receives: where to write, and how to
 * report its exit code (commands never call process.exit, so tests can run them in-process).
 */
export interface CommandContext {
  io: CliIo;
  /** stderr without terminalSafe, for the progress bar's own `\r` + erase-line (it prints no policy text). */
  rawStderr(text: string): void;
  setExitCode(code: number): void;
}

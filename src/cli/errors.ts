/** Exit codes of every kms-guard command. */
export const EXIT_OK = 0;
/** validate: a document has an error; diff: drift. */
export const EXIT_FINDINGS = 1;
/** Usage error, unreadable file, or a file that is not what the command needs. */
export const EXIT_USAGE = 2;

/**
 * A failure the user should read, not a stack trace: main.ts prints `kms-guard: <message>` on
 * stderr and exits with `exitCode`.
 */
export class CliExitError extends Error {
  override readonly name = 'CliExitError';

  constructor(
    message: string,
    readonly exitCode: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

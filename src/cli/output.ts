/**
 * Where the CLI writes, and how it colours: ANSI only for a terminal, never when NO_COLOR is set,
 * always when FORCE_COLOR is (as Node itself decides). No dependency: six SGR codes are enough.
 */

/** The CLI's view of the outside world, injectable so tests run the CLI in-process. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /** Whether stdout is a terminal (colour is only for people). */
  stdoutIsTTY: boolean;
  /** Whether stderr is a terminal (progress bars are only for people); absent: not a terminal. */
  stderrIsTTY?: boolean;
}

/** What a capturing CliIo has collected: everything printed so far. */
export interface CapturedOutput {
  stdout: string;
  stderr: string;
}

/**
 * A CliIo that keeps what kms-guard prints, for running it in-process (benchmarks, tests).
 * `terminal` is what the CLI is told about its environment; read `captured` after the run.
 */
export function capturingIo(terminal: Omit<CliIo, 'stdout' | 'stderr'>): {
  io: CliIo;
  captured: CapturedOutput;
} {
  const captured: CapturedOutput = { stdout: '', stderr: '' };
  const io: CliIo = {
    stdout: (text) => {
      captured.stdout += text;
    },
    stderr: (text) => {
      captured.stderr += text;
    },
    ...terminal,
  };
  return { io, captured };
}

export function processIo(): CliIo {
  return {
    stdout: (text) => {
      process.stdout.write(text);
    },
    stderr: (text) => {
      process.stderr.write(text);
    },
    env: process.env,
    stdoutIsTTY: process.stdout.isTTY === true,
    stderrIsTTY: process.stderr.isTTY === true,
  };
}

/**
 * FORCE_COLOR (any value but `0`/`false`) forces colour, as in Node; NO_COLOR (non-empty, per
 * no-color.org) disables it; otherwise colour only when stdout is a terminal.
 */
export function colourEnabled(io: CliIo): boolean {
  const force = io.env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force.toLowerCase() !== 'false';
  const noColour = io.env.NO_COLOR;
  if (noColour !== undefined && noColour !== '') return false;
  return io.stdoutIsTTY;
}

export interface Style {
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
  bold(text: string): string;
  dim(text: string): string;
}

function sgr(open: number, close: number): (text: string) => string {
  return (text) => `\u001b[${open}m${text}\u001b[${close}m`;
}

const plain = (text: string): string => text;

export function createStyle(enabled: boolean): Style {
  if (!enabled) return { red: plain, green: plain, yellow: plain, cyan: plain, bold: plain, dim: plain };
  return {
    red: sgr(31, 39),
    green: sgr(32, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
    bold: sgr(1, 22),
    dim: sgr(2, 22),
  };
}

const SEVERITY_TAG = /\[(CRITICAL|HIGH|MEDIUM|LOW|INFO)\]/;

/** Colours a line of renderDiffText by meaning: severity tags, gained (wider) and lost access. */
export function colourDiffLine(line: string, style: Style): string {
  const tag = SEVERITY_TAG.exec(line)?.[1];
  if (tag === 'CRITICAL' || tag === 'HIGH') return line.replace(SEVERITY_TAG, style.red(`[${tag}]`));
  if (tag === 'MEDIUM') return line.replace(SEVERITY_TAG, style.yellow(`[${tag}]`));
  if (tag) return line.replace(SEVERITY_TAG, style.dim(`[${tag}]`));
  if (/^\s+gained:/.test(line)) return style.red(line);
  if (/^\s+lost:/.test(line)) return style.yellow(line);
  if (/^\S.*:$/.test(line)) return style.bold(line);
  return line;
}

/**
 * What the CLI prints comes partly from policies and CloudTrail, which anyone who can call PutKeyPolicy
 * controls. A raw control character there could move the cursor, clear the screen or retitle the
 * terminal, so every control character except tab, newline and CRLF is written as a
 * `\u001b`-style escape. The one exception is the colour (SGR) sequences the CLI itself adds. Inside
 * `--json` strings the escape means the same character, so the JSON stays valid and equivalent.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE_CONTROL = /\u001b\[[0-9;]*m|\r(?!\n)|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g;

export function terminalSafe(text: string): string {
  return text.replace(UNSAFE_CONTROL, (match) =>
    match.length > 1 ? match : `\\u${match.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The same io, with everything written through terminalSafe. */
export function terminalSafeIo(io: CliIo): CliIo {
  return {
    ...io,
    stdout: (text) => io.stdout(terminalSafe(text)),
    stderr: (text) => io.stderr(terminalSafe(text)),
  };
}

/** Pretty, stable JSON on stdout, one document per run. */
export function writeJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

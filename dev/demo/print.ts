/**
 * How the demo talks: numbered steps, short result lines, plain-text tables, and the e-mails as they
 * were sent. Colour only through Style (src/cli/output.ts: a terminal, no NO_COLOR).
 */
import type { Style } from '../../src/cli/output';
import type { Severity } from '../../src/policy/types';

/** `\u001b[..m` sequences take no room on screen. */
const ANSI_PATTERN = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

export function visibleLength(text: string): string['length'] {
  return text.replace(ANSI_PATTERN, '').length;
}

function padEnd(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleLength(text)));
}

/** A table with a header row and a rule; cells may be coloured. */
export function renderTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
  style: Style,
): string {
  const widths = header.map((title, column) =>
    Math.max(visibleLength(title), ...rows.map((row) => visibleLength(row[column] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : padEnd(cell, widths[column] ?? 0)))
      .join('  ')
      .trimEnd();
  return [
    line(header.map((title) => style.bold(title))),
    line(widths.map((width) => '-'.repeat(width))),
    ...rows.map((row) => line(row)),
  ]
    .map((text) => `  ${text}`)
    .join('\n');
}

export function severityText(severity: Severity | string, style: Style): string {
  const upper = severity.toUpperCase();
  if (severity === 'critical' || severity === 'high') return style.red(upper);
  if (severity === 'medium') return style.yellow(upper);
  return style.dim(upper);
}

export interface Narrator {
  step(title: string): void;
  ok(text: string): void;
  bad(text: string): void;
  info(text: string): void;
  note(text: string): void;
  block(text: string): void;
  blank(): void;
}

export function createNarrator(write: (text: string) => void, style: Style): Narrator {
  let stepNumber = 0;
  return {
    step(title) {
      stepNumber += 1;
      write(`\n${style.bold(`${stepNumber}. ${title}`)}\n`);
    },
    ok: (text) => write(`  ${style.green('✓')} ${text}\n`),
    bad: (text) => write(`  ${style.red('✗')} ${text}\n`),
    info: (text) => write(`  ${style.cyan('→')} ${text}\n`),
    note: (text) => write(`    ${style.dim(text)}\n`),
    block: (text) => write(`${text}\n`),
    blank: () => write('\n'),
  };
}

export function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** An e-mail as a subscriber would see it: subject line, then the body, boxed by rules. */
export function renderEmail(
  index: number,
  total: number,
  subject: string,
  body: string,
  style: Style,
): string {
  const rule = '='.repeat(78);
  return [
    style.dim(rule),
    `${style.bold(`E-mail ${index}/${total}`)}   Subject: ${style.bold(subject)}`,
    style.dim(rule),
    body.trimEnd(),
  ].join('\n');
}

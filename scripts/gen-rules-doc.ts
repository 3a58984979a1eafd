/**
 * Generates the rule table of docs/rules.md from RULES (src/policy/catalogue.ts): the lines between the
 * two markers below are replaced; the prose around them is written by hand. The table is padded the way
 * Biome formats Markdown tables, so `npm run lint` accepts the generated file as it is.
 *
 *   npm run gen:docs              rewrite the table in docs/rules.md
 *   npm run gen:docs -- --check   exit 1 when docs/rules.md does not match RULES
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RULES } from '../src/policy/catalogue';
import type { RuleInfo } from '../src/policy/types';

export const RULES_DOC_PATH = join(__dirname, '..', 'docs', 'rules.md');

export const TABLE_START =
  '<!-- rule table: generated from RULES in src/policy/catalogue.ts by `npm run gen:docs`; do not edit by hand -->';
export const TABLE_END = '<!-- end of the generated rule table -->';

/** A table cell: a `|` inside would end the cell, so it is escaped. */
function cell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** Display width of a cell, as Biome counts it for padding (one column per code point). */
function width(text: string): number {
  return [...text].length;
}

/** A Markdown table padded like Biome's formatter: every column as wide as its widest cell, at least 3. */
function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) =>
    Math.max(3, width(title), ...rows.map((row) => width(row[column] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    `| ${cells.map((text, column) => text + ' '.repeat((widths[column] ?? 0) - width(text))).join(' | ')} |`;
  return [line(header), line(widths.map((columnWidth) => '-'.repeat(columnWidth))), ...rows.map(line)].join(
    '\n',
  );
}

/** The generated table: one row per rule, in catalogue order. */
export function renderRuleTable(rules: readonly RuleInfo[]): string {
  return table(
    ['Code', 'Level', 'Rule', 'What it means'],
    rules.map((rule) => [rule.code, rule.level, cell(rule.title), cell(rule.description)]),
  );
}

/** `document` with the text between the markers replaced by the table of `rules`. */
export function renderRulesDoc(document: string, rules: readonly RuleInfo[]): string {
  const start = document.indexOf(TABLE_START);
  const end = document.indexOf(TABLE_END);
  if (start < 0 || end < start) {
    throw new Error(`docs/rules.md must contain the markers ${TABLE_START} and ${TABLE_END}, in that order`);
  }
  const before = document.slice(0, start + TABLE_START.length);
  const after = document.slice(end);
  return `${before}\n\n${renderRuleTable(rules)}\n\n${after}`;
}

function main(): void {
  const current = readFileSync(RULES_DOC_PATH, 'utf8');
  const next = renderRulesDoc(current, RULES);
  if (process.argv.includes('--check')) {
    if (current !== next) {
      console.error(
        `${RULES_DOC_PATH} does not match RULES in src/policy/catalogue.ts: run npm run gen:docs`,
      );
      process.exit(1);
    }
    console.log('docs/rules.md is current');
    return;
  }
  if (current === next) {
    console.log('docs/rules.md is already current');
    return;
  }
  writeFileSync(RULES_DOC_PATH, next);
  console.log(`wrote ${RULES_DOC_PATH} (${RULES.length} rules)`);
}

if (require.main === module) main();

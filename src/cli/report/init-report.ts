/**
 * What `kms-guard init` prints: a table of the adopted keys, the keys it did not adopt and why, the
 * documents that would be refused and why, notes, and the totals; or the same as one JSON document.
 */

import { sep } from 'node:path';
import type { GuardMode } from '../../core/key';
import type { AdoptedKey, AdoptionPlan, NotAdoptedKey, NotAdoptedReason } from '../../guard/adopt';
import { refusalMessage } from '../../manifest';
import type { ValidationFinding } from '../../policy/types';
import type { Style } from '../output';

/** The outcome of one run, after the files were written (or not) and the written manifest was loaded. */
export interface InitRun {
  plan: AdoptionPlan;
  mode: GuardMode;
  /** `--out` as given. */
  out: string;
  /** The manifest's path, when it was written. */
  manifestPath?: string;
  /** Every file written, documents first, the manifest last. */
  written: string[];
  /** loadManifest on what was written: the problems it listed (empty when it loaded). */
  loadProblems: string[];
  /** Set when loadManifest accepted the written manifest: its warnings. */
  loadedWarnings?: number;
}

const REASON_WORDS: Record<NotAdoptedReason, string> = {
  'pending-deletion': 'pending deletion',
  'access-denied': 'access denied',
  unavailable: 'KMS refused',
  'not-found': 'deleted',
  'placeholder-text': 'has {{…}} text',
};

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function firstAndCount(items: readonly string[]): string {
  const [first = '-', ...rest] = items;
  return rest.length > 0 ? `${first} +${rest.length}` : first;
}

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ');
  return [line(header), ...rows.map(line)];
}

function validationWords(key: AdoptedKey): string {
  if (key.refusals.length > 0) {
    return `REFUSED ${[...new Set(key.refusals.map((finding) => finding.code))].join(', ')}`;
  }
  if (!key.equivalent) return 'NOT IN SYNC';
  return key.warnings.length > 0 ? plural(key.warnings.length, 'warning') : 'ok';
}

/** Keys that make init exit 1: refused documents, documents that will not be in sync, keys not adopted for a reason that needs a person. */
export function failingKeys(plan: AdoptionPlan, benign: ReadonlySet<NotAdoptedReason>) {
  return {
    refused: plan.adopted.filter((key) => key.refusals.length > 0),
    notInSync: plan.adopted.filter((key) => !key.equivalent),
    notAdopted: plan.notAdopted.filter((key) => !benign.has(key.reason)),
  };
}

function findingLine(key: AdoptedKey, finding: ValidationFinding): string {
  return `  ${key.name} (${key.policyFile}): ${finding.code} ${finding.path}: ${refusalMessage(finding)}`;
}

/** Whether a problem of the written manifest's load is one of the refusals already listed (same file, same rule). */
function explainedByRefusals(problem: string, refused: readonly AdoptedKey[]): boolean {
  return refused.some((key) =>
    key.refusals.some((finding) => problem.includes(`${sep}${key.policyFile}: ${finding.code} `)),
  );
}

function notAdoptedRows(keys: readonly NotAdoptedKey[]): string[][] {
  return keys.map((key) => [REASON_WORDS[key.reason], key.keyId, firstAndCount(key.aliases), key.detail]);
}

export function renderInitText(run: InitRun, style: Style): string {
  const { plan } = run;
  const where = plan.location
    ? `account ${plan.location.accountId} in ${plan.location.region} (${plan.location.partition})`
    : 'the account';
  const lines: string[] = [];
  if (plan.adopted.length > 0) {
    lines.push(`Customer managed keys of ${where}, adopted in ${run.mode} mode:`, '');
    const rows = plan.adopted.map((key) => [
      key.name,
      key.keyId,
      firstAndCount(key.aliases),
      String(key.placeholders),
      validationWords(key),
    ]);
    const [header = '', ...body] = table(['NAME', 'KEY', 'ALIASES', 'PLACEHOLDERS', 'VALIDATION'], rows);
    lines.push(style.bold(header));
    body.forEach((line, index) => {
      const key = plan.adopted[index];
      const bad = key !== undefined && (key.refusals.length > 0 || !key.equivalent);
      lines.push(bad ? style.red(line) : line);
    });
  } else {
    lines.push(`No customer managed key of ${where} to adopt.`);
  }
  if (plan.notAdopted.length > 0) {
    lines.push('', style.bold('Not adopted:'));
    lines.push(
      ...table(['WHY', 'KEY', 'ALIASES', 'DETAIL'], notAdoptedRows(plan.notAdopted)).map((l) => `  ${l}`),
    );
  }
  const refused = plan.adopted.filter((key) => key.refusals.length > 0);
  if (refused.length > 0) {
    lines.push(
      '',
      style.bold('Would be refused (written anyway; the manifest does not load until they are fixed):'),
    );
    for (const key of refused)
      lines.push(...key.refusals.map((finding) => style.red(findingLine(key, finding))));
  }
  const noted = plan.adopted.filter((key) => key.notes.length > 0);
  if (noted.length > 0) {
    lines.push('', style.bold('Notes:'));
    for (const key of noted) lines.push(...key.notes.map((note) => `  ${key.name}: ${note}`));
  }
  lines.push('');
  if (run.manifestPath !== undefined) {
    const documents = run.written.length - 1;
    lines.push(`Wrote ${plural(documents, 'policy document')} and ${run.manifestPath}.`);
    if (run.loadProblems.length === 0) {
      const warnings = run.loadedWarnings ?? 0;
      lines.push(
        `${style.green('✔')} ${run.manifestPath} loads: ${plural(plan.adopted.length, 'key')}, ${plural(warnings, 'warning')} (kms-guard validate ${run.manifestPath} lists them).`,
      );
    } else {
      // The refusals listed above are the usual reason; anything else the loader found is shown here.
      const others = run.loadProblems.filter((problem) => !explainedByRefusals(problem, refused));
      const because = others.length === run.loadProblems.length ? '' : ' until the documents above are fixed';
      lines.push(
        `${style.red('✖')} ${run.manifestPath} does not load${because} (kms-guard validate ${run.manifestPath} lists ${plural(run.loadProblems.length, 'problem')})${others.length > 0 ? ':' : '.'}`,
      );
      lines.push(...others.map((problem) => `  - ${problem}`));
    }
  } else {
    lines.push('Nothing written.');
  }
  const pending = plan.notAdopted.filter((key) => key.reason === 'pending-deletion').length;
  lines.push(
    [
      `${plan.listed} listed`,
      `${plan.adopted.length} adopted`,
      `${plan.awsManagedSkipped} AWS managed skipped`,
      `${plan.notAdopted.length} not adopted${pending > 0 ? ` (${pending} pending deletion)` : ''}`,
      `${refused.length} would be refused`,
    ].join(', '),
  );
  return `${lines.join('\n')}\n`;
}

/** The `--json` document. Absent values are `null`; fields are only ever added. */
export function toInitJson(run: InitRun) {
  const { plan } = run;
  const warnings = plan.adopted.reduce((sum, key) => sum + key.warnings.length, 0);
  return {
    out: run.out,
    mode: run.mode,
    location: plan.location ?? null,
    manifest: run.manifestPath ?? null,
    written: run.written,
    manifestLoads: run.manifestPath === undefined ? null : run.loadProblems.length === 0,
    problems: run.loadProblems,
    summary: {
      listed: plan.listed,
      adopted: plan.adopted.length,
      awsManagedSkipped: plan.awsManagedSkipped,
      notAdopted: plan.notAdopted.length,
      refused: plan.adopted.filter((key) => key.refusals.length > 0).length,
      warnings,
    },
    keys: plan.adopted.map((key) => ({
      name: key.name,
      keyId: key.keyId,
      keyArn: key.keyArn,
      aliases: key.aliases,
      policyFile: key.policyFile,
      form: key.form,
      placeholders: key.placeholders,
      equivalent: key.equivalent,
      notes: key.notes,
      // As `kms-guard validate --json` shows them: refused means error, with the reason in the message.
      refusals: key.refusals.map((finding) => ({
        ...finding,
        level: 'error' as const,
        message: refusalMessage(finding),
      })),
      warnings: key.warnings,
    })),
    notAdopted: plan.notAdopted.map((key) => ({ ...key, keyArn: key.keyArn ?? null })),
  };
}

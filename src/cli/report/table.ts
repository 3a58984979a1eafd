/**
 * The audit as a table for people: one row per key (key, alias, mode, result, severity, what changed in
 * a few words), then the totals, the guard's health and the keys that were not checked. Names, aliases,
 * changes and reasons come from KMS, policies and CloudTrail: each is one line (`oneLine`), so a value
 * cannot start a row of its own or reorder the text around it.
 */

import type { Finding, FindingKind } from '../../core/finding';
import { parseKeyArn } from '../../core/key-arn';
import { oneLine } from '../../core/plain-text';
import type { AuditReport } from '../../guard/audit-keys';
import { displayAction, displayPrincipal } from '../../policy/diff';
import type { Severity } from '../../policy/types';
import type { Style } from '../output';

const CHANGE_MAX_CHARS = 60;

/** What a finding kind means when the diff has nothing more telling to say. */
const KIND_WORDS: Record<FindingKind, string> = {
  drift: 'policy changed',
  remediated: 'restored the desired policy',
  'would-remediate': 'would restore the desired policy',
  'invalid-desired': 'desired policy is invalid',
  'invalid-live': 'live policy is not a valid key policy',
  'orphaned-principal': 'names a deleted IAM principal',
  'unmanaged-key': 'no manifest entry matches',
  'guard-locked-out': 'guard is locked out of the key',
  'key-unavailable': 'key not found, disabled or pending deletion',
  'key-not-writable': 'AWS managed or replica: not written',
  flapping: 'keeps changing back: remediation paused',
  'remediation-failed': 'restore not confirmed',
  'lockout-risk': 'restore refused: lockout risk',
  'guard-disabled': 'drift rule missing or disabled',
  'guard-degraded': 'guard partly blind or mute',
  'audit-summary': 'summary',
  'audit-incomplete': 'audit incomplete',
  'binding-changed': 'aliases/tags changed: binding enforced',
  'grant-not-allowed': 'grant not allowed',
  'key-state-changed': 'deletion, disabled or rotation changed',
  'replica-unguarded': 'replicated where no guard runs',
  'guard-impersonated': "written with the guard's identity, not by the guard",
  'account-not-guarded': 'account or Region outside the guard',
  'spoke-unreachable': 'spoke role cannot be assumed',
};

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function firstAndCount(items: readonly string[]): string {
  const [first = '', ...rest] = items;
  return rest.length > 0 ? `${first} +${rest.length}` : first;
}

/** "arn:aws:iam::999988887777:root gained kms:Decrypt +1" — the first access change, else the first statement change. */
export function changeInWords(finding: Finding | undefined): string {
  if (!finding) return '';
  const words = KIND_WORDS[finding.kind];
  const access = finding.diff?.access ?? [];
  const first = access[0];
  const refusal =
    finding.kind !== 'drift' && finding.kind !== 'would-remediate' && finding.kind !== 'remediated';
  if (first && !refusal) {
    const gainedOrLost =
      first.gained.length > 0
        ? `gained ${firstAndCount(first.gained.map(displayAction))}`
        : `lost ${firstAndCount(first.lost.map(displayAction))}`;
    const more = access.length > 1 ? ` (+${access.length - 1} principals)` : '';
    return cut(`${displayPrincipal(first.principal)} ${gainedOrLost}${more}`, CHANGE_MAX_CHARS);
  }
  const statement = finding.diff?.statements[0];
  if (statement && !refusal) return cut(statement.summary, CHANGE_MAX_CHARS);
  return words;
}

function severityStyle(severity: Severity | undefined, style: Style): (text: string) => string {
  if (severity === 'critical' || severity === 'high') return style.red;
  if (severity === 'medium') return style.yellow;
  return style.dim;
}

interface Row {
  cells: string[];
  colour: ((text: string) => string)[];
}

/** Cells hold values from KMS, policies and CloudTrail: each is one line (`oneLine`) before it is padded. */
function renderRows(header: string[], untrustedRows: Row[], style: Style): string[] {
  const rows = untrustedRows.map((row) => ({ ...row, cells: row.cells.map(oneLine) }));
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row.cells[column] ?? '').length)),
  );
  const line = (cells: string[], colour: ((text: string) => string)[]) =>
    cells
      .map((cell, column) => {
        const padded = column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0);
        return (colour[column] ?? ((text: string) => text))(padded);
      })
      .join('  ')
      .trimEnd();
  return [
    line(
      header,
      header.map(() => style.bold),
    ),
    ...rows.map((row) => line(row.cells, row.colour)),
  ];
}

const RESULT_TEXT: Record<string, string> = {
  'in-sync': 'in sync',
  drift: 'DRIFT',
  remediated: 'restored',
  failed: 'FAILED',
  unmanaged: 'unmanaged',
  'not-checked': 'NOT CHECKED',
};

/** `111122223333/eu-west-1`, from a key ARN. */
function locationOf(keyArn: string | undefined): string {
  const location = keyArn === undefined ? undefined : parseKeyArn(keyArn);
  return location ? `${location.accountId}/${location.region}` : '-';
}

export function renderAuditTable(report: AuditReport, style: Style): string {
  const plain = (text: string) => text;
  // An audit of several accounts or Regions (--accounts, --regions) names each key's.
  const locations = new Set([
    ...report.keys.map((key) => locationOf(key.keyArn)),
    ...report.notChecked.map((key) => locationOf(key.keyRef)),
  ]);
  const wide = [...locations].filter((location) => location !== '-').length > 1;
  const rows: Row[] = report.keys.map((key) => {
    const severity = key.finding?.severity;
    const resultColour =
      key.result === 'in-sync' || key.result === 'remediated'
        ? style.green
        : key.result === 'unmanaged'
          ? style.yellow
          : style.red;
    return {
      cells: [
        key.name ?? '-',
        key.keyId,
        firstAndCount(key.aliases) || '-',
        key.mode ?? '-',
        RESULT_TEXT[key.result] ?? key.result,
        severity ?? '-',
        changeInWords(key.finding) || '-',
      ],
      colour: [style.bold, plain, plain, plain, resultColour, severityStyle(severity, style), plain],
    };
  });
  for (const missed of report.notChecked) {
    rows.push({
      cells: [
        missed.name ?? '-',
        missed.keyId ?? '-',
        '-',
        '-',
        RESULT_TEXT['not-checked'] ?? '',
        '-',
        cut(missed.reason, CHANGE_MAX_CHARS),
      ],
      colour: [style.bold, plain, plain, plain, style.red, plain, style.dim],
    });
  }
  if (wide) {
    const where = [...report.keys.map((key) => key.keyArn), ...report.notChecked.map((key) => key.keyRef)];
    rows.forEach((row, index) => {
      row.cells.unshift(locationOf(where[index]));
      row.colour.unshift(plain);
    });
  }
  const lines: string[] = [];
  if (rows.length > 0) {
    const header = ['NAME', 'KEY', 'ALIAS', 'MODE', 'RESULT', 'SEVERITY', 'CHANGE'];
    lines.push(...renderRows(wide ? ['ACCOUNT/REGION', ...header] : header, rows, style), '');
  }
  const { summary } = report;
  const totals = [
    `${summary.checked} checked`,
    summary.inSync > 0 ? style.green(`${summary.inSync} in sync`) : `${summary.inSync} in sync`,
    summary.drift > 0 ? style.red(`${summary.drift} drift`) : `${summary.drift} drift`,
    summary.failed > 0 ? style.red(`${summary.failed} failed`) : `${summary.failed} failed`,
    summary.unmanaged > 0 ? style.yellow(`${summary.unmanaged} unmanaged`) : `${summary.unmanaged} unmanaged`,
    summary.notChecked > 0
      ? style.red(`${summary.notChecked} not checked`)
      : `${summary.notChecked} not checked`,
  ];
  lines.push(
    `${style.bold('Audit')} ${oneLine(report.runId)}: ${totals.join(', ')} (${report.durationMs} ms)`,
  );
  if (report.awsManagedSkipped > 0) lines.push(`AWS managed keys skipped: ${report.awsManagedSkipped}`);
  if (report.health) {
    const delivering = report.findings.every((finding) => finding.kind !== 'guard-disabled');
    const text = `Drift rule ${oneLine(report.health.ruleName)}: ${oneLine(report.health.state)}`;
    lines.push(delivering ? text : style.red(`${text} — the real-time guard is blind`));
  } else if (report.healthError !== undefined) {
    lines.push(style.red(`Drift rule: not checked (${oneLine(report.healthError)})`));
  }
  for (const gap of report.guardChecks?.filter((check) => !check.ok) ?? []) {
    lines.push(style.red(`Guard degraded: ${oneLine(gap.check)}: ${oneLine(gap.problem ?? 'failed')}`));
  }
  for (const note of report.notes) lines.push(style.yellow(`Note: ${oneLine(note)}`));
  for (const problem of report.problems) lines.push(style.red(`Problem: ${oneLine(problem)}`));
  return `${lines.join('\n')}\n`;
}

/**
 * What the HTML report shows, in its own shapes, and the one function that reads an AuditReport into
 * them (htmlReportOf). The renderer depends on the guard's types only through this file, so when the
 * audit's report changes shape (or an organization-wide audit merges many accounts and Regions) only
 * the adapter follows. Every row carries its own account and Region.
 */

import type { Finding } from '../../../core/finding';
import type { AuditedKey, AuditReport, NotCheckedKey } from '../../../guard/audit-keys';
import { displayAction, displayPrincipal } from '../../../policy/diff';
import type { AccessChange, Severity } from '../../../policy/types';
import { changeInWords } from '../table';

/** A key's status in the report; `remediated` only comes from the scheduled audit (the CLI is read-only). */
export type KeyStatus = 'drift' | 'failed' | 'not-checked' | 'remediated' | 'unmanaged' | 'in-sync';

/** Worst first: the order of the summary, the chart and the table's first sort. */
export const STATUS_ORDER: readonly KeyStatus[] = [
  'drift',
  'failed',
  'not-checked',
  'remediated',
  'unmanaged',
  'in-sync',
];

export const STATUS_LABEL: Record<KeyStatus, string> = {
  drift: 'Drift',
  failed: 'Failed',
  'not-checked': 'Not checked',
  remediated: 'Restored',
  unmanaged: 'Unmanaged',
  'in-sync': 'In sync',
};

/** Who gained or lost what, as people write principals and actions: the diff's own access change. */
export type AccessRow = AccessChange;

export interface KeyDetail {
  title: string;
  details: string[];
  access: AccessRow[];
  statements: { severity: Severity; summary: string }[];
  /** The CloudTrail actor as label/value pairs (event findings; audits have none). */
  actor: [string, string][];
  validation: { document: 'desired' | 'live'; code: string; path: string; message: string }[];
  policyFile?: string;
  desiredPolicy?: string;
  livePolicy?: string;
}

export interface KeyRow {
  account: string;
  region: string;
  keyId: string;
  keyArn: string;
  aliases: string[];
  /** The manifest entry that manages the key; absent for unmanaged keys and unknown for some not checked. */
  entry?: string;
  mode?: string;
  status: KeyStatus;
  severity?: Severity;
  /** What changed in a few words, or why the key was not checked. */
  change: string;
  /** For drifted and failed keys: what the finding says, the access view and both documents. */
  detail?: KeyDetail;
}

export interface ReportModel {
  runId: string;
  startedAt: string;
  durationMs: number;
  complete: boolean;
  /** Where the audit ran, when it knows (`aws us-east-1 123456789012`). */
  scope?: string;
  rows: KeyRow[];
  awsManagedSkipped: number;
  /** The drift rule's state in one line; `ok` false when the real-time guard is blind. */
  health?: { text: string; ok: boolean };
  notes: string[];
  problems: string[];
}

const UNKNOWN = 'unknown';

/** Account and Region from a KMS key ARN (`arn:aws:kms:eu-west-1:111122223333:key/…`), when it is one. */
function arnLocation(arn: string): { account: string; region: string } | undefined {
  const [prefix, , service, region, account] = arn.split(':');
  if (prefix !== 'arn' || service !== 'kms' || !region || !account) return undefined;
  return { account, region };
}

function locate(
  arn: string,
  finding: Finding | undefined,
  report: AuditReport,
): { account: string; region: string } {
  const fromArn = arnLocation(arn);
  const account = [finding?.account, fromArn?.account, report.location?.accountId].find(
    (value) => value !== undefined && value !== '' && value !== UNKNOWN,
  );
  const region = [finding?.region, fromArn?.region, report.location?.region].find(
    (value) => value !== undefined && value !== '' && value !== UNKNOWN,
  );
  return { account: account ?? UNKNOWN, region: region ?? UNKNOWN };
}

function detailOf(finding: Finding): KeyDetail {
  const detail: KeyDetail = {
    title: finding.title,
    details: finding.details,
    access: (finding.diff?.access ?? []).map((change) => ({
      principal: displayPrincipal(change.principal),
      gained: change.gained.map(displayAction),
      lost: change.lost.map(displayAction),
      conditions: change.conditions,
      anyone: change.anyone,
      crossAccount: change.crossAccount,
      severity: change.severity,
    })),
    statements: (finding.diff?.statements ?? []).map(({ severity, summary }) => ({ severity, summary })),
    actor: Object.entries(finding.actor ?? {}).map(([label, value]) => [label, String(value)]),
    validation: (['desired', 'live'] as const).flatMap((document) =>
      (finding.validation?.[document] ?? []).map(({ code, path, message }) => ({
        document,
        code,
        path,
        message,
      })),
    ),
  };
  if (finding.policyFile !== undefined) detail.policyFile = finding.policyFile;
  if (finding.desiredPolicy !== undefined) detail.desiredPolicy = finding.desiredPolicy;
  if (finding.livePolicy !== undefined) detail.livePolicy = finding.livePolicy;
  return detail;
}

function checkedRow(key: AuditedKey, report: AuditReport): KeyRow {
  const status: KeyStatus = key.result;
  const row: KeyRow = {
    ...locate(key.keyArn, key.finding, report),
    keyId: key.keyId,
    keyArn: key.keyArn,
    aliases: key.aliases,
    status,
    change: changeInWords(key.finding),
  };
  if (key.name !== undefined) row.entry = key.name;
  if (key.mode !== undefined) row.mode = key.mode;
  if (key.finding && status !== 'in-sync') row.severity = key.finding.severity;
  if (key.finding && (status === 'drift' || status === 'remediated' || status === 'failed')) {
    row.detail = detailOf(key.finding);
  }
  return row;
}

function notCheckedRow(key: NotCheckedKey, report: AuditReport): KeyRow {
  const row: KeyRow = {
    ...locate(key.keyRef, undefined, report),
    keyId: key.keyId ?? (key.keyRef === key.name ? '' : key.keyRef),
    keyArn: key.keyRef.startsWith('arn:') ? key.keyRef : '',
    aliases: [],
    status: 'not-checked',
    change: key.reason,
  };
  if (key.name !== undefined) row.entry = key.name;
  return row;
}

/** The adapter: an AuditReport as the HTML report's model. */
export function htmlReportOf(report: AuditReport): ReportModel {
  const model: ReportModel = {
    runId: report.runId,
    startedAt: report.startedAt,
    durationMs: report.durationMs,
    complete: report.complete,
    rows: [
      ...report.keys.map((key) => checkedRow(key, report)),
      ...report.notChecked.map((key) => notCheckedRow(key, report)),
    ],
    awsManagedSkipped: report.awsManagedSkipped,
    notes: report.notes,
    problems: report.problems,
  };
  if (report.location) {
    const { partition, region, accountId } = report.location;
    model.scope = `${partition} ${accountId} ${region}`;
  }
  if (report.health) {
    const ok = report.findings.every((finding) => finding.kind !== 'guard-disabled');
    const text = `Drift rule ${report.health.ruleName}: ${report.health.state}`;
    model.health = { text: ok ? text : `${text} — the real-time guard is blind`, ok };
  } else if (report.healthError !== undefined) {
    model.health = { text: `Drift rule: not checked (${report.healthError})`, ok: false };
  }
  return model;
}

/**
 * `kms-guard audit --json`: the audit as one stable JSON document. Fields are only ever added, never
 * renamed; absent values are `null`, so every key is always present.
 *
 * {
 *   runId, startedAt, durationMs, complete,
 *   summary: { checked, inSync, drift, failed, notChecked, unmanaged },
 *   guard: { driftRule, state, delivering, error },
 *   keys: [{ keyArn, account, region, keyId, aliases, name, mode, result, severity, finding, reason }],
 *   findings: [Finding...],            // every finding of the run, key findings first, the summary last
 *   awsManagedSkipped, notes, problems
 * }
 * `keys[].result`: in-sync | drift | remediated | failed | unmanaged | not-checked; `keys[].finding` is
 * `{ id, kind, severity, title }` of the key's finding in `findings` (null when in sync); `reason` says
 * why a key was not checked.
 */

import type { Finding, FindingKind } from '../../core/finding';
import type { GuardMode } from '../../core/key';
import { parseKeyArn } from '../../core/key-arn';
import type { AuditKeyResult, AuditReport, AuditSummary } from '../../guard/audit-keys';
import type { Severity } from '../../policy/types';

export interface AuditKeyJson {
  keyArn: string | null;
  /** The key's account and Region (from its ARN; --accounts and --regions audit several). */
  account: string | null;
  region: string | null;
  keyId: string | null;
  aliases: string[];
  name: string | null;
  mode: GuardMode | null;
  result: AuditKeyResult | 'not-checked';
  severity: Severity | null;
  finding: { id: string; kind: FindingKind; severity: Severity; title: string } | null;
  reason: string | null;
}

export interface AuditJson {
  runId: string;
  startedAt: string;
  durationMs: number;
  complete: boolean;
  summary: AuditSummary;
  guard: { driftRule: string | null; state: string | null; delivering: boolean | null; error: string | null };
  keys: AuditKeyJson[];
  findings: Finding[];
  awsManagedSkipped: number;
  notes: string[];
  problems: string[];
}

export function toAuditJson(report: AuditReport): AuditJson {
  const checked: AuditKeyJson[] = report.keys.map((key) => ({
    keyArn: key.keyArn,
    account: parseKeyArn(key.keyArn)?.accountId ?? null,
    region: parseKeyArn(key.keyArn)?.region ?? null,
    keyId: key.keyId,
    aliases: key.aliases,
    name: key.name ?? null,
    mode: key.mode ?? null,
    result: key.result,
    severity: key.finding?.severity ?? null,
    finding: key.finding
      ? {
          id: key.finding.id,
          kind: key.finding.kind,
          severity: key.finding.severity,
          title: key.finding.title,
        }
      : null,
    reason: null,
  }));
  const notChecked: AuditKeyJson[] = report.notChecked.map((key) => ({
    keyArn: key.keyRef.startsWith('arn:') ? key.keyRef : null,
    account: parseKeyArn(key.keyRef)?.accountId ?? null,
    region: parseKeyArn(key.keyRef)?.region ?? null,
    keyId: key.keyId ?? null,
    aliases: [],
    name: key.name ?? null,
    mode: null,
    result: 'not-checked',
    severity: null,
    finding: null,
    reason: key.reason,
  }));
  const disabled = report.findings.some((finding) => finding.kind === 'guard-disabled');
  return {
    runId: report.runId,
    startedAt: report.startedAt,
    durationMs: report.durationMs,
    complete: report.complete,
    summary: report.summary,
    guard: {
      driftRule: report.health?.ruleName ?? null,
      state: report.health?.state ?? null,
      delivering: report.health ? !disabled : null,
      error: report.healthError ?? null,
    },
    keys: [...checked, ...notChecked],
    findings: report.findings,
    awsManagedSkipped: report.awsManagedSkipped,
    notes: report.notes,
    problems: report.problems,
  };
}

/**
 * What an audit is asked to do and what it reports. Pure shapes and counting; auditKeys fills them.
 */
import type { Finding, Trigger } from '../../core/finding';
import type { GuardMode } from '../../core/key';
import type { KeyLocation } from '../../core/key-arn';
import type { CheckOutcome } from '../check/context';
import type { HealthCheck, RuleHealth } from '../health';

/** Keys checked at the same time by default, and at most (the scheduled audit and the CLI share both). */
export const DEFAULT_AUDIT_CONCURRENCY = 8;
export const MAX_AUDIT_CONCURRENCY = 64;

export interface AuditProgressListener {
  /** The keys to check are known (after the listings). */
  planned?(total: number): void;
  /** One key finished (checked, failed or skipped as AWS managed / ignored). */
  keyDone?(done: number, total: number, key: { keyId: string; result: AuditKeyResult | 'skipped' }): void;
}

export interface AuditOptions {
  /** Part of every finding ID: the scheduled event's ID (retries make the same IDs) or a CLI run ID. */
  runId: string;
  /** `audit` for the scheduled Lambda, `cli` for kms-guard. */
  trigger?: Extract<Trigger, 'audit' | 'cli'>;
  /** Keys checked at the same time (1..MAX_AUDIT_CONCURRENCY). */
  concurrency: number;
  /**
   * Also list every customer managed key and report those no entry matches. The manifest's
   * `unmanagedKeys: ignore` wins: a team that said "ignore" does not get a finding per key daily.
   */
  reportUnmanaged: boolean;
  /**
   * Never write: keys in remediate mode are checked as dry-run (a `would-remediate` finding). The CLI
   * audits read-only; `kms-guard apply --yes` is the one CLI command that writes.
   */
  readOnly?: boolean;
  /** Partition, Region and account of the audited KMS; absent: learnt from one DescribeKey. */
  location?: KeyLocation;
  /** Region shown on account-level findings when no key reveals it (the CLI's --region). */
  region?: string;
  /** Stop starting keys after this many keys failed unexpectedly (default 10): AWS is clearly unwell. */
  maxFailedKeys?: number;
  /** Time left in the invocation (Lambda); below `reserveMs` no key is started any more. */
  timeLeftMs?: () => number;
  /** Default 20 s: enough to finish the keys in flight and publish the summary. */
  reserveMs?: number;
  progress?: AuditProgressListener;
  /**
   * One unit of an organization audit (docs/architecture.md#the-organization-audit): the run's summary is
   * published once for every unit, so this unit publishes no audit-summary or audit-incomplete of its own.
   */
  unitOfRun?: boolean;
}

export type AuditKeyResult = 'in-sync' | 'drift' | 'remediated' | 'failed' | 'unmanaged';

export interface AuditedKey {
  keyArn: string;
  keyId: string;
  aliases: string[];
  /** Manifest entry name; absent for unmanaged keys. */
  name?: string;
  /** The manifest's mode for the key (a read-only audit checks remediate-mode keys as dry-run). */
  mode?: GuardMode;
  result: AuditKeyResult;
  /** The key's main finding: its policy's, else its first. */
  finding?: Finding;
  /** Every finding the check of this key made (binding, state, policy, grants). */
  findings: Finding[];
}

export interface NotCheckedKey {
  /** Key ARN when known, else the key ID or the manifest entry name. */
  keyRef: string;
  keyId?: string;
  name?: string;
  reason: string;
}

export interface AuditSummary {
  /** Keys checkKey finished with: inSync + drift + failed + unmanaged. */
  checked: number;
  inSync: number;
  /** Live policy differed (including keys the guard restored in remediate mode). */
  drift: number;
  /** The guard could not judge or restore the key (locked out, unavailable, refused, restore failed). */
  failed: number;
  /** Keys the audit did not finish: never counted as in sync. */
  notChecked: number;
  unmanaged: number;
}

export interface AuditReport {
  runId: string;
  startedAt: string;
  durationMs: number;
  /** False when any key was not checked or an audit-level step failed; the handler then throws. */
  complete: boolean;
  summary: AuditSummary;
  keys: AuditedKey[];
  notChecked: NotCheckedKey[];
  /** Keys listed but skipped because AWS manages them (their policy only AWS can change). */
  awsManagedSkipped: number;
  /** The drift rule's state; absent when not checked or when DescribeRule failed (see healthError). */
  health?: RuleHealth;
  /** Every other health check of the guard (pattern, targets, schedule, concurrency, trail, subscribers). */
  guardChecks?: HealthCheck[];
  healthError?: string;
  /** Audit-level failures (listings, health check, publishing the account-level findings). */
  problems: string[];
  /** Manifest entries that match no key here (no key has the alias, tag, ID or ARN they name). */
  notes: string[];
  /** Every finding this audit made, key findings first, the summary last. */
  findings: Finding[];
  location?: KeyLocation;
}

/** An audit that did not check every key: thrown by the handler after publishing what it could. */
export class AuditIncompleteError extends Error {
  override readonly name = 'AuditIncompleteError';

  constructor(
    readonly report: AuditReport,
    options?: { cause?: unknown },
  ) {
    const { summary } = report;
    super(
      `audit ${report.runId} incomplete: ${summary.notChecked} key(s) not checked` +
        (report.problems.length > 0 ? `; ${report.problems.join('; ')}` : ''),
      options,
    );
  }
}

/** What checkKey's outcome means for the audit's counts; undefined for a key the audit does not list. */
export function resultOf(outcome: CheckOutcome): AuditKeyResult | undefined {
  if (outcome.result === 'in-sync' && outcome.findings.length === 0) return 'in-sync';
  const findings = outcome.findings;
  if (findings.length === 0) return undefined;
  if (findings.some((finding) => finding.kind === 'unmanaged-key')) return 'unmanaged';
  if (findings.some((finding) => finding.action === 'failed' || finding.kind === 'key-unavailable'))
    return 'failed';
  if (findings.every((finding) => finding.action === 'remediated')) return 'remediated';
  return 'drift';
}

export function summarize(keys: readonly AuditedKey[], notChecked: number): AuditSummary {
  const count = (...results: AuditKeyResult[]) => keys.filter((key) => results.includes(key.result)).length;
  return {
    checked: keys.length,
    inSync: count('in-sync'),
    drift: count('drift', 'remediated'),
    failed: count('failed'),
    notChecked,
    unmanaged: count('unmanaged'),
  };
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

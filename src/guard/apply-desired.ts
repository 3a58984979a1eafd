/**
 * applyDesired: `kms-guard apply --key …` puts a key's desired policy back, by hand. It is checkKey in
 * remediate mode (or dry-run mode, without confirmation), whatever the manifest's mode for the key, so
 * every remediation safety rule applies unchanged (docs/architecture.md#remediation-safety): only a valid desired document is
 * written, never with BypassPolicyLockoutSafetyCheck; lockout risk, flapping, AWS managed keys,
 * replicas and keys that are not Enabled are refused; the write is re-read until stable; the
 * overwritten document is kept in the finding and the ledger.
 */

import type { Finding, FindingKind } from '../core/finding';
import type { GuardMode } from '../core/key';
import { type CheckKeyDeps, checkKey } from './check-key';

export interface ApplyRequest {
  /** Key ID, key ARN or `alias/name`. */
  keyRef: string;
  /** false: dry run (describe what would happen, change nothing); true: write. */
  confirm: boolean;
  /** Part of the finding ID. */
  runId: string;
}

export type ApplyStatus =
  /** Live already equivalent to desired: nothing to do. */
  | 'in-sync'
  /** Dry run: remediation would write the desired document. */
  | 'would-apply'
  /** Dry run: remediation would refuse (see `refusal`). */
  | 'would-refuse'
  /** Written and confirmed by consecutive equivalent reads. */
  | 'applied'
  /** Not written: a safety rule refused it (lockout risk, invalid desired, flapping, key state or gone, orphaned principal). */
  | 'refused'
  /** Written but not confirmed, or the guard is locked out of the key. */
  | 'failed'
  /** No manifest entry matches the key: there is no desired policy to apply. */
  | 'unmanaged';

export interface ApplyOutcome {
  status: ApplyStatus;
  keyArn: string;
  keyId: string;
  /** The mode the check ran in (`remediate` or `dry-run`). */
  mode?: GuardMode;
  /** Why remediation refuses (`lockout-risk`, `flapping`, …), for `would-refuse` and `refused`. */
  refusal?: FindingKind;
  finding?: Finding;
}

/** checkKey's dry-run title ends with `(would refuse: <kind>)` when remediation would not write. */
const WOULD_REFUSE = /\(would refuse: ([a-z-]+)\)$/;

/** The write was attempted or the key could not be read: a failure, not a refusal by a safety rule. */
const FAILURE_KINDS: ReadonlySet<FindingKind> = new Set(['remediation-failed', 'guard-locked-out']);

function statusOf(finding: Finding, confirm: boolean): Pick<ApplyOutcome, 'status' | 'refusal'> {
  if (finding.kind === 'unmanaged-key') return { status: 'unmanaged' };
  if (FAILURE_KINDS.has(finding.kind)) return { status: 'failed' };
  if (finding.kind === 'remediated') return { status: 'applied' };
  if (!confirm && finding.kind === 'would-remediate') {
    const refusal = WOULD_REFUSE.exec(finding.title)?.[1] as FindingKind | undefined;
    return refusal ? { status: 'would-refuse', refusal } : { status: 'would-apply' };
  }
  // Remediate mode answered with something other than a restore: a refusal (lockout risk, flapping,
  // invalid desired, key not writable) or an orphaned principal KMS would reject.
  return { status: confirm ? 'refused' : 'would-refuse', refusal: finding.kind };
}

/** Applies (or, without confirmation, previews) the desired policy of one key; see the module comment. */
export async function applyDesired(deps: CheckKeyDeps, request: ApplyRequest): Promise<ApplyOutcome> {
  const outcome = await checkKey(deps, {
    keyRef: request.keyRef,
    trigger: 'cli',
    eventId: request.runId,
    modeOverride: request.confirm ? 'remediate' : 'dry-run',
  });
  const base = { keyArn: outcome.keyArn, keyId: outcome.keyId };
  if (outcome.result === 'in-sync') return { ...base, status: 'in-sync', mode: outcome.mode };
  if (outcome.result === 'ignored' || !outcome.finding) return { ...base, status: 'unmanaged' };
  const result: ApplyOutcome = {
    ...base,
    ...statusOf(outcome.finding, request.confirm),
    finding: outcome.finding,
  };
  if (outcome.mode !== undefined && result.status !== 'unmanaged') result.mode = outcome.mode;
  return result;
}

/**
 * What a compliance view (AWS Security Hub: docs/architecture.md#security-hub) keeps about a key: one
 * record per key and **subject**, the part of the key (or of the guard in an account) a finding is about.
 * A finding opens or updates its subject; a later check that looked at the subject and made no finding
 * about it (or restored it) closes it. Several finding kinds share a subject, so the `remediated` finding
 * of a restore closes the `drift` finding it resolves.
 */
import type { Actor, Finding, FindingKind, Trigger } from './finding';
import type { KeyLocation } from './key-arn';

export const COMPLIANCE_SUBJECTS = [
  /** The key policy (and, for a key no entry manages, its judgement by the security rules). */
  'key-policy',
  /** Deletion, enabled, rotation against the entry's `state`. */
  'key-state',
  /** The key's sticky binding to its manifest entry. */
  'binding',
  /** One grant the entry does not allow (one record per grant ID). */
  'grant',
  /** Whether the guard can read the key at all. */
  'access',
  /** A PutKeyPolicy with the guard's identity that the guard did not intend: an incident, closed by a person. */
  'guard-impersonated',
  /** A replica in a Region where no guard runs (one record per replica Region): closed by a person. */
  'replica-unguarded',
  /** Account level (the audit): the drift rule, the guard's health, an audit that could not check every key. */
  'guard-disabled',
  'guard-degraded',
  'audit-incomplete',
  /**
   * The hub (an organization): whether it can assume a member account's spoke role (`spoke-unreachable`), and
   * KMS changes of an account or Region outside its scope (`account-not-guarded`, closed by a person). One
   * record per account and Region, kept in the hub's account: the guard cannot write in that account.
   */
  'spoke-access',
  'account-scope',
] as const;
export type ComplianceSubject = (typeof COMPLIANCE_SUBJECTS)[number];

/** The subject of each finding kind; `undefined`: not a problem of anything (the audit's summary). */
export const SUBJECT_OF_KIND: Readonly<Record<FindingKind, ComplianceSubject | undefined>> = {
  drift: 'key-policy',
  remediated: 'key-policy',
  'would-remediate': 'key-policy',
  'invalid-desired': 'key-policy',
  'invalid-live': 'key-policy',
  'orphaned-principal': 'key-policy',
  'unmanaged-key': 'key-policy',
  'key-not-writable': 'key-policy',
  flapping: 'key-policy',
  'remediation-failed': 'key-policy',
  'lockout-risk': 'key-policy',
  'guard-locked-out': 'access',
  'key-unavailable': 'access',
  'key-state-changed': 'key-state',
  'binding-changed': 'binding',
  'grant-not-allowed': 'grant',
  'replica-unguarded': 'replica-unguarded',
  'guard-impersonated': 'guard-impersonated',
  'guard-disabled': 'guard-disabled',
  'guard-degraded': 'guard-degraded',
  'audit-incomplete': 'audit-incomplete',
  'account-not-guarded': 'account-scope',
  'spoke-unreachable': 'spoke-access',
  'audit-summary': undefined,
};

/** Subjects of a whole account and Region, whatever key a finding names (one record per account and Region). */
export const ACCOUNT_SUBJECTS: ReadonlySet<ComplianceSubject> = new Set([
  'guard-disabled',
  'guard-degraded',
  'audit-incomplete',
  'spoke-access',
  'account-scope',
]);

/** A finding that puts its subject back in its desired state: the guard restored (or revoked) it. */
export function isRestored(finding: Finding): boolean {
  return finding.action === 'remediated';
}

/** What one check (of a key, or of the guard in an account) tells a compliance view. */
export interface ComplianceRecord {
  /** The key's ARN; for the account-level record `arn:<partition>:kms:<region>:<account>:key/*`. */
  keyArn: string;
  /** The key's ID; `*` for the account-level record (as the audit's account findings). */
  keyId: string;
  location: KeyLocation;
  /**
   * Where the compliance view keeps the record, when not in the key's own account and Region: the hub's
   * account (in its own Region) for an account it cannot reach or does not guard. Absent: `location`.
   */
  home?: KeyLocation;
  aliases: readonly string[];
  /** The manifest entry enforced on the key. */
  keyName?: string;
  trigger: Trigger;
  /** Who made the change the check followed (events). */
  actor?: Actor;
  /** ISO time of the check (every finding of it has this time). */
  time: string;
  /** Every finding the check made, in order. */
  findings: readonly Finding[];
  /**
   * The subjects the check looked at to the end. One it made no finding about is in its desired state,
   * and so is every grant of the key it did not report.
   */
  checked: readonly ComplianceSubject[];
}

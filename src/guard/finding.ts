/**
 * A finding (docs/architecture.md#findings-and-messages): one JSON object per key and check, published to SNS and
 * rendered for email and Slack. `src/alerts/` renders it; nothing here does I/O.
 */
import type { CompareResult, PolicyDiff, Severity, ValidationFinding } from '../policy/types';

export type GuardMode = 'alert' | 'remediate' | 'dry-run';
export type ActionTaken = 'none' | 'alerted' | 'remediated' | 'failed';

export type FindingKind =
  | 'drift' // live differs from desired
  | 'remediated' // desired re-applied and confirmed
  | 'would-remediate' // dry-run: what remediation would do
  | 'invalid-desired' // desired document fails validation: never applied
  | 'invalid-live' // live document is not a valid key policy
  | 'orphaned-principal' // a unique ID (AROA…/AIDA…) where an ARN was
  | 'unmanaged-key' // a key the manifest does not manage (default: report)
  | 'guard-locked-out' // AccessDenied on Get/PutKeyPolicy
  | 'key-unavailable' // NotFound / pending deletion / disabled
  | 'key-not-writable' // AWS-managed key or multi-Region replica: reported, never written
  | 'flapping' // too many re-applies in the window: stopped remediating
  | 'remediation-failed' // PutKeyPolicy succeeded but the live policy never became stable and equivalent
  | 'lockout-risk' // desired policy would lock out the guard or every administrator
  | 'guard-disabled' // the drift rule is missing or disabled (audit health check)
  | 'audit-summary'
  | 'audit-incomplete';

/** Who did it, from the CloudTrail record (absent for audits). */
export interface Actor {
  arn?: string;
  type?: string;
  accountId?: string;
  principalId?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  eventTime?: string;
  eventID?: string;
  eventName?: string;
  /** True when the actor is the guard's own role. */
  isGuard?: boolean;
}

export interface Finding {
  /** Stable identifier: `<eventID or audit run id>:<keyId>:<kind>`. */
  id: string;
  kind: FindingKind;
  severity: Severity;
  /** One line, also the SNS subject source (truncated to 100 chars by the renderer). */
  title: string;
  keyArn: string;
  keyId: string;
  aliases: string[];
  /** Manifest entry name of a managed key (e.g. `payments-data`); absent for unmanaged keys. */
  keyName?: string;
  /** Desired document's path in the repository (e.g. `policies/payments-data.json`), for restore instructions. */
  policyFile?: string;
  region: string;
  account: string;
  mode: GuardMode;
  action: ActionTaken;
  /** Where the check came from. */
  trigger: 'event' | 'audit' | 'cli';
  actor?: Actor;
  diff?: PolicyDiff;
  cosmetic?: CompareResult['cosmetic'];
  validation?: { desired: ValidationFinding[]; live: ValidationFinding[] };
  /** The live document as read (verbatim); in remediate mode, the overwritten document. */
  livePolicy?: string;
  desiredPolicy?: string;
  /** Free-form explanation lines (what was done, why not, how to restore by hand). */
  details: string[];
  /** ISO time the finding was made. */
  time: string;
}

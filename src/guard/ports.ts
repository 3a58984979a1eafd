/**
 * Ports: the small interfaces the use cases talk to. `src/aws/` implements them with SDK v3
 * clients; tests implement them with aws-sdk-client-mock-backed adapters or fakes.
 */
import type { Finding, KeyGrant } from '../core/finding';
import type { KeyDescription } from '../core/key';
import type { KeyLocation } from '../core/key-arn';

/**
 * KMS as the use cases need it, for one account and Region. Every call is one KMS API call (or its
 * pages); caching is a decorator (CachingKeyStore), not the adapter's business.
 */
export interface KeyPolicyStore {
  /** GetKeyPolicy with PolicyName `default`; returns the document verbatim. */
  getKeyPolicy(keyId: string): Promise<string>;
  /** PutKeyPolicy with PolicyName `default`; never bypasses the lockout safety check. */
  putKeyPolicy(keyId: string, policy: string): Promise<void>;
  /** DescribeKey: state, manager and multi-Region type. */
  describeKey(keyId: string): Promise<KeyDescription>;
  /** ListResourceTags (paginated). */
  listResourceTags(keyId: string): Promise<Record<string, string>>;
  /** Every key ID in the account/region (paginated ListKeys). */
  listKeyIds(): Promise<string[]>;
  /** Alias name (`alias/x`) -> target key ID, for every alias (paginated ListAliases). */
  listAliases(): Promise<Map<string, string>>;
  /** Every grant on the key (paginated ListGrants). */
  listGrants(keyId: string): Promise<KeyGrant[]>;
  /** RevokeGrant. */
  revokeGrant(keyId: string, grantId: string): Promise<void>;
  /** CancelKeyDeletion (the key is then Disabled). */
  cancelKeyDeletion(keyId: string): Promise<void>;
  /** EnableKey. */
  enableKey(keyId: string): Promise<void>;
  /** DisableKey. */
  disableKey(keyId: string): Promise<void>;
  /** GetKeyRotationStatus: whether automatic rotation is on. */
  getKeyRotationStatus(keyId: string): Promise<boolean>;
  /** EnableKeyRotation or DisableKeyRotation. */
  setKeyRotation(keyId: string, enabled: boolean): Promise<void>;
}

/**
 * A key bound to a manifest entry by an alias or a tag, as recorded when the guard first saw it match
 * (docs/architecture.md#sticky-bindings). Only Git releases it: the entry removed, or its matcher changed.
 */
export interface KeyBinding {
  keyArn: string;
  /** The entry's name. */
  entry: string;
  /** How the entry matched: `alias` or `tag`, and the value (`alias/x`, `team=payments`). */
  matcherKind: 'alias' | 'tag';
  matcherValue: string;
  /** SHA-256 of the entry's desired template when bound (which Git version bound it). */
  documentHash: string;
  /** ISO time of the binding. */
  boundAt: string;
}

export interface BindingStore {
  get(keyArn: string): Promise<KeyBinding | undefined>;
  put(binding: KeyBinding): Promise<void>;
  delete(keyArn: string): Promise<void>;
  /** Every binding of keys in one account and Region. */
  list(location: KeyLocation): Promise<KeyBinding[]>;
}

export interface FindingPublisher {
  /** One SNS Publish per finding; throws on failure so the invocation fails and is retried. */
  publish(finding: Finding): Promise<void>;
}

/** What a ledger keeps about one re-apply besides the overwritten document; every field is optional. */
export interface ReapplyDetails {
  /** What was overwritten: the key policy (default) or a grant, recorded verbatim before RevokeGrant. */
  subject?: 'policy' | 'grant';
  /** CloudTrail `eventID` of the change that was overwritten (absent for audits and the CLI). */
  eventId?: string;
  /** `userIdentity.arn` of whoever made the overwritten change. */
  actorArn?: string;
  /** The desired document about to be written; a ledger stores its SHA-256, which is the write intent. */
  desiredPolicy?: string;
}

/** Counts re-applies per key (flapping) and remembers processed events (idempotency). */
export interface RemediationLedger {
  /**
   * Records a re-apply with the overwritten document (append-only: an entry once recorded is never
   * replaced). `details` (optional, additive) names the CloudTrail event and actor so a ledger entry can be
   * traced back. One write: what remediation makes durable before PutKeyPolicy.
   */
  append(keyArn: string, overwritten: string, at: Date, details?: ReapplyDetails): Promise<void>;
  /** `append`, then the count inside the window, this one included. */
  recordReapply(keyArn: string, overwritten: string, at: Date, details?: ReapplyDetails): Promise<number>;
  reapplyCount(keyArn: string, at: Date): Promise<number>;
  /**
   * The write intent (docs/architecture.md#write-intents): whether a policy entry of this key recorded
   * within {@link WRITE_INTENT_WINDOW_MS} of `at` names this SHA-256 as the desired document. The entry
   * the guard appends before each PutKeyPolicy records what it is about to write, so its own CloudTrail
   * event is known by what it intended, not by who made it: a write by the guard's role matching no
   * entry is an impersonation.
   */
  intended(keyArn: string, documentSha256: string, at: Date): Promise<boolean>;
}

/** How long a write intent stays open: EventBridge delivers (and retries) the guard's own event within 24 h. */
export const WRITE_INTENT_WINDOW_MS = 24 * 60 * 60 * 1000;

/**
 * The outbox (docs/architecture.md#outbox): every finding is recorded before it is published and removed
 * once SNS accepted it, so a finding is never lost between an action and its alert: a failed Publish is
 * retried by the next invocation and swept by every audit.
 */
export interface FindingOutbox {
  /** Records a finding (a later one with the same ID replaces it). */
  hold(finding: Finding): Promise<void>;
  /** Removes a finding SNS accepted. */
  delivered(finding: Finding): Promise<void>;
  /** Findings held but not delivered, of keys in one account and Region, oldest first. */
  pending(location: KeyLocation): Promise<Finding[]>;
}

export interface Clock {
  now(): Date;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/**
 * The accounts the hub guards (docs/architecture.md#the-hub-and-its-spokes): which accounts are inside the
 * guard's scope, where each account sits in the organization, and whether the guard can act there.
 */
export interface OrganizationDirectory {
  /** Every account the guard guards besides the hub's own (Organizations ListAccounts, or the static list). */
  accounts(): Promise<string[]>;
  /** Whether the account is one of them (the hub's own account always is). */
  isGuarded(accountId: string): Promise<boolean>;
  /** The OUs above the account, nearest first (Organizations ListParents); the root is left out. */
  ousOf(accountId: string): Promise<string[]>;
}

/** Credentials for an account: the hub's own, or its spoke role's (src/aws/spoke-access.ts). */
export interface AccountAccess {
  /** Assumes the account's spoke role now: SpokeAccessError when it cannot, RetryableAwsError when STS is unwell. */
  ensure(accountId: string): Promise<void>;
  /** The principal the guard acts as in the account (its spoke role ARN), or undefined for the hub's own. */
  principalFor(accountId: string): string | undefined;
}

/** One unit of an organization audit: one account in one Region (docs/architecture.md#the-organization-audit). */
export interface AuditUnit {
  accountId: string;
  region: string;
  partition: string;
}

/** What a worker reports for its unit. */
export interface UnitReport extends AuditUnit {
  /** checked: every key checked; incomplete: some keys not; refused: out of scope or spoke unreachable; failed: the worker failed for good. */
  status: 'checked' | 'incomplete' | 'refused' | 'failed';
  checked: number;
  inSync: number;
  drift: number;
  failed: number;
  unmanaged: number;
  notChecked: number;
  /** Why keys (or the whole unit) were not checked: at most 20 lines. */
  reasons: string[];
  findings: number;
}

export interface RunProgress {
  runId: string;
  units: number;
  reported: number;
  startedAt: string;
  /** After this the run is closed with whatever reported (the deadline message). */
  deadlineAt: string;
  /** claimed: a worker is publishing the summary; published: done (never again). */
  summary?: 'claimed' | 'published';
  /** The hub's own guard-health outcome, for the summary. */
  health?: { passed: number; failed: number; driftRule: string };
}

/** Per-run progress in the state table (`run#<runId>`): conditional writes, so each unit counts once. */
export interface AuditRuns {
  /** Records the run and its units (a retried start changes nothing). */
  start(progress: RunProgress, units: readonly AuditUnit[]): Promise<void>;
  /** Records a unit's report; `first` is false when the unit had reported already (nothing counted). */
  report(runId: string, report: UnitReport): Promise<{ first: boolean; progress: RunProgress | undefined }>;
  progress(runId: string): Promise<RunProgress | undefined>;
  /** Every unit of the run, with its report when it has one. */
  units(runId: string): Promise<{ unit: AuditUnit; report?: UnitReport }[]>;
  /** Takes the right to publish the summary: true for exactly one caller (or a retry after `claimed` went stale). */
  claimSummary(runId: string, staleClaimBefore?: Date): Promise<boolean>;
  summaryPublished(runId: string): Promise<void>;
}

/** The SQS queue the organization audit fans out on. */
export interface AuditQueue {
  /** One message per unit (SendMessageBatch, 10 at a time); throws when any could not be sent. */
  sendUnits(runId: string, units: readonly AuditUnit[]): Promise<void>;
  /** The run's deadline check, delivered after `delaySeconds` (at most 900). */
  sendDeadline(runId: string, delaySeconds: number): Promise<void>;
}

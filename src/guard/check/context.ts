/**
 * What one check of one key carries from start to finish, and how it turns into a published finding.
 * Every finding about a key is built here, so the ID, title and key fields are written once.
 */

import { actorName } from '../../core/actor-name';
import type { ComplianceSubject } from '../../core/compliance';
import type {
  ActionTaken,
  Actor,
  BindingChange,
  Finding,
  FindingKind,
  KeyGrant,
  KeyStateChange,
  Trigger,
} from '../../core/finding';
import type { GuardMode, KeyDescription } from '../../core/key';
import type { KeyLocation } from '../../core/key-arn';
import type { OusOf } from '../../manifest/scope';
import type { LoadedManifest, ManagedKey } from '../../manifest/types';
import type { CompareResult, Severity, ValidationFinding } from '../../policy/types';
import type { CachingKeyStore } from '../caching-store';
import type { ComplianceSink } from '../compliance';
import { publishFailure } from '../errors';
import type { GuardLogger, LogAttributes } from '../logger';
import { publishThroughOutbox } from '../outbox';
import type {
  BindingStore,
  Clock,
  FindingOutbox,
  FindingPublisher,
  KeyBinding,
  RemediationLedger,
} from '../ports';
import type { StabilizationPolicy } from '../stabilize';

export interface CheckKeyDeps {
  /** KMS for the key's account and Region, behind the lookup cache (aliases, tags). */
  store: CachingKeyStore;
  publisher: FindingPublisher;
  ledger: RemediationLedger;
  clock: Clock;
  logger: GuardLogger;
  manifest: LoadedManifest;
  /** The guard's own role; default: the serverless.yml name `kms-policy-guard-<region>` in the key's account. */
  guardPrincipalArn?: string;
  stabilization?: Partial<StabilizationPolicy>;
  /** Directory policy paths are shown relative to (repository root, Lambda task root); default: cwd. */
  repoRoot?: string;
  /** Partition/Region/account of a bare key ID, so its ARN is known without a DescribeKey call. */
  defaultLocation?: KeyLocation;
  /** Sticky bindings of keys to manifest entries (the state table in the Lambda functions). */
  bindings: BindingStore;
  /** Every finding is held here before it is published (docs/architecture.md#outbox). */
  outbox: FindingOutbox;
  /**
   * The accounts and Regions this guard serves: a key anywhere else is never read or written. Absent
   * (the CLI): any key the credentials reach.
   */
  serves?: (location: KeyLocation) => boolean;
  /** Regions where a guard runs (a ReplicateKey into any other is critical); absent: not checked. */
  guardedRegions?: readonly string[];
  /** Told every check's findings and what it found as desired (docs/architecture.md#security-hub); absent: none. */
  compliance?: ComplianceSink;
  /** The OUs above an account, for manifest entries scoped to OUs (docs/manifest.md#scope). */
  ousOf?: OusOf;
}

export interface CheckKeyRequest {
  /** Key ID, key ARN or `alias/name`. */
  keyRef: string;
  trigger: Trigger;
  actor?: Actor;
  /** CloudTrail eventID (events) or a run ID (audit, CLI); part of the finding ID. */
  eventId?: string;
  /** Overrides the manifest's mode for this check (CLI `--mode dry-run`). */
  modeOverride?: GuardMode;
  /** Never write: a remediate-mode key is checked as dry-run (the CLI's audit). */
  readOnly?: boolean;
  /** ReplicateKey: the Region the replica was created in. */
  replicaRegion?: string;
  /** The CloudTrail event's name (PutKeyPolicy, TagResource, …). */
  eventName?: string;
  /** PutKeyPolicy: SHA-256 of the document the call wrote (requestParameters.policy), to match a write intent. */
  writtenPolicySha256?: string;
  /**
   * The check's first reads of this key, started before the check (the drift handler starts them while the
   * event's idempotency record is written): used only when `keyArn` is the key the check confirms.
   */
  prefetched?: PrefetchedReads;
}

/** The three reads a check starts with, asked for at once; nothing read this way is used unjudged. */
export interface PrefetchedReads {
  keyArn: string;
  description: Promise<KeyDescription>;
  binding: Promise<KeyBinding | undefined>;
  policy: Promise<string>;
}

export type CheckResult =
  /** Live and desired are equivalent: logged, nothing published. */
  | 'in-sync'
  /** An unmanaged key and `unmanagedKeys: ignore`. */
  | 'ignored'
  /** The guard's own PutKeyPolicy event found drift: left to the event of whoever changed it since, and the audit. */
  | 'deferred'
  /** A finding was published (see `finding`). */
  | 'published'
  /** The key is in an account or Region this guard does not serve, or the event named a key KMS does not know as such: nothing was read or written. */
  | 'not-served'
  /** An AWS managed key no entry manages: its policy only AWS can change. */
  | 'aws-managed';

export interface CheckOutcome {
  result: CheckResult;
  keyArn: string;
  keyId: string;
  /** The mode the policy was checked in (a read-only check of a remediate key: dry-run). */
  mode?: GuardMode;
  /** The manifest's mode for the key. */
  entryMode?: GuardMode;
  /** The manifest entry enforced on the key (by its aliases and tags, or by its binding). */
  entryName?: string;
  /** The finding about the key policy, when one was published. */
  finding?: Finding;
  /** Every finding the check published (binding, state, policy, grants), in order. */
  findings: Finding[];
}

/** Everything a finding needs that does not depend on the outcome. */
export interface CheckContext {
  deps: CheckKeyDeps;
  request: CheckKeyRequest;
  keyArn: string;
  keyId: string;
  /** The key's partition, Region and account, read once from its ARN. */
  location: KeyLocation;
  aliases: string[];
  mode: GuardMode;
  managed?: ManagedKey;
  policyFile?: string;
  /** What DescribeKey said at the start of the check (updated by the key-state restore). */
  description?: KeyDescription;
  /** Every finding published so far. */
  findings: Finding[];
  /** The guard's role wrote the policy, but not a document the guard intended: treated as anyone's change. */
  impersonated?: boolean;
  /**
   * GetKeyPolicy, started together with DescribeKey (docs/architecture.md#the-check): the policy check takes it
   * when nothing changed the key since; dropped (and never reported) when the check ends without reading the
   * policy or restores the key's state first.
   */
  earlyPolicyRead?: Promise<string>;
  /** The subjects the check looked at to the end (the compliance view closes those it made no finding about). */
  checked: ComplianceSubject[];
  now: Date;
  log: (level: keyof GuardLogger, message: string, attributes?: LogAttributes) => void;
}

/** A read started before the check needs it: a failure surfaces where it is awaited, never as an unhandled rejection. */
export function startedEarly<T>(read: Promise<T>): Promise<T> {
  read.catch(() => undefined);
  return read;
}

/**
 * Starts the reads a check of `keyArn` begins with (docs/architecture.md#the-check): DescribeKey, the binding
 * record and the policy, at once. They change nothing; each failure surfaces where the check awaits it.
 */
export function startKeyReads(
  deps: Pick<CheckKeyDeps, 'store' | 'bindings'>,
  keyArn: string,
  keyId: string,
): PrefetchedReads {
  return {
    keyArn,
    description: startedEarly(deps.store.describeKey(keyId)),
    binding: startedEarly(deps.bindings.get(keyArn)),
    policy: startedEarly(deps.store.getKeyPolicy(keyId)),
  };
}

/** The live key policy: the read started with DescribeKey, taken once, else a new GetKeyPolicy. */
export function readLivePolicy(ctx: CheckContext): Promise<string> {
  const early = ctx.earlyPolicyRead;
  ctx.earlyPolicyRead = undefined;
  return early ?? ctx.deps.store.getKeyPolicy(ctx.keyId);
}

export interface FindingParts {
  kind: FindingKind;
  severity: Severity;
  action: ActionTaken;
  title: string;
  details: string[];
  comparison?: CompareResult;
  validation?: { desired: ValidationFinding[]; live: ValidationFinding[] };
  livePolicy?: string;
  desiredPolicy?: string;
  binding?: BindingChange;
  grant?: KeyGrant;
  keyState?: KeyStateChange;
  /** Appended to the finding ID when one check can make several findings of a kind (a grant's ID). */
  idSuffix?: string;
}

export const KIND_HEADLINES: Readonly<Record<FindingKind, string>> = {
  drift: 'Key policy drift',
  remediated: 'Key policy restored',
  'would-remediate': 'Dry run: would restore key policy',
  'invalid-desired': 'Desired key policy is invalid',
  'invalid-live': 'Live key policy is invalid',
  'orphaned-principal': 'Key policy names a deleted IAM principal',
  'unmanaged-key': 'Key not managed by the manifest',
  'guard-locked-out': 'Guard locked out of key',
  'key-unavailable': 'Key unavailable',
  'key-not-writable': 'Key policy drift on a key the guard does not write',
  flapping: 'Key policy flapping: remediation paused',
  'remediation-failed': 'Key policy restore not confirmed',
  'lockout-risk': 'Restore refused: lockout risk',
  'guard-disabled': 'Guard disabled',
  'guard-degraded': 'Guard degraded',
  'audit-summary': 'Audit summary',
  'audit-incomplete': 'Audit incomplete',
  'binding-changed': 'Key binding changed',
  'grant-not-allowed': 'Grant not allowed',
  'key-state-changed': 'Key state changed',
  'replica-unguarded': 'Key replicated where no guard runs',
  'guard-impersonated': "Key policy written with the guard's identity",
  'account-not-guarded': 'KMS change in an account or Region the guard does not guard',
  'spoke-unreachable': 'Spoke role cannot be assumed: the guard is blind in that account',
};

function label(ctx: CheckContext): string {
  return ctx.managed?.name ?? ctx.aliases[0] ?? ctx.keyId;
}

/** ` by role/Admin (session alice)`: the principal by type and name, never a session name alone. */
function byWhom(actor: Actor | undefined): string {
  const name = actor === undefined ? undefined : actorName(actor);
  return name === undefined ? '' : ` by ${name}`;
}

export function title(ctx: CheckContext, kind: FindingKind, severity: Severity, suffix = ''): string {
  return `[${severity.toUpperCase()}] ${KIND_HEADLINES[kind]}: ${label(ctx)}${byWhom(ctx.request.actor)}${suffix}`;
}

export function buildFinding(ctx: CheckContext, parts: FindingParts): Finding {
  const runId = ctx.request.eventId ?? `${ctx.request.trigger}-${ctx.now.toISOString()}`;
  const finding: Finding = {
    id: `${runId}:${ctx.keyId}:${parts.kind}${parts.idSuffix ? `:${parts.idSuffix}` : ''}`,
    kind: parts.kind,
    severity: parts.severity,
    title: parts.title,
    keyArn: ctx.keyArn,
    keyId: ctx.keyId,
    aliases: ctx.aliases,
    region: ctx.location.region,
    account: ctx.location.accountId,
    mode: ctx.mode,
    action: parts.action,
    trigger: ctx.request.trigger,
    details: parts.details,
    time: ctx.now.toISOString(),
  };
  if (ctx.managed) finding.keyName = ctx.managed.name;
  if (ctx.policyFile) finding.policyFile = ctx.policyFile;
  if (ctx.request.actor) finding.actor = ctx.request.actor;
  if (parts.comparison) {
    finding.diff = parts.comparison.diff;
    finding.cosmetic = parts.comparison.cosmetic;
  }
  if (parts.validation) finding.validation = parts.validation;
  if (parts.livePolicy !== undefined) finding.livePolicy = parts.livePolicy;
  if (parts.desiredPolicy !== undefined) finding.desiredPolicy = parts.desiredPolicy;
  if (parts.binding) finding.binding = parts.binding;
  if (parts.grant) finding.grant = parts.grant;
  if (parts.keyState) finding.keyState = parts.keyState;
  return finding;
}

/** Builds and publishes the finding; a failed Publish fails the check (the invocation is retried). */
export async function publish(ctx: CheckContext, parts: FindingParts): Promise<CheckOutcome> {
  const finding = await publishFinding(ctx, parts);
  return { ...quietOutcome(ctx, 'published'), finding };
}

/** Publishes one finding of the check and returns it. */
export async function publishFinding(ctx: CheckContext, parts: FindingParts): Promise<Finding> {
  const finding = buildFinding(ctx, parts);
  try {
    await publishThroughOutbox(ctx.deps.outbox, ctx.deps.publisher, finding, ctx.deps.logger);
  } catch (error) {
    // The invocation fails (Lambda retries, the DLQ keeps the event) and the finding stays in the outbox,
    // which the retry and every audit deliver; the full finding also goes to the log.
    ctx.log('error', 'finding_publish_failed', { finding, error });
    throw publishFailure(finding.id, error);
  }
  ctx.log('info', 'finding_published', {
    findingId: finding.id,
    kind: finding.kind,
    severity: finding.severity,
    action: finding.action,
  });
  ctx.findings.push(finding);
  return finding;
}

/** The outcome so far, with every finding published (the caller sets `finding` for the policy's). */
export function quietOutcome(ctx: CheckContext, result: CheckResult): CheckOutcome {
  const outcome: CheckOutcome = {
    result,
    keyArn: ctx.keyArn,
    keyId: ctx.keyId,
    mode: ctx.mode,
    findings: [...ctx.findings],
  };
  if (ctx.managed) {
    outcome.entryMode = ctx.managed.mode;
    outcome.entryName = ctx.managed.name;
  }
  return outcome;
}

/**
 * checkKey: the one use case behind the drift handler, the audit and the CLI (docs/architecture.md#data-flow).
 * Reads the live key policy, compares it with the desired one from the manifest, and depending on the
 * mode publishes a finding, re-applies the desired document (safely), or describes what it would do.
 *
 * AWS calls are spent only where a decision needs them: a key matched by ID/ARN in alert mode costs
 * GetKeyPolicy (+ Publish when drifted); aliases and tags are fetched only when the manifest walk
 * reaches an alias or tag matcher; DescribeKey only right before a write.
 */

import path from 'node:path';
import type { ActionTaken, Actor, Finding, FindingKind } from '../core/finding';
import type { GuardMode, KeyMetadata } from '../core/key';
import { matchesKey, placeholderValuesFromArn, renderDesiredPolicy, validationOptionsFor } from '../manifest';
import type { KeyMatcher, LoadedManifest, ManagedKey, PlaceholderValues } from '../manifest/types';
import { REMEDIATION_BLOCKING_CODES } from '../policy/catalogue';
import { comparePolicies } from '../policy/compare';
import { maxSeverity } from '../policy/diff';
import type { CompareResult, Severity, ValidationFinding, ValidationResult } from '../policy/types';
import { validatePolicy } from '../policy/validate';
import {
  KeyReferenceError,
  KeyUnavailableError,
  KmsAccessDeniedError,
  PolicyRejectedError,
  PublishFailedError,
} from './errors';
import type { KeyDetailsReader } from './key-details';
import type { GuardLogger, LogAttributes } from './logger';
import type { Clock, FindingPublisher, KeyPolicyStore, RemediationLedger } from './ports';
import { DEFAULT_STABILIZATION, type StabilizationPolicy, waitUntilStable } from './stabilize';

export interface CheckKeyDeps {
  /** KMS behind the port; the optional KeyDetailsReader methods save calls when present. */
  store: KeyPolicyStore & Partial<KeyDetailsReader>;
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
  defaultLocation?: PlaceholderValues;
  /** How long an alias list (ListAliases) and a key's tags stay cached; default 60 s. */
  lookupCacheTtlMs?: number;
}

export interface CheckKeyRequest {
  /** Key ID, key ARN or `alias/name`. */
  keyRef: string;
  trigger: 'event' | 'audit' | 'cli';
  actor?: Actor;
  /** CloudTrail eventID (events) or a run ID (audit, CLI); part of the finding ID. */
  eventId?: string;
  /** Overrides the manifest's mode for this check (CLI `--mode dry-run`). */
  modeOverride?: GuardMode;
}

export type CheckResult =
  /** Live and desired are equivalent: logged, nothing published. */
  | 'in-sync'
  /** An unmanaged key and `unmanagedKeys: ignore`. */
  | 'ignored'
  /** The guard's own PutKeyPolicy event found drift: left to the event of whoever changed it since, and the audit. */
  | 'deferred'
  /** A finding was published (see `finding`). */
  | 'published';

export interface CheckOutcome {
  result: CheckResult;
  keyArn: string;
  keyId: string;
  mode?: GuardMode;
  finding?: Finding;
}

const DEFAULT_LOOKUP_TTL_MS = 60_000;

interface CachedLookup<T> {
  value: T;
  expiresAt: number;
}

/**
 * Module-scope caches (they live as long as the Lambda container): alias lists per store, and tags
 * per store and key. A WeakMap keyed by the store keeps tests and separate accounts apart.
 */
const aliasCache = new WeakMap<object, CachedLookup<Map<string, string>>>();
const tagCache = new WeakMap<object, Map<string, CachedLookup<Record<string, string>>>>();

/** Aliases pointing at each key ID, from the (cached) ListAliases of the whole account/Region. */
async function aliasTargets(deps: CheckKeyDeps, now: number): Promise<Map<string, string>> {
  const cached = aliasCache.get(deps.store);
  if (cached && cached.expiresAt > now) return cached.value;
  const value = await deps.store.listAliases();
  aliasCache.set(deps.store, { value, expiresAt: now + (deps.lookupCacheTtlMs ?? DEFAULT_LOOKUP_TTL_MS) });
  return value;
}

function cachedAliasTargets(deps: CheckKeyDeps, now: number): Map<string, string> | undefined {
  const cached = aliasCache.get(deps.store);
  return cached && cached.expiresAt > now ? cached.value : undefined;
}

function aliasesOf(targets: Map<string, string>, keyId: string): string[] {
  return [...targets.entries()]
    .filter(([, target]) => target === keyId)
    .map(([alias]) => alias)
    .sort();
}

async function keyTags(deps: CheckKeyDeps, keyId: string, now: number): Promise<Record<string, string>> {
  let perKey = tagCache.get(deps.store);
  if (!perKey) {
    perKey = new Map();
    tagCache.set(deps.store, perKey);
  }
  const cached = perKey.get(keyId);
  if (cached && cached.expiresAt > now) return cached.value;
  const value = deps.store.listResourceTags
    ? await deps.store.listResourceTags(keyId)
    : (await deps.store.describeKey(keyId)).tags;
  perKey.set(keyId, { value, expiresAt: now + (deps.lookupCacheTtlMs ?? DEFAULT_LOOKUP_TTL_MS) });
  return value;
}

/** Empties the lookup caches of a store (tests; the CLI after it changes aliases). */
export function clearLookupCaches(store: object): void {
  aliasCache.delete(store);
  tagCache.delete(store);
}

const KEY_ARN_PATTERN = /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):key\/([A-Za-z0-9-]+)$/;

interface KeyIdentity {
  keyArn: string;
  keyId: string;
}

/** Key ID, key ARN or alias -> key ARN and ID, with as few calls as possible. */
async function identifyKey(deps: CheckKeyDeps, keyRef: string, now: number): Promise<KeyIdentity> {
  const arnMatch = KEY_ARN_PATTERN.exec(keyRef);
  if (arnMatch) return { keyArn: keyRef, keyId: arnMatch[4] ?? keyRef };
  let keyId = keyRef;
  if (keyRef.startsWith('alias/')) {
    const target = (await aliasTargets(deps, now)).get(keyRef);
    if (target === undefined) throw new KeyReferenceError(keyRef, 'no such alias');
    keyId = target;
  } else if (keyRef.startsWith('arn:')) {
    throw new KeyReferenceError(keyRef, 'not a KMS key ARN');
  }
  if (deps.defaultLocation) {
    const { partition, region, accountId } = deps.defaultLocation;
    return { keyArn: `arn:${partition}:kms:${region}:${accountId}:key/${keyId}`, keyId };
  }
  const metadata = deps.store.describeKeyState
    ? await deps.store.describeKeyState(keyId)
    : await deps.store.describeKey(keyId);
  return { keyArn: metadata.arn, keyId: metadata.keyId };
}

type MatcherKind = 'id' | 'alias' | 'tag';

function matcherKind(match: KeyMatcher): MatcherKind {
  if (match.alias !== undefined) return 'alias';
  if (match.tag !== undefined) return 'tag';
  return 'id';
}

/**
 * The manifest entry for the key, walking the entries in order (first match wins, as in resolveKey)
 * and fetching aliases or tags only when the walk reaches an entry that needs them.
 */
async function resolveManagedKey(
  deps: CheckKeyDeps,
  identity: KeyIdentity,
  now: number,
): Promise<{ managed?: ManagedKey; aliases: string[] }> {
  const known: KeyMetadata = {
    keyId: identity.keyId,
    arn: identity.keyArn,
    state: 'Unknown',
    manager: 'CUSTOMER',
    multiRegion: false,
    aliases: [],
    tags: {},
  };
  let aliasesKnown = false;
  let tagsKnown = false;
  const warmAliases = cachedAliasTargets(deps, now);
  if (warmAliases) {
    known.aliases = aliasesOf(warmAliases, identity.keyId);
    aliasesKnown = true;
  }
  for (const entry of deps.manifest.keys) {
    const kind = matcherKind(entry.match);
    if (kind === 'alias' && !aliasesKnown) {
      known.aliases = aliasesOf(await aliasTargets(deps, now), identity.keyId);
      aliasesKnown = true;
    }
    if (kind === 'tag' && !tagsKnown) {
      known.tags = await keyTags(deps, identity.keyId, now);
      tagsKnown = true;
    }
    if (matchesKey(entry.match, known)) return { managed: entry, aliases: known.aliases };
  }
  return { aliases: known.aliases };
}

function stabilizationPolicy(deps: CheckKeyDeps): StabilizationPolicy {
  return { ...DEFAULT_STABILIZATION, ...deps.stabilization };
}

/** Everything a finding needs that does not depend on the outcome. */
interface CheckContext {
  deps: CheckKeyDeps;
  request: CheckKeyRequest;
  keyArn: string;
  keyId: string;
  aliases: string[];
  region: string;
  account: string;
  mode: GuardMode;
  managed?: ManagedKey;
  policyFile?: string;
  now: Date;
  log: (level: keyof GuardLogger, message: string, attributes?: LogAttributes) => void;
}

interface FindingParts {
  kind: FindingKind;
  severity: Severity;
  action: ActionTaken;
  title: string;
  details: string[];
  comparison?: CompareResult;
  validation?: { desired: ValidationFinding[]; live: ValidationFinding[] };
  livePolicy?: string;
  desiredPolicy?: string;
}

function label(ctx: CheckContext): string {
  return ctx.managed?.name ?? ctx.aliases[0] ?? ctx.keyId;
}

function byWhom(actor: Actor | undefined): string {
  if (!actor?.arn) return '';
  const name = actor.arn.slice(actor.arn.lastIndexOf('/') + 1) || actor.arn;
  return ` by ${name}`;
}

function buildFinding(ctx: CheckContext, parts: FindingParts): Finding {
  const runId = ctx.request.eventId ?? `${ctx.request.trigger}-${ctx.now.toISOString()}`;
  const finding: Finding = {
    id: `${runId}:${ctx.keyId}:${parts.kind}`,
    kind: parts.kind,
    severity: parts.severity,
    title: parts.title,
    keyArn: ctx.keyArn,
    keyId: ctx.keyId,
    aliases: ctx.aliases,
    region: ctx.region,
    account: ctx.account,
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
  return finding;
}

async function publish(ctx: CheckContext, parts: FindingParts): Promise<CheckOutcome> {
  const finding = buildFinding(ctx, parts);
  try {
    await ctx.deps.publisher.publish(finding);
  } catch (error) {
    // The invocation fails (Lambda retries, the DLQ keeps the event); the full finding goes to the
    // log so nothing it says, such as an overwritten document, exists only in a lost message.
    ctx.log('error', 'finding_publish_failed', { finding, error });
    if (error instanceof PublishFailedError) throw error;
    throw new PublishFailedError(
      finding.id,
      error instanceof Error ? error.message : String(error),
      undefined,
      {
        cause: error,
      },
    );
  }
  ctx.log('info', 'finding_published', {
    findingId: finding.id,
    kind: finding.kind,
    severity: finding.severity,
    action: finding.action,
  });
  return { result: 'published', keyArn: ctx.keyArn, keyId: ctx.keyId, mode: ctx.mode, finding };
}

const BLOCKING_CODES: ReadonlySet<string> = new Set(REMEDIATION_BLOCKING_CODES);

interface Evaluation {
  desiredPolicy: string;
  livePolicy: string;
  comparison: CompareResult;
  desiredValidation: ValidationResult;
  liveValidation: ValidationResult;
}

function validationOf(evaluation: Evaluation): { desired: ValidationFinding[]; live: ValidationFinding[] } {
  return { desired: evaluation.desiredValidation.findings, live: evaluation.liveValidation.findings };
}

/**
 * What every finding about an evaluated key carries: the comparison, both validations and both
 * documents (the live one as read before any write: in remediation, the overwritten document).
 */
function evidenceOf(
  evaluation: Evaluation,
): Required<Pick<FindingParts, 'comparison' | 'validation' | 'livePolicy' | 'desiredPolicy'>> {
  return {
    comparison: evaluation.comparison,
    validation: validationOf(evaluation),
    livePolicy: evaluation.livePolicy,
    desiredPolicy: evaluation.desiredPolicy,
  };
}

function formatFindings(findings: readonly ValidationFinding[]): string[] {
  return findings.map((finding) => `${finding.code} ${finding.path}: ${finding.message}`);
}

/** Why remediation must not write the desired document, or undefined when it may. */
interface Refusal {
  kind: FindingKind;
  severity: Severity;
  reason: string;
  lines: string[];
}

function refusalFromValidation(evaluation: Evaluation): Refusal | undefined {
  const blocking = evaluation.desiredValidation.findings.filter((finding) =>
    BLOCKING_CODES.has(finding.code),
  );
  if (blocking.length > 0) {
    return {
      kind: 'lockout-risk',
      severity: 'critical',
      reason: 'the desired policy would lock out the guard or leave the key without an administrator',
      lines: formatFindings(blocking),
    };
  }
  const desiredProblems = evaluation.comparison.problems.filter((problem) => problem.document === 'desired');
  if (!evaluation.desiredValidation.valid || desiredProblems.length > 0) {
    const errors = evaluation.desiredValidation.findings.filter((finding) => finding.level === 'error');
    return {
      kind: 'invalid-desired',
      severity: 'high',
      reason: 'the desired policy does not pass validation',
      lines: [
        ...formatFindings(errors),
        ...desiredProblems.flatMap((problem) =>
          problem.issues.map((issue) => `${issue.path}: ${issue.message}`),
        ),
      ],
    };
  }
  return undefined;
}

async function refusalFromFlapping(ctx: CheckContext): Promise<Refusal | undefined> {
  const { maxReapplies, windowMinutes } = ctx.deps.manifest.flapping;
  const count = await ctx.deps.ledger.reapplyCount(ctx.keyArn, ctx.now);
  if (count < maxReapplies) return undefined;
  return {
    kind: 'flapping',
    severity: 'critical',
    reason: `the desired policy was already re-applied ${count} times in the last ${windowMinutes} minutes (limit ${maxReapplies}): something keeps changing it back`,
    lines: [
      'Remediation of this key is paused until the window passes; find and stop whatever keeps changing it.',
    ],
  };
}

function refusalFromKeyState(metadata: KeyMetadata): Refusal | undefined {
  if (metadata.manager === 'AWS') {
    return {
      kind: 'key-not-writable',
      severity: 'high',
      reason: 'it is an AWS managed key, whose key policy only AWS can change',
      lines: [],
    };
  }
  if (metadata.multiRegion && metadata.multiRegionType === 'REPLICA') {
    return {
      kind: 'key-not-writable',
      severity: 'high',
      reason:
        'it is a multi-Region replica key: its policy is managed on purpose per Region, so the guard reports instead of writing',
      lines: [],
    };
  }
  if (metadata.state !== 'Enabled') {
    return {
      kind: 'key-unavailable',
      severity: 'medium',
      reason: `its key state is ${metadata.state}, not Enabled`,
      lines: [],
    };
  }
  return undefined;
}

function driftKind(evaluation: Evaluation): FindingKind {
  const liveProblems = evaluation.comparison.problems.some((problem) => problem.document === 'live');
  if (liveProblems) return 'invalid-live';
  const orphaned = evaluation.comparison.diff.orphanedPrincipals.some((orphan) => orphan.where === 'live');
  return orphaned ? 'orphaned-principal' : 'drift';
}

function driftSeverity(evaluation: Evaluation, kind: FindingKind): Severity {
  const floor: Severity = kind === 'invalid-live' ? 'high' : kind === 'orphaned-principal' ? 'medium' : 'low';
  return maxSeverity([evaluation.comparison.diff.severity, floor]);
}

const KIND_HEADLINES: Record<FindingKind, string> = {
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
  'audit-summary': 'Audit summary',
  'audit-incomplete': 'Audit incomplete',
};

function title(ctx: CheckContext, kind: FindingKind, severity: Severity, suffix = ''): string {
  return `[${severity.toUpperCase()}] ${KIND_HEADLINES[kind]}: ${label(ctx)}${byWhom(ctx.request.actor)}${suffix}`;
}

function restoreSteps(ctx: CheckContext): string {
  const policy = stabilizationPolicy(ctx.deps);
  return (
    `PutKeyPolicy (policy name "default", BypassPolicyLockoutSafetyCheck false) with the desired document` +
    `${ctx.policyFile ? ` from ${ctx.policyFile}` : ''}, then re-read until ${policy.requiredStableReads} consecutive reads are equivalent (at most ${policy.attempts} reads)`
  );
}

async function evaluate(ctx: CheckContext, managed: ManagedKey): Promise<Evaluation> {
  const values = placeholderValuesFromArn(ctx.keyArn);
  const desiredPolicy = renderDesiredPolicy(managed, values);
  const livePolicy = await ctx.deps.store.getKeyPolicy(ctx.keyId);
  // A dry run predicts remediation, so the desired document is judged by the remediate-mode rules.
  const validationMode = ctx.mode === 'dry-run' ? 'remediate' : ctx.mode;
  const options = {
    ...validationOptionsFor(ctx.deps.manifest, validationMode, values),
    keyAccount: values.accountId,
  };
  if (ctx.deps.guardPrincipalArn) options.guardPrincipal = ctx.deps.guardPrincipalArn;
  const desiredValidation = validatePolicy(desiredPolicy, options);
  // The live document is judged as a policy, not as a remediation target: no guard-principal rule.
  const liveValidation = validatePolicy(livePolicy, { ...options, guardPrincipal: undefined, mode: 'alert' });
  const comparison = comparePolicies(desiredPolicy, livePolicy, { partition: values.partition });
  return { desiredPolicy, livePolicy, comparison, desiredValidation, liveValidation };
}

async function alertDrift(ctx: CheckContext, evaluation: Evaluation): Promise<CheckOutcome> {
  const kind = driftKind(evaluation);
  const severity = driftSeverity(evaluation, kind);
  const details: string[] = [];
  if (kind === 'invalid-live') {
    details.push(
      'The live document could not be compared fully (it does not parse as a key policy or uses unknown elements):',
      ...evaluation.comparison.problems.flatMap((problem) =>
        problem.issues.map((issue) => `${problem.document} ${issue.path}: ${issue.message}`),
      ),
    );
  }
  if (kind === 'orphaned-principal') {
    details.push(
      ...evaluation.comparison.diff.orphanedPrincipals.map((orphan) => `Orphaned: ${orphan.message}`),
      'KMS shows a unique ID where an ARN was: the IAM role or user was deleted. Re-applying the desired policy would be refused by KMS while that principal does not exist; recreate it or change the desired policy.',
    );
  }
  details.push('Alert mode: the guard changed nothing.');
  return publish(ctx, {
    kind,
    severity,
    action: 'alerted',
    title: title(ctx, kind, severity),
    details,
    ...evidenceOf(evaluation),
  });
}

async function dryRun(ctx: CheckContext, evaluation: Evaluation): Promise<CheckOutcome> {
  const refusal = refusalFromValidation(evaluation) ?? (await refusalFromFlapping(ctx));
  const severity = maxSeverity([evaluation.comparison.diff.severity, refusal?.severity ?? 'low']);
  const details: string[] = [];
  if (refusal) {
    details.push(
      `Remediation would REFUSE to write (${refusal.kind}): ${refusal.reason}.`,
      ...refusal.lines,
      'Dry-run mode: the guard changed nothing.',
    );
  } else {
    details.push(
      `Remediation would: DescribeKey (refusing an AWS managed key, a multi-Region replica or a key that is not Enabled), then ${restoreSteps(ctx)}; the overwritten document would be kept in the finding and the ledger.`,
      'Dry-run mode: the guard changed nothing.',
    );
  }
  return publish(ctx, {
    kind: 'would-remediate',
    severity,
    action: 'alerted',
    title: title(ctx, 'would-remediate', severity, refusal ? ` (would refuse: ${refusal.kind})` : ''),
    details,
    ...evidenceOf(evaluation),
  });
}

async function refuse(ctx: CheckContext, evaluation: Evaluation, refusal: Refusal): Promise<CheckOutcome> {
  ctx.log('warn', 'remediation_refused', { kind: refusal.kind, reason: refusal.reason });
  return publish(ctx, {
    kind: refusal.kind,
    severity: refusal.severity,
    action: 'failed',
    title: title(ctx, refusal.kind, refusal.severity),
    details: [
      `The live policy differs from the desired one, and the guard did NOT restore it: ${refusal.reason}.`,
      ...refusal.lines,
    ],
    ...evidenceOf(evaluation),
  });
}

async function remediate(ctx: CheckContext, evaluation: Evaluation): Promise<CheckOutcome> {
  const early = refusalFromValidation(evaluation) ?? (await refusalFromFlapping(ctx));
  if (early) return refuse(ctx, evaluation, early);
  const metadata = ctx.deps.store.describeKeyState
    ? await ctx.deps.store.describeKeyState(ctx.keyId)
    : await ctx.deps.store.describeKey(ctx.keyId);
  const stateRefusal = refusalFromKeyState(metadata);
  if (stateRefusal) return refuse(ctx, evaluation, stateRefusal);

  const overwritten = evaluation.livePolicy;
  try {
    await ctx.deps.store.putKeyPolicy(ctx.keyId, evaluation.desiredPolicy);
  } catch (error) {
    if (!(error instanceof PolicyRejectedError)) throw error;
    return publish(ctx, {
      kind: 'remediation-failed',
      severity: 'critical',
      action: 'failed',
      title: title(ctx, 'remediation-failed', 'critical'),
      details: [
        `KMS refused the desired policy (${error.awsErrorCode ?? 'error'}): ${error.message}`,
        'The live policy was not changed.',
      ],
      ...evidenceOf(evaluation),
    });
  }
  // Recorded right after the write, before anything else can fail: the overwritten document is kept.
  // A ledger failure must not fail the invocation: the retried event would find the key in sync and
  // publish nothing, and the overwritten document would be lost. The finding below carries it instead.
  let reapplies: number | undefined;
  let ledgerFailure: string | undefined;
  try {
    reapplies = await ctx.deps.ledger.recordReapply(ctx.keyArn, overwritten, ctx.now, {
      eventId: ctx.request.eventId,
      actorArn: ctx.request.actor?.arn,
      desiredPolicy: evaluation.desiredPolicy,
    });
  } catch (error) {
    ledgerFailure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    ctx.log('error', 'ledger_write_failed', { error: ledgerFailure, overwrittenPolicy: overwritten });
  }
  ctx.log('info', 'desired_policy_written', { reapplies });

  const policy = stabilizationPolicy(ctx.deps);
  const isEquivalent = (live: string): boolean =>
    comparePolicies(evaluation.desiredPolicy, live, {
      partition: placeholderValuesFromArn(ctx.keyArn).partition,
    }).status === 'equivalent';
  let stabilization: Awaited<ReturnType<typeof waitUntilStable>>;
  try {
    stabilization = await waitUntilStable(
      () => ctx.deps.store.getKeyPolicy(ctx.keyId),
      isEquivalent,
      ctx.deps.clock,
      policy,
    );
  } catch (error) {
    if (error instanceof KmsAccessDeniedError) {
      return publish(ctx, {
        kind: 'guard-locked-out',
        severity: 'critical',
        action: 'failed',
        title: title(ctx, 'guard-locked-out', 'critical'),
        details: [
          `PutKeyPolicy succeeded, but re-reading the policy was then denied: ${error.message}`,
          'The overwritten document is in livePolicy and in the remediation ledger.',
        ],
        ...evidenceOf(evaluation),
      });
    }
    throw error;
  }
  ctx.log('info', 'stabilization_finished', { ...stabilization, lastLive: undefined });
  if (!stabilization.stable) {
    return publish(ctx, {
      kind: 'remediation-failed',
      severity: 'critical',
      action: 'failed',
      title: title(ctx, 'remediation-failed', 'critical'),
      details: [
        `PutKeyPolicy succeeded, but after ${stabilization.reads} reads the live policy was not ${policy.requiredStableReads} times in a row equivalent to the desired one (${stabilization.staleReads} differing reads, ${stabilization.failedReads} failed reads): someone may be changing it concurrently.`,
        'The guard did not write again. The overwritten document is in livePolicy and in the remediation ledger.',
      ],
      ...evidenceOf(evaluation),
    });
  }
  const severity = maxSeverity([evaluation.comparison.diff.severity, 'low']);
  return publish(ctx, {
    kind: 'remediated',
    severity,
    action: 'remediated',
    title: title(ctx, 'remediated', severity),
    details: [
      `The guard restored the desired policy${ctx.policyFile ? ` from ${ctx.policyFile}` : ''} and confirmed it with ${policy.requiredStableReads} consecutive equivalent reads (${stabilization.reads} reads, ${stabilization.staleReads} stale).`,
      ledgerFailure === undefined
        ? `Re-applies of this key in the last ${ctx.deps.manifest.flapping.windowMinutes} minutes: ${reapplies} (limit ${ctx.deps.manifest.flapping.maxReapplies}).`
        : `The remediation ledger could not record this re-apply (${ledgerFailure}): the flapping count misses it.`,
      ledgerFailure === undefined
        ? 'The overwritten document is kept verbatim in livePolicy and in the remediation ledger.'
        : 'The overwritten document is kept verbatim in livePolicy (and in the log line ledger_write_failed).',
    ],
    ...evidenceOf(evaluation),
  });
}

async function checkManagedKey(ctx: CheckContext, managed: ManagedKey): Promise<CheckOutcome> {
  const evaluation = await evaluate(ctx, managed);
  if (evaluation.comparison.status === 'equivalent') {
    ctx.log('info', ctx.request.actor?.isGuard ? 'guard_change_confirmed' : 'key_in_sync', {
      cosmetic: evaluation.comparison.cosmetic.map((difference) => difference.message),
    });
    return { result: 'in-sync', keyArn: ctx.keyArn, keyId: ctx.keyId, mode: ctx.mode };
  }
  if (ctx.request.actor?.isGuard) {
    // The guard's own write, read back different: a stale read or a later change by someone else,
    // which raises its own event. Writing here could start a loop; the audit is the backstop.
    ctx.log('warn', 'guard_event_drift_deferred', { severity: evaluation.comparison.diff.severity });
    return { result: 'deferred', keyArn: ctx.keyArn, keyId: ctx.keyId, mode: ctx.mode };
  }
  if (ctx.mode === 'alert') return alertDrift(ctx, evaluation);
  if (ctx.mode === 'dry-run') return dryRun(ctx, evaluation);
  if (driftKind(evaluation) === 'orphaned-principal') return alertDrift(ctx, evaluation);
  return remediate(ctx, evaluation);
}

function repoPath(deps: CheckKeyDeps, managed: ManagedKey): string {
  const absolute = path.resolve(path.dirname(deps.manifest.path), managed.policyFile);
  const relative = path.relative(deps.repoRoot ?? process.cwd(), absolute);
  return relative.split(path.sep).join('/');
}

/** Checks one key; see the module comment. Throws only what must fail the invocation (retryable AWS errors, Publish). */
export async function checkKey(deps: CheckKeyDeps, request: CheckKeyRequest): Promise<CheckOutcome> {
  const now = deps.clock.now();
  const identity = await identifyKey(deps, request.keyRef, now.getTime());
  const base: LogAttributes = {
    keyId: identity.keyId,
    keyArn: identity.keyArn,
    eventId: request.eventId,
    actor: request.actor?.arn,
    trigger: request.trigger,
  };
  const log = (level: keyof GuardLogger, message: string, attributes: LogAttributes = {}): void =>
    deps.logger[level](message, { ...base, ...attributes });
  const { partition: _partition, region, accountId } = placeholderValuesFromArn(identity.keyArn);
  const ctx: CheckContext = {
    deps,
    request,
    keyArn: identity.keyArn,
    keyId: identity.keyId,
    aliases: [],
    region,
    account: accountId,
    mode: request.modeOverride ?? 'alert',
    now,
    log,
  };
  try {
    const { managed, aliases } = await resolveManagedKey(deps, identity, now.getTime());
    ctx.aliases = aliases;
    if (!managed) {
      if (deps.manifest.unmanagedKeys === 'ignore') {
        log('info', 'unmanaged_key_ignored');
        return { result: 'ignored', keyArn: identity.keyArn, keyId: identity.keyId };
      }
      return await publish(ctx, {
        kind: 'unmanaged-key',
        severity: 'low',
        action: 'none',
        title: title(ctx, 'unmanaged-key', 'low'),
        details: [
          'No manifest entry matches this key (by key ID, ARN, alias or tag), so the guard does not know its desired policy.',
          'Add it to policies/manifest.yaml to manage it, or set unmanagedKeys: ignore.',
        ],
      });
    }
    ctx.managed = managed;
    ctx.mode = request.modeOverride ?? managed.mode;
    ctx.policyFile = repoPath(deps, managed);
    return await checkManagedKey(ctx, managed);
  } catch (error) {
    if (error instanceof KmsAccessDeniedError) {
      log('error', 'guard_locked_out', { operation: error.operation, error: error.message });
      return publish(ctx, {
        kind: 'guard-locked-out',
        severity: 'critical',
        action: 'failed',
        title: title(ctx, 'guard-locked-out', 'critical', ` (${error.operation} denied)`),
        details: [
          `${error.operation} was denied: ${error.message}`,
          'The key policy (or an SCP / permissions boundary) no longer lets the guard role manage this key: the guard cannot see or restore it. A key administrator must restore the desired policy by hand.',
        ],
      });
    }
    if (error instanceof KeyUnavailableError) {
      log('warn', 'key_unavailable', {
        operation: error.operation,
        reason: error.reason,
        error: error.message,
      });
      return publish(ctx, {
        kind: 'key-unavailable',
        severity: 'medium',
        action: 'none',
        title: title(ctx, 'key-unavailable', 'medium', ` (${error.reason})`),
        details: [
          `${error.operation} failed with ${error.awsErrorCode ?? 'an error'}: ${error.message}`,
          error.reason === 'not-found'
            ? 'The key does not exist (any more) in this account and Region.'
            : 'The key is disabled or pending deletion: its policy cannot be checked or restored until it is enabled again.',
        ],
      });
    }
    throw error;
  }
}

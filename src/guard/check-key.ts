/**
 * checkKey: the one use case behind the drift handler, the audit and the CLI (docs/architecture.md#data-flow).
 * One check of one key covers everything that decides who may use it: which entry it is bound to, its
 * state (deletion, enabled, rotation), its key policy and its grants.
 *
 * 1. The key: a key ARN, key ID or alias; an ARN in an account or Region the guard does not serve is
 *    never read (`not-served`). DescribeKey then gives the key's real ARN, state and manager: placeholders
 *    are filled from that ARN, never from the event alone, and an event whose ARN names another key is
 *    `not-served`.
 * 2. The entry: the manifest walk (aliases and tags read only when an entry needs them), then the sticky
 *    binding (./bindings.ts): a bound key stays bound whatever its aliases and tags say now.
 * 3. Unmanaged keys have their live policy judged by the security rules (./check/unmanaged.ts).
 * 4. Managed keys: state (./check/key-state.ts), policy (alert, dry-run or remediate: ./check/report-drift.ts,
 *    ./check/remediate.ts), grants (./check/grants.ts). Every finding is published as it is made.
 */
import path from 'node:path';
import type { KeyDescription } from '../core/key';
import { describeLocation, formatKeyArn, type KeyArn, parseKeyArn } from '../core/key-arn';
import { resolveEntry } from '../manifest/resolve';
import { scopedManifest } from '../manifest/scope';
import type { ManagedKey } from '../manifest/types';
import { decideBinding, describeBinding } from './bindings';
import { complianceRecordOf } from './check/compliance';
import {
  type CheckContext,
  type CheckKeyDeps,
  type CheckKeyRequest,
  type CheckOutcome,
  publish,
  publishFinding,
  quietOutcome,
  startKeyReads,
  title,
} from './check/context';
import { driftKind, evaluate } from './check/evaluation';
import { checkGrants } from './check/grants';
import { checkKeyState, checkReplicaRegion } from './check/key-state';
import { remediate } from './check/remediate';
import { alertDrift, dryRun } from './check/report-drift';
import { checkUnmanaged } from './check/unmanaged';
import { KeyReferenceError, KeyUnavailableError, KmsAccessDeniedError, StateStoreError } from './errors';
import type { GuardLogger, LogAttributes } from './logger';
import type { KeyBinding } from './ports';

export type { CheckKeyDeps, CheckKeyRequest, CheckOutcome, CheckResult } from './check/context';

/** Key ID, key ARN or alias -> the key's ARN as the request names it (no KMS call for an ARN). */
async function namedKey(deps: CheckKeyDeps, keyRef: string): Promise<KeyArn> {
  const parsed = parseKeyArn(keyRef);
  if (parsed) return parsed;
  let keyId = keyRef;
  if (keyRef.startsWith('alias/')) {
    const target = (await deps.store.listAliases()).get(keyRef);
    if (target === undefined) throw new KeyReferenceError(keyRef, 'no such alias');
    keyId = target;
  } else if (keyRef.startsWith('arn:')) {
    throw new KeyReferenceError(keyRef, 'not a KMS key ARN');
  }
  const arn = deps.defaultLocation
    ? formatKeyArn(deps.defaultLocation, keyId)
    : (await deps.store.describeKey(keyId)).arn;
  const named = parseKeyArn(arn);
  if (!named) throw new KeyReferenceError(keyRef, `KMS answered with ${JSON.stringify(arn)}, not a key ARN`);
  return named;
}

function aliasesOf(targets: ReadonlyMap<string, string>, keyId: string): string[] {
  return [...targets.entries()]
    .filter(([, target]) => target === keyId)
    .map(([alias]) => alias)
    .sort();
}

function repoPath(deps: CheckKeyDeps, managed: ManagedKey): string {
  const absolute = path.resolve(path.dirname(deps.manifest.path), managed.policyFile);
  const relative = path.relative(deps.repoRoot ?? process.cwd(), absolute);
  return relative.split(path.sep).join('/');
}

/**
 * The entry to enforce: the walk's, unless a recorded binding holds the key (then a binding-changed finding).
 * `recordedRead` is the key's binding record, read together with DescribeKey.
 */
async function bindEntry(
  ctx: CheckContext,
  recordedRead: Promise<KeyBinding | undefined>,
): Promise<ManagedKey | undefined> {
  const { deps } = ctx;
  const known = deps.store.peekAliases();
  const resolution = await resolveEntry(deps.manifest, {
    keyId: ctx.keyId,
    keyArn: ctx.keyArn,
    aliases: async () => aliasesOf(await deps.store.listAliases(), ctx.keyId),
    tags: () => deps.store.listResourceTags(ctx.keyId),
  });
  ctx.aliases = resolution.aliases ?? (known ? aliasesOf(known, ctx.keyId) : []);
  const recorded = await recordedRead;
  const decision = decideBinding(deps.manifest, ctx.keyArn, resolution.entry, recorded, ctx.now);
  if (decision.release) {
    await deps.bindings.delete(ctx.keyArn);
    ctx.log('info', 'binding_released', {
      entry: recorded?.entry,
      reason: 'the manifest no longer has that entry and matcher',
    });
  }
  if (decision.write && !ctx.request.readOnly) {
    try {
      await deps.bindings.put(decision.write);
    } catch (error) {
      // A binding that cannot be recorded must not hide the key's drift: the check goes on with the entry
      // its aliases and tags select, and the next check records it. A transient failure is retried instead.
      if (!(error instanceof StateStoreError) || error.retryable) throw error;
      ctx.log('error', 'binding_not_recorded', { entry: decision.write.entry, error: error.message });
    }
  }
  if (decision.entry) ctx.managed = decision.entry;
  if (decision.changed) {
    const { binding, nowMatches } = decision.changed;
    const aliases = resolution.aliases ?? aliasesOf(await deps.store.listAliases(), ctx.keyId);
    const tags = resolution.tags ?? (await deps.store.listResourceTags(ctx.keyId));
    ctx.aliases = aliases;
    await publishFinding(ctx, {
      kind: 'binding-changed',
      severity: 'critical',
      action: 'alerted',
      title: title(ctx, 'binding-changed', 'critical'),
      details: [
        `The key is bound to manifest entry ${binding.entry} by ${describeBinding(binding)} since ${binding.boundAt}, but its aliases and tags ${nowMatches ? `now select entry ${nowMatches}` : 'no longer select any entry'}.`,
        `The guard keeps enforcing ${binding.entry} (same mode, same desired document). Only Git releases a binding: remove the entry or change its matcher in the manifest and deploy.`,
        `Aliases now: ${aliases.join(', ') || '(none)'}. Tags now: ${
          Object.entries(tags)
            .map(([key, value]) => `${key}=${value}`)
            .join(', ') || '(none)'
        }.`,
      ],
      binding: {
        entry: binding.entry,
        boundBy: describeBinding(binding),
        boundAt: binding.boundAt,
        ...(nowMatches ? { nowMatches } : {}),
        aliases,
        tags,
      },
    });
  }
  return decision.entry;
}

/**
 * The guard's own PutKeyPolicy is known by what it intended (docs/architecture.md#write-intents): the
 * SHA-256 of the document CloudTrail recorded must match an open intent. Anything else written with the
 * guard's identity is an impersonation (someone running as the guard role): critical, and the key is then
 * checked like after anyone's change.
 */
async function checkWriteIntent(ctx: CheckContext): Promise<void> {
  const { request } = ctx;
  if (!request.actor?.isGuard || request.eventName !== 'PutKeyPolicy') return;
  const sha = request.writtenPolicySha256;
  if (sha !== undefined && (await ctx.deps.ledger.intended(ctx.keyArn, sha, ctx.now))) return;
  ctx.impersonated = true;
  ctx.log('error', 'guard_impersonated', { writtenPolicySha256: sha });
  await publishFinding(ctx, {
    kind: 'guard-impersonated',
    severity: 'critical',
    action: 'alerted',
    title: title(ctx, 'guard-impersonated', 'critical'),
    details: [
      sha === undefined
        ? "A PutKeyPolicy made with the guard's identity carries no policy document in its CloudTrail record, so the guard cannot tell whether it wrote it."
        : `A PutKeyPolicy made with the guard's identity wrote a document (SHA-256 ${sha}) the guard never intended to write: someone is running as the guard's role (its function's code or configuration, or the role itself).`,
      "Check who can update the drift function's code and configuration and who can assume its role; the key is checked below like after anyone's change.",
    ],
  });
}

async function checkPolicy(ctx: CheckContext, managed: ManagedKey): Promise<CheckOutcome> {
  const evaluation = await evaluate(ctx, managed);
  if (evaluation.comparison.status === 'equivalent') {
    ctx.log(
      'info',
      ctx.request.actor?.isGuard && !ctx.impersonated ? 'guard_change_confirmed' : 'key_in_sync',
      {
        cosmetic: evaluation.comparison.cosmetic.map((difference) => difference.message),
      },
    );
    return quietOutcome(ctx, 'in-sync');
  }
  if (ctx.request.actor?.isGuard && !ctx.impersonated) {
    // The guard's own write, read back different: a stale read or a later change by someone else,
    // which raises its own event. Writing here could start a loop; the audit is the backstop.
    ctx.log('warn', 'guard_event_drift_deferred', { severity: evaluation.comparison.diff.severity });
    return quietOutcome(ctx, 'deferred');
  }
  if (ctx.mode === 'alert') return alertDrift(ctx, evaluation);
  if (ctx.mode === 'dry-run') return dryRun(ctx, evaluation);
  if (driftKind(evaluation) === 'orphaned-principal') return alertDrift(ctx, evaluation);
  return remediate(ctx, evaluation);
}

async function checkManagedKey(ctx: CheckContext, managed: ManagedKey): Promise<CheckOutcome> {
  ctx.mode = ctx.request.modeOverride ?? managed.mode;
  if (ctx.request.readOnly && ctx.mode === 'remediate') ctx.mode = 'dry-run';
  ctx.policyFile = repoPath(ctx.deps, managed);
  await checkReplicaRegion(ctx);
  const readable = await checkKeyState(ctx, managed);
  ctx.checked.push('key-state');
  if (!readable) {
    ctx.log('warn', 'policy_not_checked', { state: ctx.description?.state });
    return quietOutcome(ctx, ctx.findings.length > 0 ? 'published' : 'in-sync');
  }
  const policy = await checkPolicy(ctx, managed);
  if (policy.result !== 'deferred') ctx.checked.push('key-policy');
  await checkGrants(ctx, managed);
  ctx.checked.push('grant');
  const outcome = quietOutcome(
    ctx,
    policy.result === 'in-sync' && ctx.findings.length > 0 ? 'published' : policy.result,
  );
  if (policy.finding) outcome.finding = policy.finding;
  return outcome;
}

/** A KMS error that ends the check with a finding instead of a failed invocation, or undefined. */
function findingForKmsError(ctx: CheckContext, error: unknown): Promise<CheckOutcome> | undefined {
  if (error instanceof KmsAccessDeniedError) {
    ctx.log('error', 'guard_locked_out', { operation: error.operation, error: error.message });
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
    ctx.log('warn', 'key_unavailable', {
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
  return undefined;
}

/** Checks one key; see the module comment. Throws only what must fail the invocation (retryable AWS errors, Publish). */
export async function checkKey(deps: CheckKeyDeps, request: CheckKeyRequest): Promise<CheckOutcome> {
  const now = deps.clock.now();
  const named = await namedKey(deps, request.keyRef);
  const base: LogAttributes = {
    keyId: named.keyId,
    keyArn: named.arn,
    eventId: request.eventId,
    actor: request.actor?.arn,
    trigger: request.trigger,
  };
  const log = (level: keyof GuardLogger, message: string, attributes: LogAttributes = {}): void =>
    deps.logger[level](message, { ...base, ...attributes });
  const ctx: CheckContext = {
    deps,
    request,
    keyArn: named.arn,
    keyId: named.keyId,
    location: named,
    aliases: [],
    mode: request.modeOverride ?? 'alert',
    findings: [],
    checked: [],
    now,
    log,
  };
  // A key of an account or Region this guard does not serve is never read, let alone written.
  if (deps.serves && !deps.serves(named)) {
    log('warn', 'key_not_served', { keyLocation: describeLocation(named) });
    return quietOutcome(ctx, 'not-served');
  }
  let outcome: CheckOutcome;
  try {
    outcome = await checkDescribedKey(ctx, named);
  } catch (error) {
    const reported = findingForKmsError(ctx, error);
    if (!reported) throw error;
    outcome = await reported;
  }
  if (outcome.result !== 'not-served') deps.compliance?.record(complianceRecordOf(ctx));
  return outcome;
}

/** DescribeKey, then the entry, then the key's own checks; every subject looked at to the end is noted. */
async function checkDescribedKey(ctx: CheckContext, named: KeyArn): Promise<CheckOutcome> {
  // Independent reads, asked for at once (docs/architecture.md#the-check): the key's binding record and its
  // live policy go out with DescribeKey, or went out before the check (the drift handler starts them while
  // the event's idempotency record is written). Each is taken only where the check uses it, so a failure
  // surfaces where it always did, and nothing read this way is used for a key DescribeKey does not confirm.
  const reads =
    ctx.request.prefetched?.keyArn === named.arn
      ? ctx.request.prefetched
      : startKeyReads(ctx.deps, named.arn, named.keyId);
  ctx.earlyPolicyRead = reads.policy;
  const description: KeyDescription = await reads.description;
  ctx.description = description;
  if (description.arn !== named.arn) {
    // The request named one key, KMS knows this key ID as another: placeholders would be filled for the
    // wrong account or Region (a forged event). Nothing read for it is used, and nothing is written.
    ctx.log('warn', 'key_not_served', {
      reason: 'the key ARN KMS returns differs from the one the event named',
      kmsArn: description.arn,
    });
    return quietOutcome(ctx, 'not-served');
  }
  // Only the entries whose scope holds the key's account and Region exist for it (docs/manifest.md#scope).
  const manifest = await scopedManifest(ctx.deps.manifest, named, ctx.deps.ousOf);
  if (manifest !== ctx.deps.manifest) ctx.deps = { ...ctx.deps, manifest };
  const managed = await bindEntry(ctx, reads.binding);
  ctx.checked.push('binding');
  await checkWriteIntent(ctx);
  const outcome = managed ? await checkManagedKey(ctx, managed) : await checkUnmanaged(ctx);
  if (!managed && outcome.result !== 'aws-managed') ctx.checked.push('key-policy');
  ctx.checked.push('access');
  return outcome;
}

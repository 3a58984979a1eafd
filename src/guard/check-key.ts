/**
 * checkKey: the one use case behind the drift handler, the audit and the CLI (docs/architecture.md#data-flow).
 * Reads the live key policy, compares it with the desired one from the manifest, and depending on the
 * mode publishes a finding, re-applies the desired document (safely), or describes what it would do.
 *
 * AWS calls are spent only where a decision needs them: a key matched by ID/ARN in alert mode costs
 * GetKeyPolicy (+ Publish when drifted); aliases and tags are fetched only when the manifest walk
 * reaches an alias or tag matcher (and then cached by the store); DescribeKey only right before a write.
 *
 * The steps live in ./check/: context (findings), evaluation, refusals, remediate, report-drift.
 */
import path from 'node:path';
import { formatKeyArn, parseKeyArn } from '../core/key-arn';
import { resolveEntry } from '../manifest';
import type { ManagedKey } from '../manifest/types';
import {
  type CheckContext,
  type CheckKeyDeps,
  type CheckKeyRequest,
  type CheckOutcome,
  publish,
  quietOutcome,
  title,
} from './check/context';
import { driftKind, evaluate } from './check/evaluation';
import { remediate } from './check/remediate';
import { alertDrift, dryRun } from './check/report-drift';
import { KeyReferenceError, KeyUnavailableError, KmsAccessDeniedError } from './errors';
import type { GuardLogger, LogAttributes } from './logger';

export type { CheckKeyDeps, CheckKeyRequest, CheckOutcome, CheckResult } from './check/context';

interface KeyIdentity {
  keyArn: string;
  keyId: string;
}

/** Key ID, key ARN or alias -> key ARN and ID, with as few calls as possible. */
async function identifyKey(deps: CheckKeyDeps, keyRef: string): Promise<KeyIdentity> {
  const parsed = parseKeyArn(keyRef);
  if (parsed) return { keyArn: parsed.arn, keyId: parsed.keyId };
  let keyId = keyRef;
  if (keyRef.startsWith('alias/')) {
    const target = (await deps.store.listAliases()).get(keyRef);
    if (target === undefined) throw new KeyReferenceError(keyRef, 'no such alias');
    keyId = target;
  } else if (keyRef.startsWith('arn:')) {
    throw new KeyReferenceError(keyRef, 'not a KMS key ARN');
  }
  if (deps.defaultLocation) return { keyArn: formatKeyArn(deps.defaultLocation, keyId), keyId };
  const description = await deps.store.describeKey(keyId);
  return { keyArn: description.arn, keyId: description.keyId };
}

function aliasesOf(targets: ReadonlyMap<string, string>, keyId: string): string[] {
  return [...targets.entries()]
    .filter(([, target]) => target === keyId)
    .map(([alias]) => alias)
    .sort();
}

/** The manifest entry for the key (first match wins) and its aliases when they are known without a call. */
async function resolveManagedKey(
  deps: CheckKeyDeps,
  identity: KeyIdentity,
): Promise<{ managed?: ManagedKey; aliases: string[] }> {
  const known = deps.store.peekAliases();
  const resolution = await resolveEntry(deps.manifest, {
    keyId: identity.keyId,
    keyArn: identity.keyArn,
    aliases: async () => aliasesOf(await deps.store.listAliases(), identity.keyId),
    tags: () => deps.store.listResourceTags(identity.keyId),
  });
  const aliases = resolution.aliases ?? (known ? aliasesOf(known, identity.keyId) : []);
  return resolution.entry ? { managed: resolution.entry, aliases } : { aliases };
}

function repoPath(deps: CheckKeyDeps, managed: ManagedKey): string {
  const absolute = path.resolve(path.dirname(deps.manifest.path), managed.policyFile);
  const relative = path.relative(deps.repoRoot ?? process.cwd(), absolute);
  return relative.split(path.sep).join('/');
}

async function checkManagedKey(ctx: CheckContext, managed: ManagedKey): Promise<CheckOutcome> {
  const evaluation = await evaluate(ctx, managed);
  if (evaluation.comparison.status === 'equivalent') {
    ctx.log('info', ctx.request.actor?.isGuard ? 'guard_change_confirmed' : 'key_in_sync', {
      cosmetic: evaluation.comparison.cosmetic.map((difference) => difference.message),
    });
    return quietOutcome(ctx, 'in-sync');
  }
  if (ctx.request.actor?.isGuard) {
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
  const identity = await identifyKey(deps, request.keyRef);
  const location = parseKeyArn(identity.keyArn);
  if (!location) throw new KeyReferenceError(identity.keyArn, 'not a KMS key ARN');
  const base: LogAttributes = {
    keyId: identity.keyId,
    keyArn: identity.keyArn,
    eventId: request.eventId,
    actor: request.actor?.arn,
    trigger: request.trigger,
  };
  const log = (level: keyof GuardLogger, message: string, attributes: LogAttributes = {}): void =>
    deps.logger[level](message, { ...base, ...attributes });
  const ctx: CheckContext = {
    deps,
    request,
    keyArn: identity.keyArn,
    keyId: identity.keyId,
    location,
    aliases: [],
    mode: request.modeOverride ?? 'alert',
    now,
    log,
  };
  try {
    const { managed, aliases } = await resolveManagedKey(deps, identity);
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
    const outcome = findingForKmsError(ctx, error);
    if (outcome) return outcome;
    throw error;
  }
}

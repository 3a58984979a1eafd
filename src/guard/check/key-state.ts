/**
 * The key's state against the manifest (docs/architecture.md#key-state): a managed key scheduled for
 * deletion is always critical; a key disabled (or enabled) against its entry, or its rotation turned
 * off (or on) against a declared `rotation`, is high. In remediate mode the guard cancels the deletion,
 * enables (or disables) the key and restores rotation, in that order. Also: a ReplicateKey into a Region
 * where no guard runs is critical (the replica shares the key material and nothing there watches it).
 */
import type { KeyStateChange } from '../../core/finding';
import type { ManagedKey } from '../../manifest/types';
import { maxSeverity } from '../../policy/diff';
import type { Severity } from '../../policy/types';
import { AwsCallError, KeyUnavailableError, KmsAccessDeniedError } from '../errors';
import { type CheckContext, publishFinding, title } from './context';

interface StateProblem {
  severity: Severity;
  line: string;
  restore: () => Promise<void>;
  restored: string;
}

/** The rotation status when the entry declares one (GetKeyRotationStatus), or why it cannot be read. */
async function rotationStatus(ctx: CheckContext, entry: ManagedKey): Promise<boolean | string | undefined> {
  if (entry.state.rotation === undefined) return undefined;
  try {
    return await ctx.deps.store.getKeyRotationStatus(ctx.keyId);
  } catch (error) {
    // Asymmetric, HMAC and imported-material keys have no automatic rotation: a manifest mistake, not a fault.
    if (error instanceof AwsCallError && error.awsErrorCode === 'UnsupportedOperationException') {
      return `KMS does not rotate this key automatically (${error.message})`;
    }
    // Denied or refused: reported with the key's state; the policy and grants are still checked.
    if (
      error instanceof KmsAccessDeniedError ||
      (error instanceof KeyUnavailableError && error.reason !== 'not-found')
    ) {
      return `the rotation status could not be read (${error.message})`;
    }
    throw error;
  }
}

function problemsOf(
  ctx: CheckContext,
  entry: ManagedKey,
  rotation: boolean | string | undefined,
): StateProblem[] {
  const { store } = ctx.deps;
  const state = ctx.description?.state ?? 'Unknown';
  const problems: StateProblem[] = [];
  if (state === 'PendingDeletion' || state === 'PendingReplicaDeletion') {
    problems.push({
      severity: 'critical',
      line: `The key is scheduled for deletion${ctx.description?.deletionDate ? ` on ${ctx.description.deletionDate}` : ''}: every byte encrypted under it becomes unreadable then.`,
      restore: () => store.cancelKeyDeletion(ctx.keyId),
      restored: 'CancelKeyDeletion: the deletion is cancelled.',
    });
  }
  const disabledAfter = state === 'Disabled' || problems.length > 0;
  if (entry.state.enabled && disabledAfter) {
    problems.push({
      severity: 'high',
      line:
        state === 'Disabled'
          ? 'The key is disabled, but the manifest says it is enabled: nothing can use it.'
          : 'Once the deletion is cancelled the key is disabled; the manifest says it is enabled.',
      restore: () => store.enableKey(ctx.keyId),
      restored: 'EnableKey: the key is enabled again.',
    });
  } else if (!entry.state.enabled && state === 'Enabled') {
    problems.push({
      severity: 'high',
      line: 'The key is enabled, but the manifest says it is disabled: whoever the policy allows can use it again.',
      restore: () => store.disableKey(ctx.keyId),
      restored: 'DisableKey: the key is disabled again.',
    });
  }
  const desired = entry.state.rotation;
  if (typeof rotation === 'string') {
    problems.push({
      severity: 'medium',
      line: `rotation: ${desired ? 'on' : 'off'} is declared, but ${rotation}.`,
      restore: async () => undefined,
      restored: 'Nothing to restore: fix the manifest.',
    });
  } else if (desired !== undefined && rotation !== undefined && rotation !== desired) {
    problems.push({
      severity: desired ? 'high' : 'medium',
      line: `Automatic key rotation is ${rotation ? 'on' : 'off'}, but the manifest says ${desired ? 'on' : 'off'}.`,
      restore: () => store.setKeyRotation(ctx.keyId, desired),
      restored: `${desired ? 'EnableKeyRotation' : 'DisableKeyRotation'}: rotation is ${desired ? 'on' : 'off'} again.`,
    });
  }
  return problems;
}

/**
 * Checks (and in remediate mode restores) the key's state; returns whether the key policy can be checked
 * afterwards (a key still pending deletion is reported, not read).
 */
export async function checkKeyState(ctx: CheckContext, entry: ManagedKey): Promise<boolean> {
  const rotation = await rotationStatus(ctx, entry);
  const problems = problemsOf(ctx, entry, rotation);
  const state = ctx.description?.state ?? 'Unknown';
  if (problems.length === 0) return state !== 'PendingDeletion' && state !== 'PendingReplicaDeletion';
  const severity = maxSeverity(problems.map((problem) => problem.severity));
  const keyState: KeyStateChange = { state, desiredEnabled: entry.state.enabled };
  if (ctx.description?.deletionDate) keyState.deletionDate = ctx.description.deletionDate;
  if (typeof rotation === 'boolean') keyState.rotationEnabled = rotation;
  if (entry.state.rotation !== undefined) keyState.desiredRotation = entry.state.rotation;
  const details = problems.map((problem) => problem.line);
  const remediate = ctx.mode === 'remediate';
  let failed = false;
  if (remediate) {
    // The policy is read on the restored key, not by the read started before the state was known.
    ctx.earlyPolicyRead = undefined;
    for (const problem of problems) {
      try {
        await problem.restore();
        details.push(problem.restored);
      } catch (error) {
        // Denied or refused: what is wrong with the key is still reported, with what the guard could not do.
        const refused =
          error instanceof KmsAccessDeniedError ||
          (error instanceof KeyUnavailableError && error.reason !== 'not-found');
        if (!refused) throw error;
        failed = true;
        details.push(
          `${problem.restored.split(':')[0]} failed: ${error.message}. The guard stopped restoring this key's state; a key administrator must.`,
        );
        ctx.log('error', 'key_state_restore_failed', { error: error.message });
        break;
      }
    }
    if (!failed && ctx.description)
      ctx.description = { ...ctx.description, state: entry.state.enabled ? 'Enabled' : 'Disabled' };
    if (!failed) ctx.log('warn', 'key_state_restored', { state, restored: problems.length });
  } else {
    details.push(
      ctx.mode === 'dry-run'
        ? `Dry-run mode: remediation would ${problems.map((problem) => problem.restored.split(':')[0]).join(', then ')}; the guard changed nothing.`
        : 'Alert mode: the guard changed nothing.',
    );
  }
  await publishFinding(ctx, {
    kind: 'key-state-changed',
    severity,
    action: failed ? 'failed' : remediate ? 'remediated' : 'alerted',
    title: title(ctx, 'key-state-changed', severity),
    details,
    keyState,
  });
  const pending = (ctx.description?.state ?? state).startsWith('Pending');
  return !pending;
}

/** ReplicateKey into a Region where no guard runs: critical, whatever the mode (a replica cannot be undone safely). */
export async function checkReplicaRegion(ctx: CheckContext): Promise<void> {
  const replicaRegion = ctx.request.replicaRegion;
  const guarded = ctx.deps.guardedRegions;
  if (replicaRegion === undefined || guarded === undefined || guarded.includes(replicaRegion)) return;
  await publishFinding(ctx, {
    kind: 'replica-unguarded',
    severity: 'critical',
    action: 'alerted',
    title: title(ctx, 'replica-unguarded', 'critical', ` (${replicaRegion})`),
    details: [
      `The key was replicated into ${replicaRegion}, where no guard runs (guarded Regions: ${guarded.join(', ')}).`,
      'The replica shares the key material: anyone its own key policy allows can decrypt what this key encrypted, and nothing watches that policy.',
      `Deploy the guard to ${replicaRegion} (or add it to the guarded Regions), or schedule the replica's deletion if it was not meant to exist.`,
    ],
    keyState: {
      state: ctx.description?.state ?? 'Unknown',
      desiredEnabled: ctx.managed?.state.enabled ?? true,
      replicaRegion,
    },
  });
}

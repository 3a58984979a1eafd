/**
 * Remediate mode: write the desired document back, safely (docs/architecture.md#remediation-safety).
 * Refusals first (validation, flapping, key state), then PutKeyPolicy, the ledger entry with the
 * overwritten document, and re-reads until the live policy is stable and equivalent.
 */
import { maxSeverity } from '../../policy/diff';
import { KmsAccessDeniedError, PolicyRejectedError } from '../errors';
import { DEFAULT_STABILIZATION, type StabilizationPolicy, waitUntilStable } from '../stabilize';
import { type CheckContext, type CheckOutcome, publish, title } from './context';
import { type Evaluation, evidenceOf, isEquivalentToDesired, widensAccess } from './evaluation';
import {
  flappingOf,
  refusalFromFlapping,
  refusalFromKeyState,
  refusalFromValidation,
  refuse,
} from './refusals';

function stabilizationPolicy(ctx: CheckContext): StabilizationPolicy {
  return { ...DEFAULT_STABILIZATION, ...ctx.deps.stabilization };
}

/** How a person restores the desired policy (the steps the guard takes). */
export function restoreSteps(ctx: CheckContext): string {
  const policy = stabilizationPolicy(ctx);
  return (
    `PutKeyPolicy (policy name "default", BypassPolicyLockoutSafetyCheck false) with the desired document` +
    `${ctx.policyFile ? ` from ${ctx.policyFile}` : ''}, then re-read until ${policy.requiredStableReads} consecutive reads are equivalent (at most ${policy.attempts} reads)`
  );
}

/** Records the re-apply; a ledger failure is reported in the finding, never thrown (see below). */
async function recordReapply(
  ctx: CheckContext,
  evaluation: Evaluation,
): Promise<{ reapplies?: number; ledgerFailure?: string }> {
  // Recorded right after the write, before anything else can fail: the overwritten document is kept.
  // A ledger failure must not fail the invocation: the retried event would find the key in sync and
  // publish nothing, and the overwritten document would be lost. The finding carries it instead.
  try {
    const reapplies = await ctx.deps.ledger.recordReapply(ctx.keyArn, evaluation.livePolicy, ctx.now, {
      eventId: ctx.request.eventId,
      actorArn: ctx.request.actor?.arn,
      desiredPolicy: evaluation.desiredPolicy,
    });
    return { reapplies };
  } catch (error) {
    const ledgerFailure = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    ctx.log('error', 'ledger_write_failed', {
      error: ledgerFailure,
      overwrittenPolicy: evaluation.livePolicy,
    });
    return { ledgerFailure };
  }
}

/** The write happened (or was refused by KMS) but the restore is not confirmed: critical, never silent. */
function notRestored(
  ctx: CheckContext,
  evaluation: Evaluation,
  kind: 'remediation-failed' | 'guard-locked-out',
  details: string[],
): Promise<CheckOutcome> {
  return publish(ctx, {
    kind,
    severity: 'critical',
    action: 'failed',
    title: title(ctx, kind, 'critical'),
    details,
    ...evidenceOf(evaluation),
  });
}

export async function remediate(ctx: CheckContext, evaluation: Evaluation): Promise<CheckOutcome> {
  const early = refusalFromValidation(evaluation) ?? (await refusalFromFlapping(ctx, evaluation));
  if (early) return refuse(ctx, evaluation, early);
  // The state read at the start of this check (and restored by the key-state step when it differed).
  const description = ctx.description ?? (await ctx.deps.store.describeKey(ctx.keyId));
  const stateRefusal = refusalFromKeyState(description);
  if (stateRefusal) return refuse(ctx, evaluation, stateRefusal);
  // Past the flapping limit, widening drift is still restored (refusalFromFlapping let it through).
  const fighting = widensAccess(evaluation) ? await flappingOf(ctx) : undefined;

  try {
    await ctx.deps.store.putKeyPolicy(ctx.keyId, evaluation.desiredPolicy);
  } catch (error) {
    if (!(error instanceof PolicyRejectedError)) throw error;
    return notRestored(ctx, evaluation, 'remediation-failed', [
      `KMS refused the desired policy (${error.awsErrorCode ?? 'error'}): ${error.message}`,
      'The live policy was not changed.',
    ]);
  }
  const { reapplies, ledgerFailure } = await recordReapply(ctx, evaluation);
  ctx.log('info', 'desired_policy_written', { reapplies });

  const policy = stabilizationPolicy(ctx);
  let stabilization: Awaited<ReturnType<typeof waitUntilStable>>;
  try {
    stabilization = await waitUntilStable(
      () => ctx.deps.store.getKeyPolicy(ctx.keyId),
      (live) => isEquivalentToDesired(ctx, evaluation, live),
      ctx.deps.clock,
      policy,
    );
  } catch (error) {
    if (!(error instanceof KmsAccessDeniedError)) throw error;
    return notRestored(ctx, evaluation, 'guard-locked-out', [
      `PutKeyPolicy succeeded, but re-reading the policy was then denied: ${error.message}`,
      'The overwritten document is in livePolicy and in the remediation ledger.',
    ]);
  }
  ctx.log('info', 'stabilization_finished', { ...stabilization, lastLive: undefined });
  if (!stabilization.stable) {
    return notRestored(ctx, evaluation, 'remediation-failed', [
      `PutKeyPolicy succeeded, but after ${stabilization.reads} reads the live policy was not ${policy.requiredStableReads} times in a row equivalent to the desired one (${stabilization.staleReads} differing reads, ${stabilization.failedReads} failed reads): someone may be changing it concurrently.`,
      'The guard did not write again. The overwritten document is in livePolicy and in the remediation ledger.',
    ]);
  }
  const severity = fighting ? 'critical' : maxSeverity([evaluation.comparison.diff.severity, 'low']);
  const kind = fighting ? 'flapping' : 'remediated';
  const { flapping } = ctx.deps.manifest;
  return publish(ctx, {
    kind,
    severity,
    action: 'remediated',
    title: title(ctx, kind, severity, fighting ? ': restored again' : ''),
    details: [
      `The guard restored the desired policy${ctx.policyFile ? ` from ${ctx.policyFile}` : ''} and confirmed it with ${policy.requiredStableReads} consecutive equivalent reads (${stabilization.reads} reads, ${stabilization.staleReads} stale).`,
      ...(fighting
        ? [
            `This is re-apply number ${reapplies ?? fighting.count + 1} in the last ${fighting.windowMinutes} minutes (limit ${fighting.maxReapplies}): a person or an automation is fighting the guard. Drift that widens access is restored every time; find and stop whatever keeps writing this policy.`,
          ]
        : []),
      ledgerFailure === undefined
        ? `Re-applies of this key in the last ${flapping.windowMinutes} minutes: ${reapplies} (limit ${flapping.maxReapplies}).`
        : `The remediation ledger could not record this re-apply (${ledgerFailure}): the flapping count misses it.`,
      ledgerFailure === undefined
        ? 'The overwritten document is kept verbatim in livePolicy and in the remediation ledger.'
        : 'The overwritten document is kept verbatim in livePolicy (and in the log line ledger_write_failed).',
    ],
    ...evidenceOf(evaluation),
  });
}

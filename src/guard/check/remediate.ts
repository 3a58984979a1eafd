/**
 * Remediate mode: write the desired document back, safely (docs/architecture.md#remediation-safety).
 * Refusals first (validation, flapping, key state), then the live policy read again while the write-ahead
 * records (the ledger entry with the overwritten document, which is also the write intent, and the held
 * finding) are written, PutKeyPolicy,
 * and re-reads until the live policy is stable and equivalent.
 */
import type { Finding } from '../../core/finding';
import { maxSeverity } from '../../policy/diff';
import { KmsAccessDeniedError, PolicyRejectedError } from '../errors';
import { DEFAULT_STABILIZATION, type StabilizationPolicy, waitUntilStable } from '../stabilize';
import { buildFinding, type CheckContext, type CheckOutcome, publish, quietOutcome, title } from './context';
import { type Evaluation, evidenceOf, isEquivalentToDesired, widensAccess, withLive } from './evaluation';
import {
  type Flapping,
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

/** The finding a restore is expected to end in, held in the outbox before the write (same ID as the final one). */
function draftFinding(ctx: CheckContext, evaluation: Evaluation, details: string[]): Finding {
  const severity = maxSeverity([evaluation.comparison.diff.severity, 'low']);
  return buildFinding(ctx, {
    kind: 'remediated',
    severity,
    action: 'remediated',
    title: title(ctx, 'remediated', severity, ' (not yet confirmed)'),
    details,
    ...evidenceOf(evaluation),
  });
}

/** The first failure of writes that were all awaited, in the order given; nothing when every one succeeded. */
function firstFailure(results: PromiseSettledResult<void>[]): void {
  for (const result of results) if (result.status === 'rejected') throw result.reason;
}

/**
 * Everything that must be durable before PutKeyPolicy (docs/architecture.md#outbox): the overwritten
 * document in the ledger, whose entry also names the desired document about to be written (the write
 * intent: the guard's own CloudTrail event is recognised by what it wrote), and the finding this restore
 * will end in, held in the outbox (so a crash after the write still tells someone). The two records do not
 * depend on each other, so they are written at once, and both are awaited: any failure throws here, before
 * anything is written; the event is retried.
 */
async function prepareWrite(
  ctx: CheckContext,
  evaluation: Evaluation,
  overwritten: string,
  at: Date = ctx.now,
): Promise<void> {
  const { deps } = ctx;
  firstFailure(
    await Promise.allSettled([
      deps.ledger.append(ctx.keyArn, overwritten, at, {
        eventId: ctx.request.eventId,
        actorArn: ctx.request.actor?.arn,
        desiredPolicy: evaluation.desiredPolicy,
      }),
      deps.outbox.hold(
        draftFinding(ctx, evaluation, [
          `The guard began restoring the desired policy${ctx.policyFile ? ` from ${ctx.policyFile}` : ''} at ${ctx.now.toISOString()}, but the check stopped before it confirmed the restore (before or after PutKeyPolicy); the next event or audit checks the key again.`,
          'The document a restore overwrites is kept verbatim in livePolicy and recorded in the remediation ledger before the write.',
        ]),
      ),
    ]),
  );
}

/**
 * What is overwritten is what is recorded (docs/architecture.md#remediation-safety): the live policy is read again while
 * the write-ahead records of the first read are written, so the write follows one round trip after the first
 * read instead of two. Nearly always the re-read finds the document recorded, and the write goes ahead. When it
 * finds another (a change between the two reads), that document is recorded too, as a ledger entry of its own
 * (a later time: both documents were live, both were overwritten), and the held finding carries it, before the
 * write; when it finds the desired policy back, nothing is written and the held finding is withdrawn (the ledger
 * keeps the first document's entry: it is append-only). Every
 * record and the re-read are awaited: any failure throws before the write, and the event is retried.
 * Returns the evaluation to write on, or undefined when the key is back in its desired state.
 */
async function recordBeforeWrite(ctx: CheckContext, evaluation: Evaluation): Promise<Evaluation | undefined> {
  const [reread, prepared] = await Promise.allSettled([
    ctx.deps.store.getKeyPolicy(ctx.keyId),
    prepareWrite(ctx, evaluation, evaluation.livePolicy),
  ]);
  if (prepared.status === 'rejected') throw prepared.reason;
  if (reread.status === 'rejected') throw reread.reason;
  const overwritten = reread.value;
  if (overwritten === evaluation.livePolicy) return evaluation;
  ctx.log('warn', 'live_policy_changed_before_write', {});
  if (isEquivalentToDesired(ctx, evaluation, overwritten)) {
    await ctx.deps.outbox.delivered(draftFinding(ctx, evaluation, []));
    return undefined;
  }
  const current = withLive(ctx, evaluation, overwritten);
  await prepareWrite(ctx, current, overwritten, laterThan(ctx.now, ctx.deps.clock.now()));
  return current;
}

/** `candidate`, or one millisecond after `earlier` when the clock has not moved past it (a ledger entry's time is part of its key). */
function laterThan(earlier: Date, candidate: Date): Date {
  return candidate.getTime() > earlier.getTime() ? candidate : new Date(earlier.getTime() + 1);
}

export async function remediate(ctx: CheckContext, evaluation: Evaluation): Promise<CheckOutcome> {
  // Widening drift is restored whatever the flapping count says, so only other drift reads it here; a
  // restore counts its re-applies after the write (confirm), outside the window of exposure.
  const early = refusalFromValidation(evaluation) ?? (await refusalFromFlapping(ctx, evaluation));
  if (early) return refuse(ctx, evaluation, early);
  // The state read at the start of this check (and restored by the key-state step when it differed).
  const description = ctx.description ?? (await ctx.deps.store.describeKey(ctx.keyId));
  const stateRefusal = refusalFromKeyState(description);
  if (stateRefusal) return refuse(ctx, evaluation, stateRefusal);

  const current = await recordBeforeWrite(ctx, evaluation);
  if (current === undefined) return quietOutcome(ctx, 'in-sync');
  try {
    await ctx.deps.store.putKeyPolicy(ctx.keyId, current.desiredPolicy);
  } catch (error) {
    if (!(error instanceof PolicyRejectedError)) throw error;
    await ctx.deps.outbox.delivered(draftFinding(ctx, current, []));
    return notRestored(ctx, current, 'remediation-failed', [
      `KMS refused the desired policy (${error.awsErrorCode ?? 'error'}): ${error.message}`,
      'The live policy was not changed.',
    ]);
  }
  ctx.log('info', 'desired_policy_written', {});
  return confirm(ctx, current);
}

/** Widening drift restored past the flapping limit: a fight with whoever keeps writing it. */
function fightOf(ctx: CheckContext, evaluation: Evaluation, reapplies: number): Flapping | undefined {
  const { maxReapplies, windowMinutes } = ctx.deps.manifest.flapping;
  // `reapplies` includes this restore: the ones before it reached the limit.
  const before = reapplies - 1;
  return widensAccess(evaluation) && before >= maxReapplies
    ? { count: before, maxReapplies, windowMinutes }
    : undefined;
}

async function confirm(ctx: CheckContext, evaluation: Evaluation): Promise<CheckOutcome> {
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
    await ctx.deps.outbox.delivered(draftFinding(ctx, evaluation, []));
    return notRestored(ctx, evaluation, 'guard-locked-out', [
      `PutKeyPolicy succeeded, but re-reading the policy was then denied: ${error.message}`,
      'The overwritten document is in livePolicy and in the remediation ledger.',
    ]);
  }
  ctx.log('info', 'stabilization_finished', { ...stabilization, lastLive: undefined });
  if (!stabilization.stable) {
    await ctx.deps.outbox.delivered(draftFinding(ctx, evaluation, []));
    return notRestored(ctx, evaluation, 'remediation-failed', [
      `PutKeyPolicy succeeded, but after ${stabilization.reads} reads the live policy was not ${policy.requiredStableReads} times in a row equivalent to the desired one (${stabilization.staleReads} differing reads, ${stabilization.failedReads} failed reads): someone may be changing it concurrently.`,
      'The guard did not write again. The overwritten document is in livePolicy and in the remediation ledger.',
    ]);
  }
  const reapplies = await ctx.deps.ledger.reapplyCount(ctx.keyArn, ctx.now);
  const fighting = fightOf(ctx, evaluation, reapplies);
  const severity = fighting ? 'critical' : maxSeverity([evaluation.comparison.diff.severity, 'low']);
  const kind = fighting ? 'flapping' : 'remediated';
  if (fighting) await ctx.deps.outbox.delivered(draftFinding(ctx, evaluation, []));
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
            `This is re-apply number ${reapplies} in the last ${fighting.windowMinutes} minutes (limit ${fighting.maxReapplies}): a person or an automation is fighting the guard. Drift that widens access is restored every time; find and stop whatever keeps writing this policy.`,
          ]
        : []),
      `Re-applies of this key in the last ${flapping.windowMinutes} minutes: ${reapplies} (limit ${flapping.maxReapplies}).`,
      'The overwritten document is kept verbatim in livePolicy and in the remediation ledger (recorded before the write).',
    ],
    ...evidenceOf(evaluation),
  });
}

/**
 * KMS is eventually consistent after PutKeyPolicy: a GetKeyPolicy right after the write may still
 * return the old document. Success is declared only after `requiredStableReads` consecutive reads
 * equivalent to the desired document. Reads that are still stale are waited out, never answered
 * with another write: a second write would race the first and could itself be read back stale.
 */
import { RetryableAwsError } from './errors';
import type { Clock } from './ports';

export interface StabilizationPolicy {
  /** Reads at most (after the write). */
  attempts: number;
  /** Wait before the first read; doubles after each read, up to `maxDelayMs`. */
  delayMs: number;
  /** Consecutive equivalent reads needed to call the policy stable. */
  requiredStableReads: number;
  maxDelayMs?: number;
}

/** About 8 s of waiting at worst: well inside the drift Lambda's timeout. */
export const DEFAULT_STABILIZATION: StabilizationPolicy = {
  attempts: 6,
  delayMs: 250,
  requiredStableReads: 2,
  maxDelayMs: 2000,
};

export interface StabilizationResult {
  stable: boolean;
  /** Reads made. */
  reads: number;
  /** Reads that were not (yet) equivalent to the desired document. */
  staleReads: number;
  /** Reads that failed with a transient error (counted as not stable, not thrown). */
  failedReads: number;
  /** The last document read, when any read succeeded. */
  lastLive?: string;
}

/** The wait before read number `index` (0-based): delayMs, 2×, 4×, … capped at maxDelayMs. */
export function stabilizationDelay(policy: StabilizationPolicy, index: number): number {
  const delay = policy.delayMs * 2 ** index;
  return Math.min(delay, policy.maxDelayMs ?? Number.POSITIVE_INFINITY);
}

/**
 * Re-reads until `requiredStableReads` consecutive reads are equivalent, or the attempts run out.
 * A transient read failure counts as a non-stable read; any other error (e.g. access denied) is thrown.
 */
export async function waitUntilStable(
  read: () => Promise<string>,
  isEquivalent: (live: string) => boolean,
  clock: Clock,
  policy: StabilizationPolicy,
): Promise<StabilizationResult> {
  const result: StabilizationResult = { stable: false, reads: 0, staleReads: 0, failedReads: 0 };
  let consecutive = 0;
  for (let index = 0; index < policy.attempts; index += 1) {
    await clock.sleep(stabilizationDelay(policy, index));
    result.reads += 1;
    let live: string;
    try {
      live = await read();
    } catch (error) {
      if (!(error instanceof RetryableAwsError)) throw error;
      result.failedReads += 1;
      consecutive = 0;
      continue;
    }
    result.lastLive = live;
    if (isEquivalent(live)) {
      consecutive += 1;
      if (consecutive >= policy.requiredStableReads) {
        result.stable = true;
        return result;
      }
    } else {
      result.staleReads += 1;
      consecutive = 0;
    }
  }
  return result;
}

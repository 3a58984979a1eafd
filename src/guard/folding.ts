/**
 * Repeated LOW findings of one key are folded (docs/architecture.md#alerts-by-severity): within the fold
 * window only the first one of a key and kind is published; the next one after the window says how many
 * were folded. An attacker who makes one key produce a stream of low findings cannot bury anything, and a
 * person gets one message per key and kind per window, not one per event. Other severities pass untouched.
 */
import type { Finding } from '../core/finding';
import type { FindingPublisher } from './ports';

/** One hour: the audit's default schedule, so a LOW finding the audit repeats every hour still appears hourly. */
export const DEFAULT_FOLD_WINDOW_MS = 60 * 60 * 1000;

export interface FoldClaim {
  /** Publish this finding (the first of its key and kind in the window). */
  publish: boolean;
  /** Findings of this key and kind folded in the previous window (said in the one published now). */
  foldedBefore: number;
}

/** Remembers, per key and kind, when the fold window started and how many findings it folded. */
export interface FoldStore {
  /**
   * Claims the window of `foldKey` for finding `findingId`. The finding that opened a window may claim it
   * again (a retried publish after SNS failed): it is published again, never folded into itself.
   */
  claim(foldKey: string, findingId: string, at: Date, windowMs: number): Promise<FoldClaim>;
}

/**
 * Only LOW findings of events are folded: a stream of events is what an attacker (or a noisy pipeline) can
 * produce at will. An audit's findings come once per run and form its report; they are never folded.
 */
export function isFoldable(finding: Finding): boolean {
  return finding.severity === 'low' && finding.trigger === 'event' && finding.keyId !== '*';
}

export class FoldingPublisher implements FindingPublisher {
  constructor(
    private readonly inner: FindingPublisher,
    private readonly folds: FoldStore,
    private readonly now: () => Date,
    private readonly windowMs: number = DEFAULT_FOLD_WINDOW_MS,
  ) {}

  async publish(finding: Finding): Promise<void> {
    if (!isFoldable(finding)) return this.inner.publish(finding);
    const claim = await this.folds.claim(
      `${finding.keyArn}#${finding.kind}`,
      finding.id,
      this.now(),
      this.windowMs,
    );
    if (!claim.publish) return;
    if (claim.foldedBefore === 0) return this.inner.publish(finding);
    const minutes = Math.round(this.windowMs / 60_000);
    return this.inner.publish({
      ...finding,
      details: [
        ...finding.details,
        `${claim.foldedBefore} more ${finding.kind} finding(s) of this key were folded into the previous one within ${minutes} minutes.`,
      ],
    });
  }
}

export class InMemoryFoldStore implements FoldStore {
  private readonly windows = new Map<
    string,
    { start: number; folded: number; openedBy: string; foldedBefore: number }
  >();

  async claim(foldKey: string, findingId: string, at: Date, windowMs: number): Promise<FoldClaim> {
    const window = this.windows.get(foldKey);
    if (window?.openedBy === findingId) return { publish: true, foldedBefore: window.foldedBefore };
    if (!window || at.getTime() - window.start >= windowMs) {
      const foldedBefore = window?.folded ?? 0;
      this.windows.set(foldKey, { start: at.getTime(), folded: 0, openedBy: findingId, foldedBefore });
      return { publish: true, foldedBefore };
    }
    window.folded += 1;
    return { publish: false, foldedBefore: 0 };
  }
}

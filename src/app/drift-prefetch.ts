/**
 * The drift function's first reads of a PutKeyPolicy event's key, started while the event's idempotency record is
 * written (docs/architecture.md#the-check): DescribeKey, the key's binding record and its policy change nothing,
 * so they need not wait for that write, and the window of exposure of a restore is one round trip shorter
 * (docs/benchmarks.md#window-of-exposure). Nothing else moves: every write, publish and finding still comes after
 * the idempotency record, and checkKey uses these reads only for the key it confirms, where it would have read
 * them itself. A duplicate answered from its record drops them unread (three reads, no effect).
 *
 * Only the guard's own account and Region (never a hub's routed locations, which are checked only after routing),
 * and only keys this guard serves, are read early.
 */
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { type KeyLocation, parseKeyArn, partitionOfRegion, sameLocation } from '../core/key-arn';
import { type PrefetchedReads, startKeyReads } from '../guard/check/context';
import type { CheckKeyDeps } from '../guard/check-key';
import { type ClassifyOptions, classifyKmsEvent } from '../guard/event';
import { functionLocation } from './function-location';

/** The account and Region this guard serves: its own function's account (never the event's, which a forwarder may rewrite). */
export function ownLocation(
  region: string,
  context: Context | undefined,
  recipientAccountId: string,
): KeyLocation {
  const accountId = functionLocation(context)?.accountId ?? recipientAccountId;
  return { partition: partitionOfRegion(region), region, accountId };
}

export interface DriftPrefetchDeps extends Pick<CheckKeyDeps, 'store' | 'bindings' | 'serves'> {
  region: string;
}

export class DriftPrefetch {
  readonly #reads = new WeakMap<object, PrefetchedReads>();

  constructor(
    private readonly deps: DriftPrefetchDeps,
    private readonly classifyOptions: ClassifyOptions,
  ) {}

  /** Runs before the idempotency middleware: starts the reads, never awaits them, never throws. */
  middleware(): MiddlewareObj<unknown, unknown, Error, Context> {
    return {
      before: (request) => {
        const { event, context } = request;
        if (typeof event !== 'object' || event === null) return;
        const reads = this.#start(event, context);
        if (reads) this.#reads.set(event, reads);
      },
    };
  }

  /** The reads started for this event's key, once; undefined for another key or an event not read early. */
  take(event: unknown, keyArn: string): PrefetchedReads | undefined {
    if (typeof event !== 'object' || event === null) return undefined;
    const reads = this.#reads.get(event);
    if (reads?.keyArn !== keyArn) return undefined;
    this.#reads.delete(event);
    return reads;
  }

  #start(event: object, context: Context | undefined): PrefetchedReads | undefined {
    const classified = classifyKmsEvent(event, this.classifyOptions);
    if (classified.outcome !== 'check' || classified.eventName !== 'PutKeyPolicy') return undefined;
    const key = classified.keyRef === undefined ? undefined : parseKeyArn(classified.keyRef);
    if (key === undefined) return undefined;
    const served = ownLocation(this.deps.region, context, classified.recipientAccountId);
    const serves = this.deps.serves ?? ((location: KeyLocation) => sameLocation(location, served));
    if (!serves(key)) return undefined;
    return startKeyReads(this.deps, key.arn, key.keyId);
  }
}

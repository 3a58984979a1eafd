/**
 * A small worker pool: at most `limit` tasks in flight, items taken in order. No dependency: the
 * audit needs nothing more than this, and owning it keeps the bound easy to prove in tests.
 */

export interface PoolOptions {
  /** Checked before each item is started; false leaves the rest of the items unstarted. */
  shouldStart?: () => boolean;
}

export interface PoolResult {
  /** How many items were started (the first `started` items, in order). */
  started: number;
}

export class ConcurrencyLimitError extends Error {
  override readonly name = 'ConcurrencyLimitError';
}

/**
 * Runs `worker` over `items` with at most `limit` calls in flight. A worker that throws does not stop
 * the pool (the audit records each key's failure itself); this resolves once every started worker has
 * settled, and never rejects because of a worker.
 */
export async function runPool<T>(
  items: readonly T[],
  limit: number,
  worker: (item: T, index: number) => Promise<void>,
  options: PoolOptions = {},
): Promise<PoolResult> {
  if (!Number.isInteger(limit) || limit < 1) {
    throw new ConcurrencyLimitError(`concurrency must be a positive integer, got ${limit}`);
  }
  let next = 0;
  let stopped = false;
  const lane = async (): Promise<void> => {
    while (!stopped && next < items.length) {
      if (options.shouldStart && !options.shouldStart()) {
        stopped = true;
        return;
      }
      const index = next;
      next += 1;
      const item = items[index] as T;
      try {
        await worker(item, index);
      } catch {
        // The worker owns its error reporting; one failed item must not strand the others.
      }
    }
  };
  const lanes = Array.from({ length: Math.min(limit, items.length) }, () => lane());
  await Promise.all(lanes);
  return { started: next };
}

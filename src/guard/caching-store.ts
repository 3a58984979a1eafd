/**
 * A KeyPolicyStore decorator that remembers the two lookups a manifest walk repeats: the account's
 * alias list (ListAliases) and each key's tags (ListResourceTags). Policies and key state are never
 * cached: every decision reads them fresh.
 *
 * The drift Lambda keeps one per container with a short time to live; an audit makes one per run
 * (entries never expire inside the run) and primes it with the alias list it has already read.
 * Failed lookups are not remembered, so the next caller tries again and reports what it means.
 */
import { DelegatingKeyStore } from './delegating-store';
import type { Clock, KeyPolicyStore } from './ports';

export const DEFAULT_LOOKUP_TTL_MS = 60_000;

interface Cached<T> {
  value: Promise<T>;
  expiresAt: number;
}

export class CachingKeyStore extends DelegatingKeyStore {
  private aliases: Cached<Map<string, string>> | undefined;
  /** The alias list of `aliases` once its promise has settled successfully. */
  private settledAliases: Map<string, string> | undefined;
  private readonly tags = new Map<string, Cached<Record<string, string>>>();

  constructor(
    inner: KeyPolicyStore,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly ttlMs: number = DEFAULT_LOOKUP_TTL_MS,
  ) {
    super(inner);
  }

  /** The store without this cache (an audit reads every listing fresh, then caches for its own run). */
  get source(): KeyPolicyStore {
    return this.inner;
  }

  /** Forgets one key's tags (after a tag change the guard must see at once). */
  forgetTags(keyId: string): void {
    this.tags.delete(keyId);
  }

  override async listAliases(): Promise<Map<string, string>> {
    const now = this.clock.now().getTime();
    if (!this.aliases || this.aliases.expiresAt <= now) {
      const value = this.inner.listAliases();
      const entry = { value, expiresAt: now + this.ttlMs };
      this.aliases = entry;
      this.settledAliases = undefined;
      value.then(
        (targets) => {
          if (this.aliases === entry) this.settledAliases = targets;
        },
        () => {
          if (this.aliases === entry) this.aliases = undefined;
        },
      );
    }
    // A copy: callers may not change what the next caller sees.
    return new Map(await this.aliases.value);
  }

  override async listResourceTags(keyId: string): Promise<Record<string, string>> {
    const now = this.clock.now().getTime();
    let entry = this.tags.get(keyId);
    if (!entry || entry.expiresAt <= now) {
      const value = this.inner.listResourceTags(keyId);
      const fresh = { value, expiresAt: now + this.ttlMs };
      entry = fresh;
      this.tags.set(keyId, fresh);
      value.catch(() => {
        if (this.tags.get(keyId) === fresh) this.tags.delete(keyId);
      });
    }
    return { ...(await entry.value) };
  }

  /** The alias list when it is cached and fresh, without any call; undefined otherwise. */
  peekAliases(): ReadonlyMap<string, string> | undefined {
    return this.aliases && this.aliases.expiresAt > this.clock.now().getTime()
      ? this.settledAliases
      : undefined;
  }

  /** Remembers an alias list read elsewhere (the audit's own listing) as if this store had read it. */
  primeAliases(targets: ReadonlyMap<string, string>): void {
    this.settledAliases = new Map(targets);
    this.aliases = {
      value: Promise.resolve(new Map(targets)),
      expiresAt: this.clock.now().getTime() + this.ttlMs,
    };
  }

  /** Forgets every lookup (after a change the guard must see at once, such as an alias move). */
  forget(): void {
    this.aliases = undefined;
    this.settledAliases = undefined;
    this.tags.clear();
  }
}

/**
 * The one manifest walk: which entry manages a key. Entries are tried in order and the first match
 * wins (the loader rejects entries that could select the same key by the same kind of matcher).
 * Aliases and tags cost a KMS call each, so the walk asks for them only when it reaches an entry
 * that matches by alias or by tag, and at most once. The drift guard, the audit, the CLI and the demo
 * all resolve keys through here.
 */
import type { KeyMetadata } from '../core/key';
import { matchesKey } from './match';
import type { LoadedManifest, ManagedKey } from './types';

/** A key as the walk sees it: its identity, and lazy lookups of what alias and tag matchers need. */
export interface KeyFacts {
  keyId: string;
  keyArn: string;
  aliases(): Promise<readonly string[]>;
  tags(): Promise<Readonly<Record<string, string>>>;
}

export interface Resolution {
  entry?: ManagedKey;
  /** The key's aliases, when the walk had to read them. */
  aliases?: string[];
  /** The key's tags, when the walk had to read them. */
  tags?: Record<string, string>;
}

/** The first entry whose matcher selects the key; reads aliases and tags only when an entry needs them. */
export async function resolveEntry(
  manifest: Pick<LoadedManifest, 'keys'>,
  facts: KeyFacts,
): Promise<Resolution> {
  const resolution: Resolution = {};
  const known: KeyMetadata = {
    keyId: facts.keyId,
    arn: facts.keyArn,
    state: 'Unknown',
    manager: 'CUSTOMER',
    multiRegion: false,
    aliases: [],
    tags: {},
  };
  for (const entry of manifest.keys) {
    if (entry.match.alias !== undefined && resolution.aliases === undefined) {
      resolution.aliases = [...(await facts.aliases())];
      known.aliases = resolution.aliases;
    }
    if (entry.match.tag !== undefined && resolution.tags === undefined) {
      resolution.tags = { ...(await facts.tags()) };
      known.tags = resolution.tags;
    }
    if (matchesKey(entry.match, known)) {
      resolution.entry = entry;
      return resolution;
    }
  }
  return resolution;
}

/** KeyFacts for a key whose aliases and tags are already known (the demo, tests). */
export function factsOf(key: Pick<KeyMetadata, 'keyId' | 'arn' | 'aliases' | 'tags'>): KeyFacts {
  return {
    keyId: key.keyId,
    keyArn: key.arn,
    aliases: async () => key.aliases,
    tags: async () => key.tags,
  };
}

/**
 * Which keys an audit checks: the keys manifest entries name directly (ID, ARN, alias), and, when
 * unmanaged keys are reported or an entry matches by tag, every key the account lists. Also learns
 * the account and Region (so key IDs become ARNs without a DescribeKey per key) and drops keys of
 * other accounts or Regions, which the guard deployed there audits.
 */
import { formatKeyArn, type KeyLocation, parseKeyArn, sameLocation } from '../../core/key-arn';
import { describeMatcher } from '../../manifest/match';
import { type OusOf, scopedManifest } from '../../manifest/scope';
import type { LoadedManifest, ManagedKey } from '../../manifest/types';
import type { BindingStore, KeyPolicyStore } from '../ports';
import { errorMessage } from './report';

/** Keys whose ID DescribeKey may be tried on to learn the account, before giving up. */
const LOCATION_PROBES = 5;

/** One key the audit will check: from a manifest matcher, or from the account's key listing. */
export interface Candidate {
  keyId: string;
  /** Set when the manifest names the key by ARN. */
  keyArn?: string;
  /** The entry that named the key directly (ID, ARN, alias); absent for listed keys. */
  namedBy?: ManagedKey;
  /** The entry a recorded binding holds the key to (whatever its aliases and tags say now). */
  boundTo?: string;
}

export interface Inventory {
  /** Alias -> key ID, for every alias of the account. */
  aliasTargets: Map<string, string>;
  /** Key ID -> candidate, in the order they were found. */
  candidates: Map<string, Candidate>;
  location?: KeyLocation;
  /** Set when the listings (or learning the location) failed: nothing can be checked. */
  failure?: unknown;
  /** Manifest entries naming an alias no key has here. */
  notes: string[];
  /** The manifest as this account and Region see it: the entries whose scope holds them. */
  manifest: LoadedManifest;
}

type AuditLog = (
  level: 'info' | 'warn' | 'error',
  message: string,
  attributes?: Record<string, unknown>,
) => void;

function namedCandidates(manifest: LoadedManifest, aliasTargets: Map<string, string>, notes: string[]) {
  const candidates = new Map<string, Candidate>();
  for (const entry of manifest.keys) {
    const { match } = entry;
    if (match.keyId !== undefined && !candidates.has(match.keyId)) {
      candidates.set(match.keyId, { keyId: match.keyId, namedBy: entry });
    } else if (match.keyArn !== undefined) {
      const keyId = parseKeyArn(match.keyArn)?.keyId ?? match.keyArn;
      if (!candidates.has(keyId)) candidates.set(keyId, { keyId, keyArn: match.keyArn, namedBy: entry });
    } else if (match.alias !== undefined) {
      const keyId = aliasTargets.get(match.alias);
      if (keyId === undefined) {
        // Not a failure of the audit: the manifest names an alias this account/Region does not have.
        notes.push(`manifest entry ${entry.name}: no key has ${describeMatcher(match)} here`);
      } else if (!candidates.has(keyId)) {
        candidates.set(keyId, { keyId, namedBy: entry });
      }
    }
  }
  return candidates;
}

async function learnLocation(
  store: KeyPolicyStore,
  candidates: Map<string, Candidate>,
  log: AuditLog,
): Promise<KeyLocation | undefined> {
  const probes = [...candidates.values()].filter((candidate) => candidate.keyArn === undefined);
  for (const candidate of probes.slice(0, LOCATION_PROBES)) {
    try {
      const parsed = parseKeyArn((await store.describeKey(candidate.keyId)).arn);
      if (parsed) return { partition: parsed.partition, region: parsed.region, accountId: parsed.accountId };
    } catch (error) {
      log('warn', 'audit_location_probe_failed', { keyId: candidate.keyId, error: errorMessage(error) });
    }
  }
  if (probes.length > 0)
    throw new Error('DescribeKey failed on every key tried: the account and Region are unknown');
  return undefined;
}

export async function takeInventory(
  store: KeyPolicyStore,
  bindings: BindingStore,
  manifest: LoadedManifest,
  options: { listAllKeys: boolean; location?: KeyLocation; ousOf?: OusOf },
  log: AuditLog,
): Promise<Inventory> {
  const notes: string[] = [];
  const inventory: Inventory = { aliasTargets: new Map(), candidates: new Map(), notes, manifest };
  if (options.location) inventory.location = options.location;
  let listedKeyIds: string[];
  try {
    inventory.aliasTargets = await store.listAliases();
    listedKeyIds = options.listAllKeys ? await store.listKeyIds() : [];
  } catch (error) {
    inventory.failure = error;
    return inventory;
  }
  if (inventory.location === undefined) {
    try {
      // Any entry's key will do to learn where we are; scope is applied once the location is known.
      const probes = namedCandidates(manifest, inventory.aliasTargets, []);
      for (const keyId of listedKeyIds) if (!probes.has(keyId)) probes.set(keyId, { keyId });
      const learnt = await learnLocation(store, probes, log);
      if (learnt) inventory.location = learnt;
    } catch (error) {
      inventory.failure = error;
      return inventory;
    }
  }
  const here = inventory.location;
  if (here) {
    try {
      inventory.manifest = await scopedManifest(manifest, here, options.ousOf);
    } catch (error) {
      inventory.failure = error;
      return inventory;
    }
  }
  const candidates = namedCandidates(inventory.manifest, inventory.aliasTargets, notes);
  for (const keyId of listedKeyIds) if (!candidates.has(keyId)) candidates.set(keyId, { keyId });
  inventory.candidates = candidates;
  if (here) {
    // Bound keys are audited whatever their aliases and tags say now; a binding whose key is gone is
    // reported by the key's own check (NotFound).
    try {
      for (const binding of await bindings.list(here)) {
        const keyId = parseKeyArn(binding.keyArn)?.keyId;
        if (keyId === undefined) continue;
        const candidate = candidates.get(keyId) ?? { keyId, keyArn: binding.keyArn };
        candidate.boundTo = binding.entry;
        candidates.set(keyId, candidate);
      }
    } catch (error) {
      inventory.failure = error;
      return inventory;
    }
    for (const [keyId, candidate] of candidates) {
      const parsed = candidate.keyArn === undefined ? undefined : parseKeyArn(candidate.keyArn);
      if (parsed && !sameLocation(parsed, here)) {
        // KMS is regional: the guard deployed in that account and Region audits this key.
        log('info', 'audit_key_elsewhere', { keyArn: candidate.keyArn, name: candidate.namedBy?.name });
        candidates.delete(keyId);
      }
    }
  }
  return inventory;
}

/** The candidate's key ARN: as the manifest wrote it, or built from the audited location. */
export function candidateArn(candidate: Candidate, location: KeyLocation | undefined): string {
  if (candidate.keyArn !== undefined) return candidate.keyArn;
  return location ? formatKeyArn(location, candidate.keyId) : candidate.keyId;
}

/** Aliases pointing at each key ID, sorted. */
export function aliasesByKey(targets: ReadonlyMap<string, string>): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const [alias, keyId] of targets) {
    const list = byKey.get(keyId) ?? [];
    list.push(alias);
    byKey.set(keyId, list);
  }
  for (const list of byKey.values()) list.sort();
  return byKey;
}

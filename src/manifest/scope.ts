/**
 * Manifest scope (docs/manifest.md#scope): an entry may be limited to accounts (12-digit IDs, or OU IDs whose
 * accounts it covers, at any depth) and Regions. A key is judged by the entries whose scope holds its account
 * and Region, walked in order as always; the others do not exist for it. OU membership comes from the caller
 * (AWS Organizations ListParents, cached), asked only when an entry names an OU.
 */
import type { KeyLocation } from '../core/key-arn';
import { ManifestError } from './errors';
import type { LoadedManifest, ManagedKey } from './types';

/** The OUs above an account (Organizations ListParents), nearest first. */
export type OusOf = (accountId: string) => Promise<readonly string[]>;

export function hasScope(entry: Pick<ManagedKey, 'accounts' | 'regions'>): boolean {
  return entry.accounts !== undefined || entry.regions !== undefined;
}

function namesOu(entry: Pick<ManagedKey, 'accounts'>): boolean {
  return entry.accounts?.some((item) => item.startsWith('ou-')) === true;
}

/** Whether the entry applies to a key of the location (its account's OUs given when an entry names an OU). */
export function inScope(
  entry: Pick<ManagedKey, 'accounts' | 'regions'>,
  location: Pick<KeyLocation, 'accountId' | 'region'>,
  ous: readonly string[] = [],
): boolean {
  if (entry.regions && !entry.regions.includes(location.region)) return false;
  if (!entry.accounts) return true;
  return entry.accounts.some((item) => item === location.accountId || ous.includes(item));
}

/**
 * The manifest as a key of the location sees it: only the entries whose scope holds it (the same object when
 * no entry has a scope). Throws ManifestError when an entry names an OU and no OU lookup is available.
 */
export async function scopedManifest(
  manifest: LoadedManifest,
  location: Pick<KeyLocation, 'accountId' | 'region'>,
  ousOf?: OusOf,
): Promise<LoadedManifest> {
  if (!manifest.keys.some(hasScope)) return manifest;
  let ous: readonly string[] = [];
  if (manifest.keys.some(namesOu)) {
    if (!ousOf) {
      throw new ManifestError(
        `${manifest.path}: an entry's accounts name an OU, and the OUs of account ${location.accountId} cannot be looked up here (the guard needs ORGANIZATION_ID; the CLI, credentials that may call organizations:ListParents)`,
      );
    }
    ous = await ousOf(location.accountId);
  }
  return { ...manifest, keys: manifest.keys.filter((entry) => inScope(entry, location, ous)) };
}

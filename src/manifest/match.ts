/**
 * Which manifest entry manages a key. The first matching entry wins; the loader rejects entries
 * whose matchers could select the same key (same key ID, ARN, alias or tag, or a key ID that is the
 * tail of another entry's ARN), so "first" only ever decides between different kinds of matcher.
 */

import type { KeyMetadata } from '../core/key';
import { parseKeyArn } from '../core/key-arn';
import type { KeyMatcher } from './types';

export function matchesKey(match: KeyMatcher, key: KeyMetadata): boolean {
  if (match.keyId !== undefined) return match.keyId === key.keyId;
  if (match.keyArn !== undefined) return match.keyArn === key.arn;
  if (match.alias !== undefined) return key.aliases.includes(match.alias);
  if (match.tag !== undefined) return key.tags[match.tag.key] === match.tag.value;
  return false;
}

/** How a person reads a matcher: `alias alias/x`, `tag team=payments`, `key ID …`, `key ARN …`. */
export function describeMatcher(match: KeyMatcher): string {
  if (match.keyId !== undefined) return `key ID ${match.keyId}`;
  if (match.keyArn !== undefined) return `key ARN ${match.keyArn}`;
  if (match.alias !== undefined) return `alias ${match.alias}`;
  if (match.tag !== undefined) return `tag ${match.tag.key}=${match.tag.value}`;
  return 'no matcher';
}

function keyIdOfArn(keyArn: string): string {
  return parseKeyArn(keyArn)?.keyId ?? keyArn;
}

/**
 * What two matchers both select, or undefined when they cannot select the same key for certain.
 * (Different kinds, such as an alias and a tag, may or may not meet on one key: first match wins.)
 * Two ARNs with the same multi-Region key ID in different Regions are different keys.
 */
function sharedTarget(a: KeyMatcher, b: KeyMatcher): string | undefined {
  if (a.keyId !== undefined && b.keyId !== undefined)
    return a.keyId === b.keyId ? `key ID ${a.keyId}` : undefined;
  if (a.keyArn !== undefined && b.keyArn !== undefined) {
    return a.keyArn === b.keyArn ? `key ARN ${a.keyArn}` : undefined;
  }
  if (a.keyId !== undefined && b.keyArn !== undefined) {
    return keyIdOfArn(b.keyArn) === a.keyId ? `key ID ${a.keyId}` : undefined;
  }
  if (a.keyArn !== undefined && b.keyId !== undefined) {
    return keyIdOfArn(a.keyArn) === b.keyId ? `key ID ${b.keyId}` : undefined;
  }
  if (a.alias !== undefined && b.alias !== undefined)
    return a.alias === b.alias ? `alias ${a.alias}` : undefined;
  if (a.tag !== undefined && b.tag !== undefined) {
    return a.tag.key === b.tag.key && a.tag.value === b.tag.value
      ? `tag ${a.tag.key}=${a.tag.value}`
      : undefined;
  }
  return undefined;
}

type Scoped = { accounts?: readonly string[] | undefined; regions?: readonly string[] | undefined };

/** Two scopes that can never hold the same key: disjoint Regions, or disjoint account IDs (OUs may overlap). */
function disjointScopes(a: Scoped, b: Scoped): boolean {
  const disjoint = (x: readonly string[], y: readonly string[]) => !x.some((item) => y.includes(item));
  if (a.regions && b.regions && disjoint(a.regions, b.regions)) return true;
  const idsOnly = (list: readonly string[]) => list.every((item) => !item.startsWith('ou-'));
  return (
    a.accounts !== undefined &&
    b.accounts !== undefined &&
    idsOnly(a.accounts) &&
    idsOnly(b.accounts) &&
    disjoint(a.accounts, b.accounts)
  );
}

/**
 * Problems (one line each) for entries that can match the same key, naming both entries. Entries whose scopes
 * cannot meet (docs/manifest.md#scope) may share a matcher: one alias, a document per account or Region.
 */
export function overlappingMatchers(
  entries: readonly ({ name: string; match: KeyMatcher } & Scoped)[],
): string[] {
  const problems: string[] = [];
  entries.forEach((entry, index) => {
    for (let earlierIndex = 0; earlierIndex < index; earlierIndex += 1) {
      const earlier = entries[earlierIndex];
      if (!earlier || disjointScopes(earlier, entry)) continue;
      const target = sharedTarget(earlier.match, entry.match);
      if (target !== undefined) {
        problems.push(
          `keys[${index}] (${entry.name}).match: can match the same ${target} as keys[${earlierIndex}] (${earlier.name})`,
        );
        break;
      }
    }
  });
  return problems;
}

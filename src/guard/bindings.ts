/**
 * Sticky bindings (docs/architecture.md#sticky-bindings): once a key is bound to a manifest entry by an
 * alias or a tag, changing the key's aliases or tags does not unbind it. Only Git releases a binding:
 * the entry removed from the manifest, or its matcher changed, in a deployed version. Keys bound by key
 * ID or ARN need no record: nothing but the manifest can change what selects them.
 *
 * Pure: the caller reads the record, applies the decision (put/delete) and publishes the change.
 */
import { createHash } from 'node:crypto';
import type { KeyMatcher, LoadedManifest, ManagedKey } from '../manifest/types';
import type { KeyBinding } from './ports';

export interface BindingDecision {
  /** The entry the guard enforces on the key (absent: no entry manages it). */
  entry?: ManagedKey;
  /** A record to write: a new binding, or one re-bound by a new version of the entry's document. */
  write?: KeyBinding;
  /** The record names an entry Git no longer has (or whose matcher Git changed): delete it. */
  release?: boolean;
  /** The key is bound, but its aliases/tags now select another entry or none: a `binding-changed` finding. */
  changed?: { binding: KeyBinding; nowMatches?: string };
}

export function documentHash(template: string): string {
  return createHash('sha256').update(template, 'utf8').digest('hex');
}

/** `alias` + `alias/x`, `tag` + `team=payments`; undefined for key ID and ARN matchers (no record needed). */
export function stickyMatcher(
  match: KeyMatcher,
): Pick<KeyBinding, 'matcherKind' | 'matcherValue'> | undefined {
  if (match.alias !== undefined) return { matcherKind: 'alias', matcherValue: match.alias };
  if (match.tag !== undefined)
    return { matcherKind: 'tag', matcherValue: `${match.tag.key}=${match.tag.value}` };
  return undefined;
}

export function describeBinding(binding: Pick<KeyBinding, 'matcherKind' | 'matcherValue'>): string {
  return `${binding.matcherKind} ${binding.matcherValue}`;
}

/** The entry a recorded binding still names, when Git has not released it (same name, same matcher). */
function boundEntry(manifest: Pick<LoadedManifest, 'keys'>, binding: KeyBinding): ManagedKey | undefined {
  const entry = manifest.keys.find((candidate) => candidate.name === binding.entry);
  const matcher = entry ? stickyMatcher(entry.match) : undefined;
  return matcher &&
    matcher.matcherKind === binding.matcherKind &&
    matcher.matcherValue === binding.matcherValue
    ? entry
    : undefined;
}

function newBinding(keyArn: string, entry: ManagedKey, at: Date): KeyBinding | undefined {
  const matcher = stickyMatcher(entry.match);
  if (!matcher) return undefined;
  return {
    keyArn,
    entry: entry.name,
    ...matcher,
    documentHash: documentHash(entry.policyTemplate),
    boundAt: at.toISOString(),
  };
}

/**
 * What to enforce on a key, given the entry its aliases and tags select now (`current`) and the binding
 * recorded for it (`recorded`).
 */
export function decideBinding(
  manifest: Pick<LoadedManifest, 'keys'>,
  keyArn: string,
  current: ManagedKey | undefined,
  recorded: KeyBinding | undefined,
  at: Date,
): BindingDecision {
  const bound = recorded ? boundEntry(manifest, recorded) : undefined;
  if (recorded && bound) {
    const decision: BindingDecision = { entry: bound };
    if (current?.name !== bound.name)
      decision.changed = { binding: recorded, ...(current ? { nowMatches: current.name } : {}) };
    const hash = documentHash(bound.policyTemplate);
    // A new version of the entry's document in Git keeps the binding and records the version that holds it.
    if (hash !== recorded.documentHash) decision.write = { ...recorded, documentHash: hash };
    return decision;
  }
  const decision: BindingDecision = {};
  if (recorded) decision.release = true;
  if (current) {
    decision.entry = current;
    const binding = newBinding(keyArn, current, at);
    if (binding) decision.write = binding;
  }
  return decision;
}

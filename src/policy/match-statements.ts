/**
 * matchStatements: which statement of the desired document corresponds to which of the live one
 * (docs/architecture.md#comparing-two-key-policies). By content, never by Sid: identical ones first
 * (as a multiset of canonical keys, identical duplicates counting once). A statement that grants
 * nothing on the key (its Resource does not name it) is left out unless the other document has it
 * too. Of the rest, a statement whose access the other document grants as well changes no access
 * (atoms.ts); the others are paired by similarity, each with a statement that changes access or
 * not; leftovers are added (live only) or removed (desired only).
 */
import { type AtomIndex, atomIndex, statementCovered } from './atoms';
import { conditionKey, grantsOnKey, statementKey } from './normalize';
import type { NormalizedPolicy, NormalizedStatement } from './types';

/** How the statements of two documents correspond. Indices are into each document's statement list. */
export interface StatementMatching {
  /** Statements with identical canonical content: [desiredIndex, liveIndex]. */
  identical: [number, number][];
  /** Desired-only and live-only statements paired by similarity, one of each pair changing access: [desiredIndex, liveIndex]. */
  changed: [number, number][];
  removed: number[];
  added: number[];
  /** Statements that repeat an earlier identical statement of the same document: [index, firstIndex]. */
  desiredDuplicates: [number, number][];
  liveDuplicates: [number, number][];
  /**
   * Unpaired statements that differ but change no access (atoms.ts): each grants nothing the other
   * document does not, because statements were split, merged, repeated or covered by a wider one.
   * Cosmetic, never drift.
   */
  regrouped: { desired: number[]; live: number[] };
  /**
   * Statements of one document only whose Resource names no key that can be this one (normalize.ts
   * grantsOnKey): they grant nothing on the key, so they are left out of the comparison. Cosmetic.
   */
  offKey: { desired: number[]; live: number[] };
  /** The atoms of both documents' statements that grant on the key, when some statement was left unmatched. */
  atoms?: { desired: AtomIndex; live: AtomIndex };
}

function firstOccurrences(keys: string[]): { first: Map<string, number>; duplicates: [number, number][] } {
  const first = new Map<string, number>();
  const duplicates: [number, number][] = [];
  for (let index = 0; index < keys.length; index++) {
    const key = keys[index] as string;
    const earlier = first.get(key);
    if (earlier === undefined) first.set(key, index);
    else duplicates.push([index, earlier]);
  }
  return { first, duplicates };
}

/** What `similarity` compares of a statement, built once per statement: pairing compares every unmatched desired statement with every unmatched live one. */
interface Traits {
  statement: NormalizedStatement;
  principals: ReadonlySet<string>;
  actions: ReadonlySet<string>;
  conditions: ReadonlySet<string>;
  resources: ReadonlySet<string>;
}

function traitsOf(statement: NormalizedStatement): Traits {
  return {
    statement,
    principals: new Set(statement.principals),
    actions: new Set(statement.actions),
    conditions: new Set(statement.conditions.map(conditionKey)),
    resources: new Set(statement.resources),
  };
}

/** Jaccard index of two sets; 1 for two empty ones. */
function overlap(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  let shared = 0;
  for (const item of small) if (large.has(item)) shared++;
  return shared / (a.size + b.size - shared);
}

/** How alike two statements are; 0 means "nothing in common", never paired. */
function similarity(desired: Traits, live: Traits): number {
  const who = overlap(desired.principals, live.principals);
  const what = overlap(desired.actions, live.actions);
  if (who === 0 && what === 0) return 0;
  return (
    who +
    what +
    0.5 * overlap(desired.conditions, live.conditions) +
    0.25 * overlap(desired.resources, live.resources) +
    (desired.statement.effect === live.statement.effect ? 0.5 : 0) +
    (desired.statement.principalKind === live.statement.principalKind ? 0.25 : 0) +
    (desired.statement.actionKind === live.statement.actionKind ? 0.25 : 0)
  );
}

function appliesToKey(policy: NormalizedPolicy, index: number): boolean {
  const statement = policy.statements[index];
  return statement === undefined || grantsOnKey(statement, policy.keyArn);
}

function without(indices: number[], left: readonly number[]): number[] {
  return indices.filter((index) => !left.includes(index));
}

/** The statements that can grant or deny something on the key. */
function onKey(policy: NormalizedPolicy): NormalizedStatement[] {
  return policy.statements.filter((statement) => grantsOnKey(statement, policy.keyArn));
}

/** Matches statements by content: identical first, then best-similarity pairs. */
export function matchStatements(
  desired: NormalizedPolicy,
  live: NormalizedPolicy,
  keys?: { desired: string[]; live: string[] },
): StatementMatching {
  const desiredKeys = keys?.desired ?? desired.statements.map(statementKey);
  const liveKeys = keys?.live ?? live.statements.map(statementKey);
  const desiredFirst = firstOccurrences(desiredKeys);
  const liveFirst = firstOccurrences(liveKeys);
  const identical: [number, number][] = [];
  let removedCandidates: number[] = [];
  for (const [key, desiredIndex] of desiredFirst.first) {
    const liveIndex = liveFirst.first.get(key);
    if (liveIndex === undefined) removedCandidates.push(desiredIndex);
    else identical.push([desiredIndex, liveIndex]);
  }
  let addedCandidates: number[] = [];
  for (const [key, liveIndex] of liveFirst.first) {
    if (!desiredFirst.first.has(key)) addedCandidates.push(liveIndex);
  }
  const offKey = {
    desired: removedCandidates.filter((index) => !appliesToKey(desired, index)),
    live: addedCandidates.filter((index) => !appliesToKey(live, index)),
  };
  if (offKey.desired.length > 0) removedCandidates = without(removedCandidates, offKey.desired);
  if (offKey.live.length > 0) addedCandidates = without(addedCandidates, offKey.live);

  const matching: StatementMatching = {
    identical,
    changed: [],
    removed: [],
    added: [],
    desiredDuplicates: desiredFirst.duplicates,
    liveDuplicates: liveFirst.duplicates,
    regrouped: { desired: [], live: [] },
    offKey,
  };
  if (removedCandidates.length + addedCandidates.length === 0) return matching;

  // Which unmatched statements change no access (atoms.ts): only a pair with one that does is a change.
  const atoms = { desired: atomIndex(onKey(desired)), live: atomIndex(onKey(live)) };
  matching.atoms = atoms;
  const coveredBy = (policy: NormalizedPolicy, other: AtomIndex, indices: number[]): Set<number> =>
    new Set(
      indices.filter((index) => {
        const statement = policy.statements[index];
        return statement !== undefined && statementCovered(statement, other);
      }),
    );
  const desiredCovered = coveredBy(desired, atoms.live, removedCandidates);
  const liveCovered = coveredBy(live, atoms.desired, addedCandidates);
  const everyCovered =
    desiredCovered.size === removedCandidates.length && liveCovered.size === addedCandidates.length;
  matching.changed = everyCovered
    ? []
    : pairBySimilarity(
        desired,
        live,
        removedCandidates,
        addedCandidates,
        (desiredIndex, liveIndex) => !desiredCovered.has(desiredIndex) || !liveCovered.has(liveIndex),
      );
  const pairedDesired = new Set(matching.changed.map(([desiredIndex]) => desiredIndex));
  const pairedLive = new Set(matching.changed.map(([, liveIndex]) => liveIndex));
  for (const index of removedCandidates) {
    if (pairedDesired.has(index)) continue;
    (desiredCovered.has(index) ? matching.regrouped.desired : matching.removed).push(index);
  }
  for (const index of addedCandidates) {
    if (pairedLive.has(index)) continue;
    (liveCovered.has(index) ? matching.regrouped.live : matching.added).push(index);
  }
  return matching;
}

/**
 * Pairs unmatched desired and live statements, most similar first, among the pairs `eligible`
 * allows (a pair of two statements that change no access is none: each is cosmetic on its own).
 */
function pairBySimilarity(
  desired: NormalizedPolicy,
  live: NormalizedPolicy,
  desiredIndices: readonly number[],
  liveIndices: readonly number[],
  eligible: (desiredIndex: number, liveIndex: number) => boolean,
): [number, number][] {
  const scored: { desiredIndex: number; liveIndex: number; score: number }[] = [];
  // Traits are built on first use: when every statement is covered, no pair is eligible.
  const liveTraits = new Map<number, Traits>();
  const liveTraitsOf = (liveIndex: number, statement: NormalizedStatement): Traits => {
    let traits = liveTraits.get(liveIndex);
    if (!traits) {
      traits = traitsOf(statement);
      liveTraits.set(liveIndex, traits);
    }
    return traits;
  };
  for (const desiredIndex of desiredIndices) {
    const desiredStatement = desired.statements[desiredIndex];
    if (!desiredStatement) continue;
    let desiredTraits: Traits | undefined;
    for (const liveIndex of liveIndices) {
      const liveStatement = live.statements[liveIndex];
      if (!liveStatement || !eligible(desiredIndex, liveIndex)) continue;
      desiredTraits ??= traitsOf(desiredStatement);
      const score = similarity(desiredTraits, liveTraitsOf(liveIndex, liveStatement));
      if (score > 0) scored.push({ desiredIndex, liveIndex, score });
    }
  }
  scored.sort((a, b) => b.score - a.score || a.desiredIndex - b.desiredIndex || a.liveIndex - b.liveIndex);
  const pairedDesired = new Set<number>();
  const pairedLive = new Set<number>();
  const changed: [number, number][] = [];
  for (const { desiredIndex, liveIndex } of scored) {
    if (pairedDesired.has(desiredIndex) || pairedLive.has(liveIndex)) continue;
    pairedDesired.add(desiredIndex);
    pairedLive.add(liveIndex);
    changed.push([desiredIndex, liveIndex]);
  }
  return changed.sort((a, b) => a[0] - b[0]);
}

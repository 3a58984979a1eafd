/**
 * matchStatements: which statement of the desired document corresponds to which of the live one
 * (docs/architecture.md#comparing-two-key-policies). By content, never by Sid: identical ones first
 * (as a multiset of canonical keys, identical duplicates counting once), then the remaining ones
 * paired by similarity; leftovers are added (live only) or removed (desired only). A statement
 * that grants nothing on the key (its Resource does not name it) is left out unless the other
 * document has it too.
 */
import { type AtomIndex, atomIndex, statementCovered } from './atoms';
import { conditionKey, grantsOnKey, statementKey } from './normalize';
import type { NormalizedPolicy, NormalizedStatement } from './types';

/** How the statements of two documents correspond. Indices are into each document's statement list. */
export interface StatementMatching {
  /** Statements with identical canonical content: [desiredIndex, liveIndex]. */
  identical: [number, number][];
  /** Desired-only and live-only statements paired by similarity: [desiredIndex, liveIndex]. */
  changed: [number, number][];
  removed: number[];
  added: number[];
  /** Statements that repeat an earlier identical statement of the same document: [index, firstIndex]. */
  desiredDuplicates: [number, number][];
  liveDuplicates: [number, number][];
  /**
   * Statements that differ but change no access (atoms.ts): each grants nothing the other document
   * does not, because statements were split, merged, repeated or covered by a wider one. Pairs
   * matched by similarity, and unpaired desired and live statements. Cosmetic, never drift.
   */
  regrouped: { pairs: [number, number][]; desired: number[]; live: number[] };
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

function overlap(a: readonly string[], b: readonly string[]): number {
  if (a.length === 0 && b.length === 0) return 1;
  const inB = new Set(b);
  let shared = 0;
  for (const item of a) if (inB.has(item)) shared++;
  return shared / (a.length + b.length - shared);
}

/** How alike two statements are; 0 means "nothing in common", never paired. */
function similarity(desired: NormalizedStatement, live: NormalizedStatement): number {
  const who = overlap(desired.principals, live.principals);
  const what = overlap(desired.actions, live.actions);
  if (who === 0 && what === 0) return 0;
  return (
    who +
    what +
    0.5 * overlap(desired.conditions.map(conditionKey), live.conditions.map(conditionKey)) +
    0.25 * overlap(desired.resources, live.resources) +
    (desired.effect === live.effect ? 0.5 : 0) +
    (desired.principalKind === live.principalKind ? 0.25 : 0) +
    (desired.actionKind === live.actionKind ? 0.25 : 0)
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

  const scored: { desiredIndex: number; liveIndex: number; score: number }[] = [];
  for (const desiredIndex of removedCandidates) {
    const desiredStatement = desired.statements[desiredIndex];
    if (!desiredStatement) continue;
    for (const liveIndex of addedCandidates) {
      const liveStatement = live.statements[liveIndex];
      if (!liveStatement) continue;
      const score = similarity(desiredStatement, liveStatement);
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
  changed.sort((a, b) => a[0] - b[0]);
  const matching: StatementMatching = {
    identical,
    changed,
    removed: removedCandidates.filter((index) => !pairedDesired.has(index)),
    added: addedCandidates.filter((index) => !pairedLive.has(index)),
    desiredDuplicates: desiredFirst.duplicates,
    liveDuplicates: liveFirst.duplicates,
    regrouped: { pairs: [], desired: [], live: [] },
    offKey,
  };
  if (removedCandidates.length + addedCandidates.length > 0) separateRegrouped(desired, live, matching);
  return matching;
}

/**
 * Moves the statements that change no access out of `changed`, `removed` and `added` (atoms.ts):
 * a desired statement whose access the live document grants, a live statement whose access the
 * desired document grants, and a pair of two such statements.
 */
function separateRegrouped(
  desired: NormalizedPolicy,
  live: NormalizedPolicy,
  matching: StatementMatching,
): void {
  const desiredIndex = atomIndex(onKey(desired));
  const liveIndex = atomIndex(onKey(live));
  matching.atoms = { desired: desiredIndex, live: liveIndex };
  const desiredCovered = (index: number): boolean => {
    const statement = desired.statements[index];
    return statement !== undefined && statementCovered(statement, liveIndex);
  };
  const liveCovered = (index: number): boolean => {
    const statement = live.statements[index];
    return statement !== undefined && statementCovered(statement, desiredIndex);
  };
  const { regrouped } = matching;
  matching.changed = matching.changed.filter((pair) => {
    const cosmetic = desiredCovered(pair[0]) && liveCovered(pair[1]);
    if (cosmetic) regrouped.pairs.push(pair);
    return !cosmetic;
  });
  matching.removed = matching.removed.filter((index) => {
    const cosmetic = desiredCovered(index);
    if (cosmetic) regrouped.desired.push(index);
    return !cosmetic;
  });
  matching.added = matching.added.filter((index) => {
    const cosmetic = liveCovered(index);
    if (cosmetic) regrouped.live.push(index);
    return !cosmetic;
  });
}

/**
 * Effective access as atoms (docs/architecture.md#comparing-two-key-policies): a statement with a
 * Principal, an Action and a Resource grants (or denies) each of its principals each of its action
 * patterns on each of its resources under its whole condition block. Two documents grant the same
 * access when each one's atoms are covered by the other's, so splitting or merging statements with
 * identical conditions, duplicates, and statements covered by a wider one are cosmetic.
 *
 * An atom covers another of the same effect when its principal is the same or `*`, its action
 * pattern matches every name the other's matches (`kms:Describe*` covers `kms:DescribeKey`, never
 * the reverse: a wildcard also grants actions AWS adds later, so patterns stay their own atoms and
 * are never expanded here), its resource is the same or `*`, and its conditions are a subset of
 * the other's (it applies whenever the other does). Every rule is transitive, so covering by a
 * statement that is itself covered is covering. Statements with NotPrincipal, NotAction,
 * NotResource, both halves of a pair or an Effect other than Allow/Deny are opaque: they are
 * covered only by an identical statement.
 */
import { ANYONE, conditionKey, SECONDARY_PREFIX, statementKey } from './normalize';
import type { NormalizedStatement } from './types';
import { matchesWildcard } from './wildcard';

interface Atom {
  action: string;
  resource: string;
  /** Canonical condition strings, sorted. */
  conditions: string[];
  /** The index of the statement it comes from (NormalizedStatement.index). */
  statement: number;
}

/** A document's atoms by `effect \0 principal`, and its opaque statements by canonical key. */
export interface AtomIndex {
  atoms: Map<string, Atom[]>;
  opaque: Set<string>;
}

/** Whether the statement keeps its meaning only whole (NotPrincipal, NotAction, NotResource, both halves, another effect). */
export function isOpaque(statement: NormalizedStatement): boolean {
  if (statement.effect !== 'Allow' && statement.effect !== 'Deny') return true;
  if (statement.principalKind !== 'Principal' || statement.actionKind !== 'Action') return true;
  if (statement.resourceKind !== 'Resource') return true;
  if (statement.principals.length === 0 || statement.actions.length === 0 || statement.resources.length === 0)
    return true;
  const secondary = (value: string): boolean => value.startsWith(SECONDARY_PREFIX);
  return (
    statement.principals.some(secondary) ||
    statement.actions.some(secondary) ||
    statement.resources.some(secondary)
  );
}

function conditionsOf(statement: NormalizedStatement): string[] {
  return statement.conditions.map(conditionKey).sort();
}

/** The atom index of a document's statements. */
export function atomIndex(statements: readonly NormalizedStatement[]): AtomIndex {
  const index: AtomIndex = { atoms: new Map(), opaque: new Set() };
  for (const statement of statements) {
    if (isOpaque(statement)) {
      index.opaque.add(statementKey(statement));
      continue;
    }
    const conditions = conditionsOf(statement);
    for (const principal of statement.principals) {
      const key = `${statement.effect}\u0000${principal}`;
      let atoms = index.atoms.get(key);
      if (!atoms) {
        atoms = [];
        index.atoms.set(key, atoms);
      }
      for (const action of statement.actions) {
        for (const resource of statement.resources)
          atoms.push({ action, resource, conditions, statement: statement.index });
      }
    }
  }
  return index;
}

/** Whether the (lower-cased) action pattern `wide` matches every action name `narrow` matches. */
export function actionCovers(wide: string, narrow: string): boolean {
  if (wide === narrow || wide === '*') return true;
  const star = wide.indexOf('*');
  if (star === wide.length - 1 && !wide.includes('?')) return narrow.startsWith(wide.slice(0, -1));
  if (narrow.includes('*') || narrow.includes('?')) return false;
  return matchesWildcard(wide, narrow);
}

function isSubset(small: readonly string[], large: readonly string[]): boolean {
  return small.every((item) => large.includes(item));
}

function atomCovered(
  candidates: readonly Atom[] | undefined,
  atom: Omit<Atom, 'statement'>,
  except: number,
): boolean {
  if (!candidates) return false;
  return candidates.some(
    (wide) =>
      wide.statement !== except &&
      (wide.resource === atom.resource || wide.resource === '*') &&
      actionCovers(wide.action, atom.action) &&
      isSubset(wide.conditions, atom.conditions),
  );
}

/** Part of what a statement grants or denies: some of its principals and actions, its resources and conditions. */
export interface AccessPart {
  effect: string;
  principals: readonly string[];
  actions: readonly string[];
  resources: readonly string[];
  conditions: readonly NormalizedStatement['conditions'][number][];
}

/**
 * Whether the indexed document grants (or denies) every principal of `part` every action on every
 * resource whenever its conditions hold, leaving out the statement `except` (the one `part` is
 * compared with: "another statement still grants it"). `part` must come from a transparent
 * statement (isOpaque false).
 */
export function partCovered(part: AccessPart, index: AtomIndex, except = -1): boolean {
  const conditions = part.conditions.map(conditionKey).sort();
  for (const principal of part.principals) {
    const own = index.atoms.get(`${part.effect}\u0000${principal}`);
    const anyone = principal === ANYONE ? undefined : index.atoms.get(`${part.effect}\u0000${ANYONE}`);
    for (const action of part.actions) {
      for (const resource of part.resources) {
        const atom = { action, resource, conditions };
        if (!atomCovered(own, atom, except) && !atomCovered(anyone, atom, except)) return false;
      }
    }
  }
  return true;
}

/**
 * A test of parts of `statement` against another document's index, leaving out its statement
 * `except` (the one `statement` is paired with): whether another statement there grants (or
 * denies) that part the same. Always false for an opaque statement or without an index.
 */
export function grantedElsewhere(
  statement: NormalizedStatement,
  index: AtomIndex | undefined,
  except = -1,
): (change: Partial<AccessPart>) => boolean {
  if (index === undefined || isOpaque(statement)) return () => false;
  return (change) => partCovered({ ...statement, ...change }, index, except);
}

/** Whether everything the statement grants or denies is granted or denied by the indexed document. */
export function statementCovered(statement: NormalizedStatement, index: AtomIndex): boolean {
  if (isOpaque(statement)) return index.opaque.has(statementKey(statement));
  return partCovered(statement, index);
}

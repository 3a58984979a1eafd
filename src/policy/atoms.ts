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
import { ANYONE, SECONDARY_PREFIX, statementKey } from './normalize';
import type { NormalizedCondition, NormalizedStatement } from './types';
import { matchesWildcard } from './wildcard';

/** A statement's conditions as sorted canonical strings, and joined (equal sets, one string compare). */
interface ConditionSet {
  keys: readonly string[];
  joined: string;
}

/**
 * What one statement grants (or denies) each of its principals for each of its actions: its
 * resources under its conditions. Shared by all the atoms of the statement (one per principal,
 * action and resource), so that indexing a document allocates one object per statement.
 */
interface Grant {
  /** The index of the statement (NormalizedStatement.index). */
  statement: number;
  resources: readonly string[];
  anyResource: boolean;
  conditions: ConditionSet;
}

/** One principal's grants (of one effect) by action pattern, and those whose pattern has a wildcard. */
interface PrincipalAtoms {
  byAction: Map<string, Grant[]>;
  wildcards: { action: string; grant: Grant }[];
}

/** A document's atoms by effect and principal, and its opaque statements by canonical key. */
export interface AtomIndex {
  atoms: Map<string, Map<string, PrincipalAtoms>>;
  opaque: Set<string>;
}

/** Whether the statement keeps its meaning only whole (NotPrincipal, NotAction, NotResource, both halves, another effect). */
export function isOpaque(statement: NormalizedStatement): boolean {
  if (statement.effect !== 'Allow' && statement.effect !== 'Deny') return true;
  if (statement.principalKind !== 'Principal' || statement.actionKind !== 'Action') return true;
  if (statement.resourceKind !== 'Resource') return true;
  if (statement.principals.length === 0 || statement.actions.length === 0 || statement.resources.length === 0)
    return true;
  return (
    hasSecondary(statement.principals) || hasSecondary(statement.actions) || hasSecondary(statement.resources)
  );
}

function hasSecondary(values: readonly string[]): boolean {
  for (const value of values) if (value.startsWith(SECONDARY_PREFIX)) return true;
  return false;
}

// A statement's conditions array is built once by normalize and never changed: its set is computed once.
const conditionSets = new WeakMap<readonly NormalizedCondition[], ConditionSet>();

/**
 * Normalize sorts a statement's conditions (operator, key, values): mapped in order, two equal sets
 * give equal lists. Each condition is written as in statementKey (separators a policy cannot hold).
 */
function conditionSetOf(conditions: readonly NormalizedCondition[]): ConditionSet {
  let set = conditionSets.get(conditions);
  if (!set) {
    const keys = conditions.map(
      (condition) => `${condition.operator}\u0002${condition.key}\u0002${condition.values.join('\u0001')}`,
    );
    set = { keys, joined: keys.join('\u0000') };
    conditionSets.set(conditions, set);
  }
  return set;
}

const hasWildcard = (action: string): boolean => action.includes('*') || action.includes('?');

/** The atom index of a document's statements. */
export function atomIndex(statements: readonly NormalizedStatement[]): AtomIndex {
  const index: AtomIndex = { atoms: new Map(), opaque: new Set() };
  for (const statement of statements) {
    if (isOpaque(statement)) {
      index.opaque.add(statementKey(statement));
      continue;
    }
    const grant: Grant = {
      statement: statement.index,
      resources: statement.resources,
      anyResource: statement.resources.includes('*'),
      conditions: conditionSetOf(statement.conditions),
    };
    let byPrincipal = index.atoms.get(statement.effect);
    if (!byPrincipal) {
      byPrincipal = new Map();
      index.atoms.set(statement.effect, byPrincipal);
    }
    for (const principal of statement.principals) {
      let atoms = byPrincipal.get(principal);
      if (!atoms) {
        atoms = { byAction: new Map(), wildcards: [] };
        byPrincipal.set(principal, atoms);
      }
      for (const action of statement.actions) {
        const sameAction = atoms.byAction.get(action);
        if (sameAction) sameAction.push(grant);
        else atoms.byAction.set(action, [grant]);
        if (hasWildcard(action)) atoms.wildcards.push({ action, grant });
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

/** Whether `small` holds only conditions `large` holds (both in normalize's order, unique). */
function isSubset(small: ConditionSet, large: ConditionSet): boolean {
  if (small.keys.length === 0 || small.joined === large.joined) return true;
  if (small.keys.length >= large.keys.length) return false;
  for (const item of small.keys) if (!large.keys.includes(item)) return false;
  return true;
}

interface Atom {
  action: string;
  resource: string;
  conditions: ConditionSet;
}

function wideEnough(wide: Grant, atom: Atom, except: number): boolean {
  return (
    wide.statement !== except &&
    (wide.anyResource || wide.resources.includes(atom.resource)) &&
    isSubset(wide.conditions, atom.conditions)
  );
}

// Plain loops: this runs for every atom of every statement left unmatched.
function atomCovered(candidates: PrincipalAtoms | undefined, atom: Atom, except: number): boolean {
  if (!candidates) return false;
  const sameAction = candidates.byAction.get(atom.action);
  if (sameAction) for (const wide of sameAction) if (wideEnough(wide, atom, except)) return true;
  for (const { action, grant } of candidates.wildcards) {
    if (action !== atom.action && actionCovers(action, atom.action) && wideEnough(grant, atom, except))
      return true;
  }
  return false;
}

/** Part of what a statement grants or denies: some of its principals and actions, its resources and conditions. */
export interface AccessPart {
  effect: string;
  principals: readonly string[];
  actions: readonly string[];
  resources: readonly string[];
  conditions: readonly NormalizedCondition[];
}

/**
 * Whether the indexed document grants (or denies) every principal of `part` every action on every
 * resource whenever its conditions hold, leaving out the statement `except` (the one `part` is
 * compared with: "another statement still grants it"). `part` must come from a transparent
 * statement (isOpaque false).
 */
export function partCovered(part: AccessPart, index: AtomIndex, except = -1): boolean {
  const conditions = conditionSetOf(part.conditions);
  const byPrincipal = index.atoms.get(part.effect);
  for (const principal of part.principals) {
    const own = byPrincipal?.get(principal);
    const anyone = principal === ANYONE ? undefined : byPrincipal?.get(ANYONE);
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

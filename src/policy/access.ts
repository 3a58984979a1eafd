/**
 * The access view of a diff (docs/architecture.md#access-view-of-a-diff): per principal, which KMS actions it is
 * newly allowed (gained) or no longer allowed (lost), with the conditions that still restrict them.
 *
 * Model: every Allow statement grants (principal, action) under a set of conditions. A live grant is
 * "gained" access unless the desired document grants the same principal the same action under a
 * subset of its conditions (at least as permissively). A desired grant is "lost" unless the live
 * document grants it at least as permissively. Unconditional Deny statements remove grants;
 * conditional Deny statements only show in the statement view.
 */
import { ANYONE, grantsOnKey, isUniqueIdPrincipal, SECONDARY_PREFIX } from './normalize';
import { expandActionPattern, hasAccessLevel, KMS_ACTIONS } from './service-data';
import type {
  AccessChange,
  NormalizedCondition,
  NormalizedPolicy,
  NormalizedStatement,
  Severity,
} from './types';
import { SEVERITY_ORDER } from './types';

const ALL_KMS_ACTIONS: readonly string[] = KMS_ACTIONS.map((action) => action.name);
const expansionCache = new Map<string, readonly string[]>();

/** The KMS actions an action pattern matches today (cached: the service data never changes at runtime). */
export function expandCached(pattern: string): readonly string[] {
  let expanded = expansionCache.get(pattern);
  if (!expanded) {
    expanded = expandActionPattern(pattern);
    expansionCache.set(pattern, expanded);
  }
  return expanded;
}

/** The KMS actions a statement's Action (or NotAction: all KMS actions minus those listed) covers. */
export function effectiveKmsActions(statement: NormalizedStatement): Set<string> {
  const listed = new Set<string>();
  for (const pattern of statement.actions) {
    if (pattern.startsWith(SECONDARY_PREFIX)) continue;
    for (const action of expandCached(pattern)) listed.add(action);
  }
  if (statement.actionKind === 'Action') return listed;
  if (statement.actionKind === 'NotAction')
    return new Set(ALL_KMS_ACTIONS.filter((action) => !listed.has(action)));
  return new Set();
}

const permissionsManagement = new Map<string, boolean>();
/** A 'Permissions management' action (kms:PutKeyPolicy, kms:CreateGrant, …): gaining one is critical. */
export function isPermissionsManagement(action: string): boolean {
  let known = permissionsManagement.get(action);
  if (known === undefined) {
    known = hasAccessLevel(action, 'Permissions management');
    permissionsManagement.set(action, known);
  }
  return known;
}

/** True when the set holds every KMS action (what `kms:*` grants today). */
export function coversAllKmsActions(actions: ReadonlySet<string>): boolean {
  return ALL_KMS_ACTIONS.every((action) => actions.has(action));
}

/** `Operator key=[v1, v2]`, the way conditions are shown to people. */
export function renderCondition(condition: NormalizedCondition): string {
  return `${condition.operator} ${condition.key}=[${condition.values.join(', ')}]`;
}

const ACCOUNT_IN_ARN = /^(?:AWS:)?arn:[^:]+:(?:iam|sts)::(\d{12}):/;

/** The AWS account a canonical principal belongs to, if it names one. */
export function principalAccount(principal: string): string | undefined {
  return ACCOUNT_IN_ARN.exec(principal)?.[1];
}

/** The key's account (when stated) and the accounts the document's own principals belong to (what "cross-account" is measured against). */
export function documentAccounts(policy: NormalizedPolicy): Set<string> {
  const accounts = new Set<string>(policy.keyAccount === undefined ? [] : [policy.keyAccount]);
  for (const statement of policy.statements) {
    if (!grantsOnKey(statement, policy.keyArn)) continue;
    for (const principal of statement.principals) {
      const account = principalAccount(principal);
      if (account) accounts.add(account);
    }
  }
  return accounts;
}

/** principal -> action -> the condition sets (each sorted, rendered) under which it is allowed. */
type GrantTable = Map<string, Map<string, string[][]>>;

function notPrincipalLabel(statement: NormalizedStatement): string {
  const excluded = statement.principals.filter((principal) => !principal.startsWith(SECONDARY_PREFIX));
  return `* except ${excluded.join(', ')}`;
}

/** The grants of the statements that apply to the key (a Resource that does not name it grants nothing). */
function grantTable(policy: NormalizedPolicy): GrantTable {
  const table: GrantTable = new Map();
  const statements = policy.statements.filter((statement) => grantsOnKey(statement, policy.keyArn));
  for (const statement of statements) {
    if (statement.effect !== 'Allow' || statement.resourceKind === 'none') continue;
    const actions = effectiveKmsActions(statement);
    if (actions.size === 0) continue;
    const conditions = statement.conditions.map(renderCondition).sort();
    const principals =
      statement.principalKind === 'NotPrincipal'
        ? [notPrincipalLabel(statement)]
        : statement.principals.filter(
            // Unique IDs name deleted roles or users: no one holds that access (the orphan finding says so).
            (principal) => !principal.startsWith(SECONDARY_PREFIX) && !isUniqueIdPrincipal(principal),
          );
    for (const principal of principals) {
      let byAction = table.get(principal);
      if (!byAction) {
        byAction = new Map();
        table.set(principal, byAction);
      }
      for (const action of actions) {
        const sets = byAction.get(action);
        if (sets) sets.push(conditions);
        else byAction.set(action, [conditions]);
      }
    }
  }
  for (const statement of statements) {
    if (statement.effect !== 'Deny' || statement.conditions.length > 0) continue;
    const denied = effectiveKmsActions(statement);
    const excluded = new Set(statement.principals);
    for (const [principal, byAction] of table) {
      const applies =
        statement.principalKind === 'NotPrincipal'
          ? !excluded.has(principal)
          : excluded.has(ANYONE) || excluded.has(principal);
      if (!applies) continue;
      for (const action of denied) byAction.delete(action);
    }
  }
  return table;
}

function isSubset(small: string[], large: string[]): boolean {
  return small.every((item) => large.includes(item));
}

/** True when some grant in `grants` is at least as permissive as `conditions` (needs a subset of them). */
function covered(grants: string[][] | undefined, conditions: string[]): boolean {
  return grants?.some((candidate) => isSubset(candidate, conditions)) ?? false;
}

/**
 * The grants that reach a principal: its own, plus those to everyone (`*`). A role that keeps an
 * action only through a new `*` grant has not lost it; a role gaining an action everyone already had
 * has not gained anything.
 */
function grantsFor(table: GrantTable, principal: string): Map<string, string[][]> {
  const own = table.get(principal) ?? new Map<string, string[][]>();
  const everyone = principal === ANYONE ? undefined : table.get(ANYONE);
  if (!everyone) return own;
  const merged = new Map(own);
  for (const [action, sets] of everyone) merged.set(action, [...(merged.get(action) ?? []), ...sets]);
  return merged;
}

function severityOf(change: Omit<AccessChange, 'severity'>): Severity {
  if (change.gained.length === 0) return change.lost.length > 0 ? 'medium' : 'info';
  if (change.anyone || change.crossAccount) return 'critical';
  if (change.gained.some(isPermissionsManagement)) return 'critical';
  if (coversAllKmsActions(new Set(change.gained))) return 'critical';
  return 'high';
}

/** Who gained or lost which KMS actions between the desired and the live document, most severe first. */
export function accessChanges(desired: NormalizedPolicy, live: NormalizedPolicy): AccessChange[] {
  const desiredGrants = grantTable(desired);
  const liveGrants = grantTable(live);
  const ownAccounts = documentAccounts(desired);
  const principals = new Set([...desiredGrants.keys(), ...liveGrants.keys()]);
  const changes: AccessChange[] = [];
  for (const principal of principals) {
    // Each side's own grants, checked against everything that reaches the principal on the other side.
    const before = grantsFor(desiredGrants, principal);
    const after = grantsFor(liveGrants, principal);
    const gained: string[] = [];
    const lost: string[] = [];
    const conditions = new Set<string>();
    for (const [action, sets] of liveGrants.get(principal) ?? []) {
      if (sets.some((conditionSet) => !covered(before.get(action), conditionSet))) {
        gained.push(action);
        for (const conditionSet of sets) for (const condition of conditionSet) conditions.add(condition);
      }
    }
    for (const [action, sets] of desiredGrants.get(principal) ?? []) {
      if (sets.some((conditionSet) => !covered(after.get(action), conditionSet))) {
        lost.push(action);
        // What still restricts the action live (it may remain allowed, but only under new conditions).
        for (const conditionSet of after.get(action) ?? [])
          for (const condition of conditionSet) conditions.add(condition);
      }
    }
    if (gained.length === 0 && lost.length === 0) continue;
    const account = principalAccount(principal);
    const change = {
      principal,
      gained: gained.sort(),
      lost: lost.sort(),
      conditions: [...conditions].sort(),
      anyone: principal === ANYONE || principal.startsWith('* except'),
      crossAccount: account !== undefined && !ownAccounts.has(account),
    };
    changes.push({ ...change, severity: severityOf(change) });
  }
  return changes.sort(
    (a, b) =>
      SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
      b.gained.length - a.gained.length ||
      (a.principal < b.principal ? -1 : a.principal > b.principal ? 1 : 0),
  );
}

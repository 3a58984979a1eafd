/**
 * diffPolicies: the structural diff of two normalized policies (docs/architecture.md#comparing-two-key-policies).
 * Statements are paired by content, never by Sid (match-statements.ts): identical, "changed" (paired
 * by similarity), "added" (live only) or "removed" (desired only). Every change gets a severity from
 * whether it widens or narrows access.
 */
import {
  accessChanges,
  coversAllKmsActions,
  documentAccounts,
  effectiveKmsActions,
  expandCached,
  isPermissionsManagement,
  principalAccount,
  renderCondition,
} from './access';
import { matchStatements, type StatementMatching } from './match-statements';
import { ANYONE, conditionKey, grantsOnKey, isUniqueIdPrincipal } from './normalize';
import { findKmsAction, SERVICE_DATA_DATE } from './service-data';
import type {
  DocumentChange,
  NormalizedPolicy,
  NormalizedStatement,
  OrphanedPrincipal,
  PolicyDiff,
  SetDelta,
  Severity,
  StatementChange,
} from './types';
import { SEVERITY_ORDER } from './types';

// index.ts re-exports this module: these names stay importable from here.
export { matchStatements, type StatementMatching } from './match-statements';

export function maxSeverity(severities: Iterable<Severity>): Severity {
  let best = SEVERITY_ORDER.length - 1;
  for (const severity of severities) best = Math.min(best, SEVERITY_ORDER.indexOf(severity));
  return SEVERITY_ORDER[best] ?? 'info';
}

function delta(before: readonly string[], after: readonly string[]): SetDelta {
  const inBefore = new Set(before);
  const inAfter = new Set(after);
  return {
    added: after.filter((item) => !inBefore.has(item)),
    removed: before.filter((item) => !inAfter.has(item)),
  };
}

/** An action as people know it: the canonical spelling when KMS has it, else as normalized. */
export function displayAction(action: string): string {
  const known = findKmsAction(action);
  if (known) return known.name;
  // A prefix wildcard takes the spelling of the actions it matches: `kms:describe*` -> `kms:Describe*`.
  const star = action.indexOf('*');
  if (star === action.length - 1 && !action.includes('?')) {
    const first = expandCached(action)[0];
    if (first) return `${first.slice(0, star)}*`;
  }
  return action;
}

/** A canonical principal as people know it: the ARN for AWS principals, `Service:…` etc. otherwise. */
export function displayPrincipal(principal: string): string {
  return principal.startsWith('AWS:') ? principal.slice(4) : principal;
}

function list(items: readonly string[]): string {
  return items.join(', ');
}

interface Assessment {
  widening: boolean;
  narrowing: boolean;
  /** The KMS actions the widening is about (what someone can now do). */
  actionsAtStake: Set<string>;
  /** Principals who gain something. */
  beneficiaries: string[];
}

function criticalOrHigh(assessment: Assessment, ownAccounts: Set<string>): Severity {
  const everyone = assessment.beneficiaries.some(
    (principal) => principal === ANYONE || principal.startsWith('NotPrincipal'),
  );
  const crossAccount = assessment.beneficiaries.some((principal) => {
    const account = principalAccount(principal);
    return account !== undefined && !ownAccounts.has(account);
  });
  const powerful =
    [...assessment.actionsAtStake].some(isPermissionsManagement) ||
    (assessment.actionsAtStake.size > 0 && coversAllKmsActions(assessment.actionsAtStake));
  return everyone || crossAccount || powerful ? 'critical' : 'high';
}

function severityFrom(assessment: Assessment, ownAccounts: Set<string>): Severity {
  if (assessment.widening) return criticalOrHigh(assessment, ownAccounts);
  return assessment.narrowing ? 'medium' : 'low';
}

function beneficiariesOf(statement: NormalizedStatement, principals: readonly string[]): string[] {
  if (statement.principalKind === 'NotPrincipal') return ['NotPrincipal'];
  return principals.filter((principal) => !isUniqueIdPrincipal(principal));
}

function whole(statement: NormalizedStatement): string {
  const who =
    statement.principalKind === 'NotPrincipal'
      ? `everyone except ${list(statement.principals.map(displayPrincipal))}`
      : list(statement.principals.map(displayPrincipal)) || 'no principal';
  const verb = statement.actionKind === 'NotAction' ? 'every action except' : '';
  const what = list(statement.actions.map(displayAction)) || 'no action';
  const when =
    statement.conditions.length > 0 ? ` when ${list(statement.conditions.map(renderCondition))}` : '';
  return `${who} for ${verb ? `${verb} ` : ''}${what}${when}`;
}

function label(statement: NormalizedStatement): string {
  return `${statement.effect || '(no Effect)'} statement${statement.sid ? ` "${statement.sid}"` : ''}`;
}

function addedOrRemoved(
  kind: 'added' | 'removed',
  statement: NormalizedStatement,
  ownAccounts: Set<string>,
): StatementChange {
  const isDeny = statement.effect === 'Deny';
  const beneficiaries = beneficiariesOf(statement, statement.principals);
  // An Allow appearing or a Deny disappearing widens access; the opposite narrows it. An Allow
  // naming only deleted principals (unique IDs) grants no one anything: the orphan finding covers it.
  const onlyOrphans = statement.principalKind === 'Principal' && beneficiaries.length === 0;
  const widening = (kind === 'added' ? !isDeny : isDeny) && !(kind === 'added' && onlyOrphans);
  const actions = effectiveKmsActions(statement);
  const severity = severityFrom(
    { widening, narrowing: !widening && !onlyOrphans, actionsAtStake: actions, beneficiaries },
    ownAccounts,
  );
  const change: StatementChange = {
    kind,
    severity,
    effect: statement.effect,
    summary: `Live ${kind === 'added' ? 'adds' : 'removes'} ${label(statement)}: ${whole(statement)}`,
    principals: kind === 'added' ? delta([], statement.principals) : delta(statement.principals, []),
    actions:
      kind === 'added'
        ? delta([], statement.actions.map(displayAction))
        : delta(statement.actions.map(displayAction), []),
    resources: kind === 'added' ? delta([], statement.resources) : delta(statement.resources, []),
    conditions:
      kind === 'added'
        ? { added: statement.conditions, removed: [] }
        : { added: [], removed: statement.conditions },
    notes: [],
  };
  if (kind === 'added') change.liveIndex = statement.index;
  else change.desiredIndex = statement.index;
  if (statement.sid !== undefined) change.sid = statement.sid;
  return change;
}

function setMinus(a: Set<string>, b: Set<string>): Set<string> {
  const out = new Set<string>();
  for (const item of a) if (!b.has(item)) out.add(item);
  return out;
}

function conditionDelta(desired: NormalizedStatement, live: NormalizedStatement) {
  const desiredKeys = new Set(desired.conditions.map(conditionKey));
  const liveKeys = new Set(live.conditions.map(conditionKey));
  return {
    added: live.conditions.filter((condition) => !desiredKeys.has(conditionKey(condition))),
    removed: desired.conditions.filter((condition) => !liveKeys.has(conditionKey(condition))),
  };
}

function changedStatement(
  desired: NormalizedStatement,
  live: NormalizedStatement,
  ownAccounts: Set<string>,
): StatementChange {
  const principals = delta(desired.principals, live.principals);
  const actions = delta(desired.actions, live.actions);
  const resources = delta(desired.resources, live.resources);
  const conditions = conditionDelta(desired, live);
  const desiredActions = effectiveKmsActions(desired);
  const liveActions = effectiveKmsActions(live);
  const gainedActions = setMinus(liveActions, desiredActions);
  const lostActions = setMinus(desiredActions, liveActions);
  const notes: string[] = [];
  const parts: string[] = [];

  const assessment: Assessment = {
    widening: false,
    narrowing: false,
    actionsAtStake: new Set(),
    beneficiaries: [],
  };
  const widenAll = (): void => {
    assessment.widening = true;
    for (const action of liveActions) assessment.actionsAtStake.add(action);
    assessment.beneficiaries.push(...beneficiariesOf(live, live.principals));
  };

  if (desired.effect !== live.effect) {
    notes.push(`Effect changed from ${desired.effect || '(none)'} to ${live.effect || '(none)'}`);
    if (live.effect === 'Deny') assessment.narrowing = true;
    else widenAll();
  }
  for (const [element, before, after] of [
    ['Principal', desired.principalKind, live.principalKind],
    ['Action', desired.actionKind, live.actionKind],
    ['Resource', desired.resourceKind, live.resourceKind],
  ] as const) {
    if (before !== after) {
      notes.push(
        `${before === 'none' ? `(no ${element})` : before} became ${after === 'none' ? `(no ${element})` : after}`,
      );
      widenAll();
    }
  }

  const sameShape = notes.length === 0;
  // For a Deny, or for the Not- form of an element, adding entries narrows what is allowed and removing widens it.
  const isDeny = live.effect === 'Deny';
  if (sameShape) {
    const principalsAdded = principals.added.filter((principal) => !isUniqueIdPrincipal(principal));
    const whoWidens =
      isDeny !== (live.principalKind === 'NotPrincipal') ? principals.removed : principalsAdded;
    const whoNarrows =
      isDeny !== (live.principalKind === 'NotPrincipal') ? principalsAdded : principals.removed;
    if (whoWidens.length > 0) {
      assessment.widening = true;
      for (const action of isDeny ? desiredActions : liveActions) assessment.actionsAtStake.add(action);
      assessment.beneficiaries.push(...(isDeny ? whoWidens : beneficiariesOf(live, whoWidens)));
    }
    if (whoNarrows.length > 0 || principals.added.length > principalsAdded.length)
      assessment.narrowing = true;

    const actionsWiden = isDeny ? lostActions : gainedActions;
    const actionsNarrow = isDeny ? gainedActions : lostActions;
    // Action names that match no KMS action (typos, other services) still change the document.
    const unknownAdded = actions.added.filter((action) => !isDeny && expandCached(action).length === 0);
    if (actionsWiden.size > 0 || unknownAdded.length > 0) {
      assessment.widening = true;
      for (const action of actionsWiden) assessment.actionsAtStake.add(action);
      assessment.beneficiaries.push(...beneficiariesOf(live, live.principals));
    }
    if (actionsNarrow.size > 0) assessment.narrowing = true;

    const resourcesWiden =
      isDeny !== (live.resourceKind === 'NotResource') ? resources.removed : resources.added;
    const resourcesNarrow =
      isDeny !== (live.resourceKind === 'NotResource') ? resources.added : resources.removed;
    if (resourcesWiden.length > 0) widenAll();
    if (resourcesNarrow.length > 0) assessment.narrowing = true;

    // A condition removed from an Allow (or added to a Deny) makes it apply more widely.
    const conditionsWiden = isDeny ? conditions.added : conditions.removed;
    const conditionsNarrow = isDeny ? conditions.removed : conditions.added;
    if (conditionsWiden.length > 0) {
      assessment.widening = true;
      for (const action of isDeny ? desiredActions : liveActions) assessment.actionsAtStake.add(action);
      assessment.beneficiaries.push(...beneficiariesOf(live, live.principals));
    }
    if (conditionsNarrow.length > 0) assessment.narrowing = true;
  }

  if (
    (actions.added.length > 0 || actions.removed.length > 0) &&
    gainedActions.size === 0 &&
    lostActions.size === 0 &&
    desired.actionKind === live.actionKind
  ) {
    notes.push(
      `Actions written differently (removed: ${list(actions.removed.map(displayAction)) || 'none'}; added: ${list(actions.added.map(displayAction)) || 'none'}) with the same effective actions as of ${SERVICE_DATA_DATE}; a wildcard also grants actions AWS adds later`,
    );
  }

  if (principals.added.length > 0)
    parts.push(`adds principal ${list(principals.added.map(displayPrincipal))}`);
  if (principals.removed.length > 0)
    parts.push(`removes principal ${list(principals.removed.map(displayPrincipal))}`);
  if (actions.added.length > 0) parts.push(`adds action ${list(actions.added.map(displayAction))}`);
  if (actions.removed.length > 0) parts.push(`removes action ${list(actions.removed.map(displayAction))}`);
  if (resources.added.length > 0) parts.push(`adds resource ${list(resources.added)}`);
  if (resources.removed.length > 0) parts.push(`removes resource ${list(resources.removed)}`);
  if (conditions.added.length > 0)
    parts.push(`adds condition ${list(conditions.added.map(renderCondition))}`);
  if (conditions.removed.length > 0)
    parts.push(`removes condition ${list(conditions.removed.map(renderCondition))}`);

  const change: StatementChange = {
    kind: 'changed',
    severity: severityFrom(assessment, ownAccounts),
    desiredIndex: desired.index,
    liveIndex: live.index,
    effect: live.effect,
    summary: `${label(desired)} changed: ${[...notes.filter((note) => !note.includes('same effective')), ...parts].join('; ')}`,
    principals,
    actions: { added: actions.added.map(displayAction), removed: actions.removed.map(displayAction) },
    resources,
    conditions,
    notes,
  };
  const sid = live.sid ?? desired.sid;
  if (sid !== undefined) change.sid = sid;
  return change;
}

/**
 * Unique-ID principals in the live document: the IAM role or user behind them was deleted. A
 * statement whose Resource does not name the key is left out, as everywhere in compare.
 */
export function orphanedPrincipals(live: NormalizedPolicy): OrphanedPrincipal[] {
  const orphans: OrphanedPrincipal[] = [];
  for (const statement of live.statements) {
    if (!grantsOnKey(statement, live.keyArn)) continue;
    for (const principal of statement.principals) {
      if (!isUniqueIdPrincipal(principal)) continue;
      const id = principal.slice(4);
      orphans.push({
        principal: id,
        where: 'live',
        path: `$.Statement[${statement.index}].${statement.principalKind === 'NotPrincipal' ? 'NotPrincipal' : 'Principal'}.AWS`,
        message: `KMS shows ${id} instead of an ARN: the IAM role or user it named was deleted (recreating it does not restore access)`,
      });
    }
  }
  return orphans;
}

function versionChanges(desired: NormalizedPolicy, live: NormalizedPolicy): DocumentChange[] {
  if (desired.version === live.version) return [];
  const change: DocumentChange = {
    element: 'Version',
    severity: 'medium',
    summary: `Version changed from ${desired.version ?? '(missing)'} to ${live.version ?? '(missing)'}${
      live.version === undefined
        ? ': without a Version AWS reads policy variables such as ${aws:username} as literal text'
        : ''
    }`,
  };
  if (desired.version !== undefined) change.desired = desired.version;
  if (live.version !== undefined) change.live = live.version;
  return [change];
}

/** The structural diff, live relative to desired. */
export function diffPolicies(
  desired: NormalizedPolicy,
  live: NormalizedPolicy,
  matching: StatementMatching = matchStatements(desired, live),
): PolicyDiff {
  const hasChanges = matching.changed.length + matching.removed.length + matching.added.length > 0;
  const ownAccounts = hasChanges ? documentAccounts(desired) : new Set<string>();
  const statements: StatementChange[] = [];
  for (const [desiredIndex, liveIndex] of matching.changed) {
    const before = desired.statements[desiredIndex];
    const after = live.statements[liveIndex];
    if (before && after) statements.push(changedStatement(before, after, ownAccounts));
  }
  for (const index of matching.removed) {
    const statement = desired.statements[index];
    if (statement) statements.push(addedOrRemoved('removed', statement, ownAccounts));
  }
  for (const index of matching.added) {
    const statement = live.statements[index];
    if (statement) statements.push(addedOrRemoved('added', statement, ownAccounts));
  }
  statements.sort(
    (a, b) =>
      SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
      (a.desiredIndex ?? a.liveIndex ?? 0) - (b.desiredIndex ?? b.liveIndex ?? 0),
  );
  // Identical statement multisets grant identical access: skip the (costlier) access view.
  const access = statements.length > 0 ? accessChanges(desired, live) : [];
  const orphans = orphanedPrincipals(live);
  const documentChanges = versionChanges(desired, live);
  const severity = maxSeverity([
    ...statements.map((change) => change.severity),
    ...access.map((change) => change.severity),
    ...orphans.map((): Severity => 'medium'),
    ...documentChanges.map((change) => change.severity),
  ]);
  const diff: PolicyDiff = { statements, access, orphanedPrincipals: orphans, severity };
  if (documentChanges.length > 0) diff.documentChanges = documentChanges;
  return diff;
}

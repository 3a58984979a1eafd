/**
 * One statement-level change of a diff (docs/architecture.md#how-the-comparison-works): a statement
 * added or removed, or a pair of statements matched by similarity, with the exact principals,
 * actions, resources and conditions that differ and a severity from whether the change widens or
 * narrows access. A principal or action only moved to or from another statement (another statement
 * of the other document grants it the same, docs/architecture.md#effective-access-atoms) is not listed
 * as added or removed and does not count for the severity: a note names it.
 */
import {
  coversAllKmsActions,
  effectiveKmsActions,
  expandCached,
  isPermissionsManagement,
  principalAccount,
  renderCondition,
} from './access';
import { type AccessPart, type AtomIndex, grantedElsewhere } from './atoms';
import { ANYONE, conditionKey, isUniqueIdPrincipal } from './normalize';
import { displayPrincipal } from './principal-name';
import { findKmsAction, SERVICE_DATA_DATE } from './service-data';
import type { NormalizedStatement, SetDelta, Severity, StatementChange } from './types';

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

export function addedOrRemoved(
  kind: 'added' | 'removed',
  statement: NormalizedStatement,
  ownAccounts: Set<string>,
  atoms?: Atoms,
): StatementChange {
  const isDeny = statement.effect === 'Deny';
  // A principal or action another statement of the other document grants (or denies) the same is moved, not changed.
  const granted = grantedElsewhere(statement, kind === 'added' ? atoms?.desired : atoms?.live);
  const principals = splitMoved(statement.principals, 'principals', granted);
  const actions = splitMoved(statement.actions, 'actions', granted);
  // An Allow appearing or a Deny disappearing widens access; the opposite narrows it. An Allow
  // naming only deleted principals (unique IDs) grants no one anything: the orphan finding covers it.
  const onlyOrphans =
    statement.principalKind === 'Principal' && beneficiariesOf(statement, statement.principals).length === 0;
  const widening = (kind === 'added' ? !isDeny : isDeny) && !(kind === 'added' && onlyOrphans);
  const actionsAtStake = new Set(
    [...effectiveKmsActions(statement)].filter((action) => !granted({ actions: [action.toLowerCase()] })),
  );
  const severity = severityFrom(
    {
      widening,
      narrowing: !widening && !onlyOrphans,
      actionsAtStake,
      beneficiaries: beneficiariesOf(statement, principals.real),
    },
    ownAccounts,
  );
  const displayed = actions.real.map(displayAction);
  const change: StatementChange = {
    kind,
    severity,
    effect: statement.effect,
    summary: `Live ${kind === 'added' ? 'adds' : 'removes'} ${label(statement)}: ${whole(statement)}`,
    principals: kind === 'added' ? delta([], principals.real) : delta(principals.real, []),
    actions: kind === 'added' ? delta([], displayed) : delta(displayed, []),
    resources: kind === 'added' ? delta([], statement.resources) : delta(statement.resources, []),
    conditions:
      kind === 'added'
        ? { added: statement.conditions, removed: [] }
        : { added: [], removed: statement.conditions },
    notes: movedNote(statement.effect, principals.moved, actions.moved),
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

export type Atoms = { desired: AtomIndex; live: AtomIndex } | undefined;

/** A delta's items split into those really changed and those only moved (`granted`: another statement grants them the same). */
function splitMoved(
  items: readonly string[],
  element: 'principals' | 'actions',
  granted: (change: Partial<AccessPart>) => boolean,
): { real: string[]; moved: string[] } {
  const real: string[] = [];
  const moved: string[] = [];
  for (const item of items) (granted({ [element]: [item] }) ? moved : real).push(item);
  return { real, moved };
}

/** The note naming the principals and actions a change lists as written but that change no access. */
function movedNote(effect: string, principals: readonly string[], actions: readonly string[]): string[] {
  const items = [
    ...(principals.length > 0 ? [`principal ${list(principals.map(displayPrincipal))}`] : []),
    ...(actions.length > 0 ? [`action ${list(actions.map(displayAction))}`] : []),
  ];
  if (items.length === 0) return [];
  const verb = effect === 'Deny' ? 'denies' : 'grants';
  return [
    `Moved between statements, no change in access: ${items.join('; ')} (another statement ${verb} the same)`,
  ];
}

export function changedStatement(
  desired: NormalizedStatement,
  live: NormalizedStatement,
  ownAccounts: Set<string>,
  atoms?: Atoms,
): StatementChange {
  // What another statement of the other document grants (or denies) the same is moved, not changed:
  // removed here but still granted live, added here but already granted in the desired document.
  const stillGranted = grantedElsewhere(desired, atoms?.live, live.index);
  const alreadyGranted = grantedElsewhere(live, atoms?.desired, desired.index);
  const rawPrincipals = delta(desired.principals, live.principals);
  const rawActions = delta(desired.actions, live.actions);
  const principalsAdded = splitMoved(rawPrincipals.added, 'principals', alreadyGranted);
  const principalsRemoved = splitMoved(rawPrincipals.removed, 'principals', stillGranted);
  const actionsAdded = splitMoved(rawActions.added, 'actions', alreadyGranted);
  const actionsRemoved = splitMoved(rawActions.removed, 'actions', stillGranted);
  const principals = { added: principalsAdded.real, removed: principalsRemoved.real };
  const actions = { added: actionsAdded.real, removed: actionsRemoved.real };
  const moved = movedNote(
    live.effect,
    [...principalsRemoved.moved, ...principalsAdded.moved],
    [...actionsRemoved.moved, ...actionsAdded.moved],
  );
  const resources = delta(desired.resources, live.resources);
  const conditions = conditionDelta(desired, live);
  const desiredActions = effectiveKmsActions(desired);
  const liveActions = effectiveKmsActions(live);
  const gainedActions = new Set(
    [...setMinus(liveActions, desiredActions)].filter(
      (action) => !alreadyGranted({ actions: [action.toLowerCase()] }),
    ),
  );
  const lostActions = new Set(
    [...setMinus(desiredActions, liveActions)].filter(
      (action) => !stillGranted({ actions: [action.toLowerCase()] }),
    ),
  );
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

  const summary = `${label(desired)} changed: ${[...notes.filter((text) => !text.includes('same effective')), ...parts].join('; ')}`;
  notes.push(...moved);
  const change: StatementChange = {
    kind: 'changed',
    severity: severityFrom(assessment, ownAccounts),
    desiredIndex: desired.index,
    liveIndex: live.index,
    effect: live.effect,
    summary,
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

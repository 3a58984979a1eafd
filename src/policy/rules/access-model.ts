/**
 * Who may do what under a document, for the security rules (KMS301-KMS306): each statement's
 * effect, principals and actions, and whether a principal can call an action.
 */
import { isRecord } from '../json/value';
import { keyArnParts, resourcesCanNameKey } from '../key-arn';
import { expandActionPattern } from '../service-data';
import type { StatementAt } from '../shape/check';
import { elementPath, elementStrings, hasElement, type LocatedString, principalTypes } from '../shape/view';
import type { JsonPath, ValidateOptions } from '../types';
import { accountOf, isAccountRoot } from './principals';
import { type RuleContext, statementsOf } from './rule';

export interface PrincipalEntry {
  /** `*` for a bare `"Principal": "*"`, else the principal type (AWS, Service, ...). */
  type: string;
  value: string;
  path: JsonPath;
}

export interface StatementModel {
  effect?: 'Allow' | 'Deny';
  principalKind: 'Principal' | 'NotPrincipal' | 'none';
  /** The principals of known types of the statement's Principal (or else NotPrincipal). */
  principals: PrincipalEntry[];
  actionKind: 'Action' | 'NotAction' | 'none';
  actions: LocatedString[];
  hasCondition: boolean;
  /** False when the statement's Resource names no KMS key that can be this one (an S3 ARN, another key): it grants or denies nothing. */
  appliesToKey: boolean;
}

export interface AccessModel {
  statements: StatementModel[];
  /** The key's own account(s): stated in the options, else inferred (`accountInferred`). */
  ownAccounts: string[];
  /** True when the key's account was inferred from the policy, not stated (keyAccount, keyArn). */
  accountInferred: boolean;
}

function principalEntries(statement: StatementAt, element: 'Principal' | 'NotPrincipal'): PrincipalEntry[] {
  const value = statement.raw[element];
  const path = elementPath(statement, element);
  if (value === '*') return [{ type: '*', value: '*', path }];
  return principalTypes(value, path)
    .filter((entry) => entry.known)
    .flatMap((entry) => entry.ids.map((id) => ({ type: entry.type, value: id.value, path: id.path })));
}

/**
 * Whether a statement can apply to the key (resourcesCanNameKey): NotResource and a missing
 * Resource count as applying (KMS104 and KMS110 report them).
 */
function appliesToKey(statement: StatementAt, keyArn: string | undefined): boolean {
  if (!hasElement(statement, 'Resource')) return true;
  return resourcesCanNameKey(
    elementStrings(statement, 'Resource').map((entry) => entry.value),
    keyArn,
  );
}

function statementModel(statement: StatementAt, keyArn: string | undefined): StatementModel {
  const { Effect, Condition } = statement.raw;
  const principalKind = hasElement(statement, 'Principal')
    ? 'Principal'
    : hasElement(statement, 'NotPrincipal')
      ? 'NotPrincipal'
      : 'none';
  const actionKind = hasElement(statement, 'Action')
    ? 'Action'
    : hasElement(statement, 'NotAction')
      ? 'NotAction'
      : 'none';
  return {
    ...(Effect === 'Allow' || Effect === 'Deny' ? { effect: Effect } : {}),
    principalKind,
    principals: principalKind === 'none' ? [] : principalEntries(statement, principalKind),
    actionKind,
    actions: actionKind === 'none' ? [] : elementStrings(statement, actionKind),
    hasCondition: isRecord(Condition) && Object.keys(Condition).length > 0,
    appliesToKey: appliesToKey(statement, keyArn),
  };
}

/** The key's account when the options state it: keyAccount, else the account of keyArn. */
export function statedKeyAccount(options: ValidateOptions): string | undefined {
  return (
    options.keyAccount ?? (options.keyArn === undefined ? undefined : keyArnParts(options.keyArn)?.account)
  );
}

/** Whether the account's root, or an administrator of that account, may call kms:PutKeyPolicy. */
function accountManagesKey(
  statements: readonly StatementModel[],
  account: string,
  options: ValidateOptions,
): boolean {
  const partition = options.partition ?? 'aws';
  const keepers = [
    `arn:${partition}:iam::${account}:root`,
    ...(options.adminPrincipals ?? []).filter((admin) => accountOf(admin) === account),
  ];
  return keepers.some((principal) => canCall(statements, principal, 'kms:PutKeyPolicy', false));
}

/**
 * The key's own account (docs/rules.md#the-keys-account): stated (keyAccount, keyArn), else
 * inferred from the policy's AWS principals: among the accounts whose root or administrators may
 * call kms:PutKeyPolicy (kms:* included) the one named most often, else the one named most often
 * (the default key policy always names its own root). First seen wins a tie.
 */
function keyAccounts(
  statements: readonly StatementModel[],
  options: ValidateOptions,
): { accounts: string[]; inferred: boolean } {
  const stated = statedKeyAccount(options);
  if (stated !== undefined) return { accounts: [stated], inferred: false };
  const counts = new Map<string, number>();
  for (const statement of statements) {
    for (const principal of statement.principals) {
      const account = principal.type === 'AWS' ? accountOf(principal.value) : undefined;
      if (account) counts.set(account, (counts.get(account) ?? 0) + 1);
    }
  }
  const mostNamed = (accounts: string[]): string | undefined => {
    let best: string | undefined;
    let bestCount = 0;
    for (const account of accounts) {
      const count = counts.get(account) ?? 0;
      if (count > bestCount) {
        best = account;
        bestCount = count;
      }
    }
    return best;
  };
  const all = [...counts.keys()];
  const best =
    mostNamed(all.filter((account) => accountManagesKey(statements, account, options))) ?? mostNamed(all);
  return { accounts: best ? [best] : [], inferred: true };
}

/** Said after a message that depends on an inferred key account. */
export function inferredAccountNote(account: string | undefined): string {
  return account === undefined
    ? ''
    : ` (the key's account ${account} was inferred from the policy; state it with --key-account or ValidateOptions.keyAccount)`;
}

/** Whether some account the policy does not name would keep kms:PutKeyPolicy (through `*` or NotPrincipal). */
export function unnamedAccountManagesKey(statements: readonly StatementModel[], partition: string): boolean {
  return canCall(statements, `arn:${partition}:iam::000000000000:root`, 'kms:PutKeyPolicy', false);
}

const models = new WeakMap<RuleContext, AccessModel>();

/** The access model of the validated document, built once per validation. */
export function accessModel(ctx: RuleContext): AccessModel {
  let model = models.get(ctx);
  if (!model) {
    const keyArn =
      ctx.options.keyArn !== undefined && keyArnParts(ctx.options.keyArn) ? ctx.options.keyArn : undefined;
    const statements = statementsOf(ctx).map((statement) => statementModel(statement, keyArn));
    const { accounts, inferred } = keyAccounts(statements, ctx.options);
    model = { statements, ownAccounts: accounts, accountInferred: inferred };
    models.set(ctx, model);
  }
  return model;
}

export function isAnyone(principal: PrincipalEntry): boolean {
  return principal.value === '*' && (principal.type === '*' || principal.type === 'AWS');
}

export function statementCoversAction(statement: StatementModel, action: string): boolean {
  if (statement.actionKind === 'none') return false;
  const matches = statement.actions.some((entry) => expandActionPattern(entry.value).includes(action));
  return statement.actionKind === 'Action' ? matches : !matches;
}

export function grantsEverything(statement: StatementModel): boolean {
  return (
    statement.actionKind === 'Action' &&
    statement.actions.some((entry) => entry.value === '*' || entry.value.toLowerCase() === 'kms:*')
  );
}

/**
 * Does the statement's principal element name this principal? `viaAccountRoot`: a root (account)
 * principal also stands for the account's IAM principals (true for Deny, and for Allow through
 * IAM delegation).
 */
function principalNamedBy(entry: PrincipalEntry, principal: string, viaAccountRoot: boolean): boolean {
  if (isAnyone(entry)) return true;
  if (entry.type !== 'AWS') return false;
  if (entry.value === principal) return true;
  const sameAccountRoot = isAccountRoot(entry.value) && accountOf(entry.value) === accountOf(principal);
  // `111122223333` and `arn:aws:iam::111122223333:root` are the same principal.
  if (sameAccountRoot && isAccountRoot(principal)) return true;
  return viaAccountRoot && sameAccountRoot;
}

function statementAppliesTo(statement: StatementModel, principal: string, viaAccountRoot: boolean): boolean {
  const named = statement.principals.some((entry) => principalNamedBy(entry, principal, viaAccountRoot));
  if (statement.principalKind === 'Principal') return named;
  if (statement.principalKind === 'NotPrincipal') return !named;
  return false;
}

/** Allowed by some Allow statement and not overridden by an unconditional Deny. */
export function canCall(
  statements: readonly StatementModel[],
  principal: string,
  action: string,
  viaAccountRoot: boolean,
): boolean {
  const allowed = statements.some(
    (s) =>
      s.effect === 'Allow' &&
      s.appliesToKey &&
      statementCoversAction(s, action) &&
      statementAppliesTo(s, principal, viaAccountRoot),
  );
  const denied = statements.some(
    (s) =>
      s.effect === 'Deny' &&
      s.appliesToKey &&
      !s.hasCondition &&
      statementCoversAction(s, action) &&
      statementAppliesTo(s, principal, true),
  );
  return allowed && !denied;
}

/**
 * KMS301-KMS307, security: who may use and manage the key (docs/architecture.md#validating-a-key-policy).
 * KMS305 and KMS306 are the lockout refusals (docs/architecture.md#remediation-safety).
 */
import { elementPath, principalTypes } from '../shape/view';
import {
  type AccessModel,
  accessModel,
  canCall,
  grantsEverything,
  inferredAccountNote,
  isAnyone,
  type PrincipalEntry,
  type StatementModel,
  statementCoversAction,
  unnamedAccountManagesKey,
} from './access-model';
import { accountOf, awsPrincipalKind, isAccountRoot } from './principals';
import { documentOf, type Rule, type RuleContext, type RuleSink, statementsOf } from './rule';

interface Grant {
  statement: StatementModel;
  principal: PrincipalEntry;
  /** The principal's account, for an AWS principal that names one. */
  account?: string;
}

/** A rule over each principal of each Allow statement's Principal. */
function grantRule(
  code: 'KMS301' | 'KMS302' | 'KMS303' | 'KMS304',
  problem: (grant: Grant, model: AccessModel, ctx: RuleContext) => string | undefined,
): Rule {
  return {
    code,
    check(ctx: RuleContext, sink: RuleSink) {
      if (!documentOf(ctx)) return;
      const model = accessModel(ctx);
      for (const statement of model.statements) {
        // A statement whose Resource is not this key grants nothing (KMS104 says so).
        if (
          statement.effect !== 'Allow' ||
          statement.principalKind !== 'Principal' ||
          !statement.appliesToKey
        )
          continue;
        for (const principal of statement.principals) {
          const account = principal.type === 'AWS' ? accountOf(principal.value) : undefined;
          const message = problem({ statement, principal, account }, model, ctx);
          if (message) sink.add(principal.path, message);
        }
      }
    },
  };
}

const anyoneWithoutCondition = grantRule('KMS301', ({ statement, principal }) =>
  isAnyone(principal) && !statement.hasCondition
    ? 'Principal * on an Allow without a Condition lets every identity in every AWS account use the key'
    : undefined,
);

const outsideAllowedAccounts = grantRule('KMS302', ({ principal, account }, _model, { options }) => {
  const allowed = options.allowedAccounts ?? [];
  if (!account || allowed.length === 0 || allowed.includes(account)) return undefined;
  return `Principal ${principal.value} belongs to account ${account}, which is not in the allowed accounts (${allowed.join(', ')})`;
});

/** The key account's root or a named administrator. */
function isAdmin(principal: PrincipalEntry, ownAccounts: readonly string[], ctx: RuleContext): boolean {
  if (principal.type !== 'AWS') return false;
  if ((ctx.options.adminPrincipals ?? []).includes(principal.value)) return true;
  return isAccountRoot(principal.value) && ownAccounts.includes(accountOf(principal.value) ?? '');
}

/** The note that a message depends on an inferred key account, or nothing when it is stated. */
function accountNote(model: AccessModel): string {
  return model.accountInferred ? inferredAccountNote(model.ownAccounts[0]) : '';
}

const fullAccessToNonAdmin = grantRule('KMS303', ({ statement, principal }, model, ctx) =>
  grantsEverything(statement) && !isAdmin(principal, model.ownAccounts, ctx)
    ? `${principal.value} is given every KMS action (kms:*) but is neither the key account root nor a named administrator${isAnyone(principal) ? '' : accountNote(model)}`
    : undefined,
);

const putKeyPolicyBroadly = grantRule('KMS304', ({ statement, principal, account }, model) => {
  const { ownAccounts } = model;
  const crossAccount = account !== undefined && ownAccounts.length > 0 && !ownAccounts.includes(account);
  if (!(isAnyone(principal) || crossAccount) || !statementCoversAction(statement, 'kms:PutKeyPolicy')) {
    return undefined;
  }
  const who = isAnyone(principal) ? 'Anyone (*)' : `${principal.value} (another account)`;
  const note = isAnyone(principal) ? '' : accountNote(model);
  return `${who} may call kms:PutKeyPolicy, i.e. replace this key policy and take the key over${note}`;
});

const lockoutRisk: Rule = {
  code: 'KMS305',
  check(ctx, sink) {
    if (!documentOf(ctx)) return;
    const model = accessModel(ctx);
    const { statements, ownAccounts } = model;
    const partition = ctx.options.partition ?? 'aws';
    const named = [
      ...ownAccounts.map((account) => `arn:${partition}:iam::${account}:root`),
      ...(ctx.options.adminPrincipals ?? []),
    ];
    // With no account and no administrator known, only a grant to anyone (*) is known to reach the root.
    const keepers = named.length > 0 ? named : ['*'];
    if (keepers.some((principal) => canCall(statements, principal, 'kms:PutKeyPolicy', false))) return;
    // Never on a guess: an inferred account is one whose root or administrators keep kms:PutKeyPolicy
    // when any named account's do, so a lockout here holds for every account the policy names. It is
    // not reported when an account the policy does not name could still manage the key.
    if (model.accountInferred && unnamedAccountManagesKey(statements, partition)) return;
    const whom = named.length > 0 ? ` (${named.join(', ')})` : '';
    const guess =
      model.accountInferred && ownAccounts.length > 0
        ? `; no other account the policy names keeps it either${accountNote(model)}`
        : '';
    sink.add(
      '$.Statement',
      `Lockout risk: no Allow statement keeps the account root or a named administrator${whom} able to call kms:PutKeyPolicy; the key could become unmanageable${guess}`,
    );
  },
};

const guardLockedOut: Rule = {
  code: 'KMS306',
  check(ctx, sink) {
    const guard = ctx.options.guardPrincipal;
    if (!documentOf(ctx) || ctx.options.mode !== 'remediate' || !guard) return;
    const { statements } = accessModel(ctx);
    const missing = ['kms:GetKeyPolicy', 'kms:PutKeyPolicy'].filter(
      (action) => !canCall(statements, guard, action, true),
    );
    if (missing.length === 0) return;
    sink.add(
      '$.Statement',
      `In remediate mode the guard (${guard}) must be able to call ${missing.join(' and ')}, but this policy does not allow it (directly or through its account root)`,
    );
  },
};

const orphanedPrincipal: Rule = {
  code: 'KMS307',
  check(ctx, sink) {
    for (const statement of statementsOf(ctx)) {
      for (const element of ['Principal', 'NotPrincipal'] as const) {
        for (const entry of principalTypes(statement.raw[element], elementPath(statement, element))) {
          if (entry.type !== 'AWS') continue;
          for (const { value, path } of entry.ids) {
            if (awsPrincipalKind(value) !== 'unique-id') continue;
            sink.add(
              path,
              `Orphaned principal: ${value} is a unique ID, which KMS shows after the IAM ${value.startsWith('AROA') ? 'role' : 'user'} was deleted; remove it or restore the ARN`,
            );
          }
        }
      }
    }
  },
};

export const SECURITY_RULES: readonly Rule[] = [
  anyoneWithoutCondition,
  outsideAllowedAccounts,
  fullAccessToNonAdmin,
  putKeyPolicyBroadly,
  lockoutRisk,
  guardLockedOut,
  orphanedPrincipal,
];

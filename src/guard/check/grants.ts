/**
 * Grants (docs/architecture.md#grants): a grant gives its grantee use of the key without any change to
 * the key policy, so every managed key's grants are checked against its entry. Allowed are the grants AWS
 * services create for AWS resources (recognised by their grantee: a service principal such as
 * `rds.eu-west-1.amazonaws.com`, or an AWS-owned session such as `assumed-role/aws:ec2-infrastructure/…`,
 * whose `aws:` role name no customer can create) when the entry allows them, and the grants the entry's
 * allow-list names. Any other grant is `grant-not-allowed`: high, critical when the grantee is in another
 * account or the grant allows Decrypt, ReEncrypt*, CreateGrant or GenerateDataKey*. In remediate mode the
 * guard records the grant verbatim in the ledger first, then revokes it.
 */
import type { KeyGrant } from '../../core/finding';
import { renderPlaceholders } from '../../manifest/placeholders';
import type { GrantRule, ManagedKey } from '../../manifest/types';
import type { Severity } from '../../policy/types';
import { KeyUnavailableError, KmsAccessDeniedError } from '../errors';
import { type CheckContext, publishFinding, title } from './context';

const SERVICE_PRINCIPAL = /^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/;
const AWS_OWNED_SESSION = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/aws:[^/]+\/.+$/;
const SERVICE_LINKED_ROLE = /^arn:aws[a-z-]*:iam::\d{12}:role\/aws-service-role\/.+$/;
const ACCOUNT_IN_PRINCIPAL = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/;
const DANGEROUS_OPERATIONS = /^(Decrypt|ReEncrypt.*|CreateGrant|GenerateDataKey.*)$/;

/** A grant an AWS service created for an AWS resource, recognised by its grantee alone (the audit has no CloudTrail). */
export function isServiceGrant(grant: KeyGrant): boolean {
  const grantee = grant.granteePrincipal ?? '';
  return (
    SERVICE_PRINCIPAL.test(grantee) || AWS_OWNED_SESSION.test(grantee) || SERVICE_LINKED_ROLE.test(grantee)
  );
}

/** `*` and `?` glob over the whole principal. */
function globMatches(pattern: string, value: string): boolean {
  const expression = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${expression}$`).test(value);
}

function hasConstraints(grant: KeyGrant): boolean {
  const { encryptionContextSubset, encryptionContextEquals } = grant.constraints ?? {};
  return (
    Object.keys(encryptionContextSubset ?? {}).length > 0 ||
    Object.keys(encryptionContextEquals ?? {}).length > 0
  );
}

function ruleAllows(ctx: CheckContext, rule: GrantRule, grant: KeyGrant): boolean {
  const grantee = renderPlaceholders(
    rule.grantee,
    ctx.location,
    `grant rule of ${ctx.managed?.name ?? 'the entry'}`,
  );
  return (
    grant.granteePrincipal !== undefined &&
    globMatches(grantee, grant.granteePrincipal) &&
    grant.operations.every((operation) => rule.operations.includes(operation)) &&
    (!rule.requireConstraints || hasConstraints(grant))
  );
}

export function isGrantAllowed(ctx: CheckContext, entry: ManagedKey, grant: KeyGrant): boolean {
  if (entry.grants.allowServiceGrants && isServiceGrant(grant)) return true;
  return entry.grants.allow.some((rule) => ruleAllows(ctx, rule, grant));
}

function grantSeverity(ctx: CheckContext, grant: KeyGrant): Severity {
  const account = ACCOUNT_IN_PRINCIPAL.exec(grant.granteePrincipal ?? '')?.[1];
  const crossAccount = account !== undefined && account !== ctx.location.accountId;
  const dangerous = grant.operations.some((operation) => DANGEROUS_OPERATIONS.test(operation));
  return crossAccount || dangerous ? 'critical' : 'high';
}

function describeGrant(grant: KeyGrant): string {
  return `grant ${grant.grantId} to ${grant.granteePrincipal ?? '(no grantee)'} for ${grant.operations.join(', ') || '(no operations)'}${hasConstraints(grant) ? ' (with an encryption-context constraint)' : ' (no constraint)'}`;
}

async function reportGrant(ctx: CheckContext, grant: KeyGrant): Promise<void> {
  const severity = grantSeverity(ctx, grant);
  const details = [
    `The key has a ${describeGrant(grant)}, which the manifest entry does not allow: the grantee can use the key without any change to its policy.`,
  ];
  let action: 'alerted' | 'remediated' | 'failed' = 'alerted';
  if (ctx.mode === 'remediate') {
    // Write-ahead: the grant is recorded verbatim before it is revoked; if that fails, nothing is revoked
    // and the invocation fails (the event is retried), so no revoked grant is ever lost.
    await ctx.deps.ledger.recordReapply(ctx.keyArn, JSON.stringify(grant), ctx.now, {
      subject: 'grant',
      eventId: ctx.request.eventId,
      actorArn: ctx.request.actor?.arn,
    });
    try {
      await ctx.deps.store.revokeGrant(ctx.keyId, grant.grantId);
      ctx.log('warn', 'grant_revoked', { grantId: grant.grantId, grantee: grant.granteePrincipal });
      details.push(
        'The guard recorded the grant verbatim in the remediation ledger, then revoked it (RevokeGrant).',
      );
      action = 'remediated';
    } catch (error) {
      if (!(error instanceof KmsAccessDeniedError || error instanceof KeyUnavailableError)) throw error;
      if (error instanceof KeyUnavailableError && error.reason === 'not-found') {
        // The key was just listed, so it is the grant that is gone: retired or revoked meanwhile.
        details.push(
          'The grant was retired or revoked before the guard could revoke it; it is recorded in the ledger.',
        );
      } else {
        action = 'failed';
        details.push(
          `RevokeGrant failed (${error.message}): the grant is still in force. Revoke it by hand; it is recorded in the ledger.`,
        );
        ctx.log('error', 'grant_revoke_failed', { grantId: grant.grantId, error: error.message });
      }
    }
  } else {
    details.push(
      ctx.mode === 'dry-run'
        ? 'Dry-run mode: remediation would record the grant in the ledger and revoke it; the guard changed nothing.'
        : 'Alert mode: the guard changed nothing. Revoke it with: aws kms revoke-grant --key-id <key> --grant-id <grant id>, or allow it in the manifest entry (grants.allow).',
    );
  }
  await publishFinding(ctx, {
    kind: 'grant-not-allowed',
    severity,
    action,
    title: title(ctx, 'grant-not-allowed', severity, ` (${grant.operations.slice(0, 3).join(', ')})`),
    details,
    grant,
    idSuffix: grant.grantId,
  });
}

/** Checks every grant of a managed key (one paginated ListGrants). */
export async function checkGrants(ctx: CheckContext, entry: ManagedKey): Promise<void> {
  const grants = await ctx.deps.store.listGrants(ctx.keyId);
  for (const grant of grants) {
    if (!isGrantAllowed(ctx, entry, grant)) await reportGrant(ctx, grant);
  }
}

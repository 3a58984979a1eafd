/**
 * Unmanaged is not unguarded (docs/architecture.md#unmanaged-keys): a key no entry manages and no binding
 * holds still has its live policy judged by the security rules. A policy that lets anyone decrypt or
 * administer the key without a narrowing condition is critical; any other security finding (accounts
 * outside `allowedAccounts`, full access to a non-administrator, PutKeyPolicy granted broadly, a lockout
 * risk) is high; a clean policy is the LOW `unmanaged-key` finding (or nothing, with `unmanagedKeys: ignore`).
 */
import { renderPlaceholders } from '../../manifest/placeholders';
import { effectiveKmsActions, isPermissionsManagement } from '../../policy/access';
import { ANYONE, grantsOnKey, normalizePolicy } from '../../policy/normalize';
import { parsePolicy } from '../../policy/parse';
import type { Severity, ValidationFinding } from '../../policy/types';
import { validatePolicy } from '../../policy/validate';
import {
  type CheckContext,
  type CheckOutcome,
  publish,
  quietOutcome,
  readLivePolicy,
  title,
} from './context';

/** Actions that read what the key protects: anyone holding one without a condition can decrypt. */
const DECRYPTING = /^kms:(decrypt|reencryptfrom|generatedatakey.*|\*)$/i;

/**
 * Allow statements with Principal `*` and no Condition, and the KMS actions they give everyone on
 * this key (a statement whose Resource does not name the key gives nothing).
 */
function anyoneCan(livePolicy: string, partition: string, keyArn: string): Set<string> {
  const parsed = parsePolicy(livePolicy);
  const actions = new Set<string>();
  if (!parsed.ok) return actions;
  const policy = normalizePolicy(parsed.document, { partition, keyArn });
  for (const statement of policy.statements) {
    if (!grantsOnKey(statement, policy.keyArn)) continue;
    if (statement.effect !== 'Allow' || statement.principalKind !== 'Principal') continue;
    if (!statement.principals.includes(ANYONE) || statement.conditions.length > 0) continue;
    for (const action of effectiveKmsActions(statement)) actions.add(action);
  }
  return actions;
}

function isSecurityFinding(finding: ValidationFinding): boolean {
  return /^KMS30[1-6]$/.test(finding.code);
}

export async function checkUnmanaged(ctx: CheckContext): Promise<CheckOutcome> {
  if (ctx.description?.manager === 'AWS') {
    ctx.log('info', 'aws_managed_key_skipped');
    return quietOutcome(ctx, 'aws-managed');
  }
  const { manifest } = ctx.deps;
  const livePolicy = await readLivePolicy(ctx);
  const { location } = ctx;
  const validation = validatePolicy(livePolicy, {
    allowedAccounts:
      manifest.allowedAccounts.length === 0 ? [] : [location.accountId, ...manifest.allowedAccounts],
    adminPrincipals: manifest.adminPrincipals.map((principal) =>
      renderPlaceholders(principal, location, manifest.path),
    ),
    keyAccount: location.accountId,
    keyArn: ctx.keyArn,
    partition: location.partition,
    mode: 'alert',
  });
  const risks = validation.findings.filter(isSecurityFinding);
  const exposed = [...anyoneCan(livePolicy, location.partition, ctx.keyArn)].filter(
    (action) => DECRYPTING.test(action) || isPermissionsManagement(action),
  );
  if (risks.length === 0 && exposed.length === 0 && manifest.unmanagedKeys === 'ignore') {
    ctx.log('info', 'unmanaged_key_ignored');
    return quietOutcome(ctx, 'ignored');
  }
  const severity: Severity = exposed.length > 0 ? 'critical' : risks.length > 0 ? 'high' : 'low';
  const details =
    severity === 'low'
      ? [
          'No manifest entry matches this key (by key ID, ARN, alias or tag), so the guard does not know its desired policy.',
          'Its live policy passes the security rules. Add it to policies/manifest.yaml to manage it, or set unmanagedKeys: ignore.',
        ]
      : [
          'No manifest entry manages this key, and its live policy fails the security rules:',
          ...(exposed.length > 0
            ? [
                `Anyone in any AWS account may call ${exposed.slice(0, 8).join(', ')}${exposed.length > 8 ? ` and ${exposed.length - 8} more` : ''} without a condition.`,
              ]
            : []),
          ...risks.map((finding) => `${finding.code} ${finding.path}: ${finding.message}`),
          'Fix the key policy (or delete the key), then add the key to policies/manifest.yaml so the guard keeps it that way.',
        ];
  return publish(ctx, {
    kind: 'unmanaged-key',
    severity,
    action: 'none',
    title: title(ctx, 'unmanaged-key', severity, severity === 'low' ? '' : ': risky policy'),
    details,
    validation: { desired: [], live: validation.findings },
    livePolicy,
  });
}

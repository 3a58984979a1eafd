/**
 * The options a desired document is validated with, shared by the manifest's load (./load.ts) and the check
 * (src/guard/check/evaluation.ts). A module of its own so that the Lambda functions, which validate at init only
 * a manifest not validated at package time, do not load the loader with it
 * (docs/architecture.md#the-manifest-validated-at-package-time).
 */
import type { GuardMode } from '../core/key';
import type { ValidateOptions } from '../policy/types';
import { guardPrincipalOf, renderPlaceholders } from './placeholders';
import type { LoadedManifest, PlaceholderValues } from './types';

/**
 * Options for validatePolicy for one managed key in one account/region: the manifest's allow-list plus
 * the key's own account, the admin principals rendered, the guard role, the key's mode.
 */
export function validationOptionsFor(
  manifest: Pick<LoadedManifest, 'allowedAccounts' | 'adminPrincipals' | 'path'>,
  mode: GuardMode,
  values: PlaceholderValues,
): ValidateOptions {
  return {
    allowedAccounts:
      manifest.allowedAccounts.length === 0 ? [] : [values.accountId, ...manifest.allowedAccounts],
    adminPrincipals: manifest.adminPrincipals.map((principal) =>
      renderPlaceholders(principal, values, manifest.path),
    ),
    guardPrincipal: guardPrincipalOf(values),
    mode,
    partition: values.partition,
  };
}

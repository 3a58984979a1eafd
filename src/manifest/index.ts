/** The manifest module (contract in ./types): load + validate, match keys, render desired documents. */
import { renderPlaceholders } from './placeholders';
import type { ManagedKey, PlaceholderValues } from './types';

export { LOCKOUT_REFUSAL_NOTE, refusalMessage, refusesDesiredDocument } from './documents';
export { ManifestError } from './errors';
export { loadManifest, validationOptionsFor } from './load';
export { describeMatcher, matchesKey } from './match';
export {
  GUARD_ROLE_ARN_TEMPLATE,
  guardPrincipalOf,
  guardRoleArn,
  KNOWN_PLACEHOLDERS,
  PLACEHOLDER_NAMES,
  placeholderValuesFromArn,
  renderPlaceholders,
  SAMPLE_PLACEHOLDER_VALUES,
  unknownPlaceholders,
} from './placeholders';
export { factsOf, type KeyFacts, type Resolution, resolveEntry } from './resolve';
export { hasScope, inScope, type OusOf, scopedManifest } from './scope';
export type * from './types';

/** The key's desired document with its placeholders filled in (docs/manifest.md#placeholders); IAM variables untouched. */
export function renderDesiredPolicy(key: ManagedKey, target: PlaceholderValues): string {
  return renderPlaceholders(key.policyTemplate, target, key.policyFile);
}

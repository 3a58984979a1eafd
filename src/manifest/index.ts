/** The manifest module (contract in ./types): load + validate, match keys, render desired documents. */

export { LOCKOUT_REFUSAL_NOTE, refusalMessage, refusesDesiredDocument } from './documents';
export { ManifestError } from './errors';
export { loadManifest } from './load';
export { describeMatcher, matchesKey } from './match';
export {
  GUARD_ROLE_ARN_TEMPLATE,
  guardPrincipalOf,
  guardRoleArn,
  KNOWN_PLACEHOLDERS,
  PLACEHOLDER_NAMES,
  placeholderValuesFromArn,
  renderDesiredPolicy,
  renderPlaceholders,
  SAMPLE_PLACEHOLDER_VALUES,
  unknownPlaceholders,
} from './placeholders';
export { factsOf, type KeyFacts, type Resolution, resolveEntry } from './resolve';
export { hasScope, inScope, type OusOf, scopedManifest } from './scope';
export type * from './types';
export { validationOptionsFor } from './validation-options';

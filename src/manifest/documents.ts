/**
 * Validation of one rendered desired document at load time. Only a document that passes is ever
 * applied (docs/architecture.md#remediation-safety), so every error here makes the whole manifest fail.
 */

import type { ValidateOptions, ValidationFinding } from '../policy/types';
import { validatePolicy } from '../policy/validate';

export function checkDesiredDocument(rendered: string, options: ValidateOptions): ValidationFinding[] {
  return validatePolicy(rendered, options).findings;
}

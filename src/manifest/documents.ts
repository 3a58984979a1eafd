/**
 * Validation of one rendered desired document at load time, and the one decision of which findings
 * refuse a desired document. Only a document that passes is ever applied
 * (docs/architecture.md#remediation-safety), so every refusal here makes the whole manifest fail: the
 * Lambda's init, `kms-guard validate` (exit 1), `audit`/`apply` (exit 2) and `init` (exit 1) all
 * refuse exactly the same documents.
 */

import { REMEDIATION_BLOCKING_CODES } from '../policy/catalogue';
import type { ValidateOptions, ValidationFinding } from '../policy/types';
import { validatePolicy } from '../policy/validate';

const BLOCKING_CODES: ReadonlySet<string> = new Set(REMEDIATION_BLOCKING_CODES);

/** What a lockout refusal adds to the validator's message (the same words as `kms-guard validate`). */
export const LOCKOUT_REFUSAL_NOTE =
  'refused: the guard never applies a policy that could lock out its administrators or itself';

export function checkDesiredDocument(rendered: string, options: ValidateOptions): ValidationFinding[] {
  return validatePolicy(rendered, options).findings;
}

/**
 * Whether a finding about a desired document refuses it: every error, and the lockout rules
 * remediation refuses (REMEDIATION_BLOCKING_CODES: KMS305 in every mode; KMS306, which the validator
 * reports only when it validates for remediate mode). Lockout rules are warnings in the catalogue
 * because a live policy may look like that; a desired one may not (docs/rules.md#lockout-rules-are-refusals).
 */
export function refusesDesiredDocument(finding: ValidationFinding): boolean {
  return finding.level === 'error' || BLOCKING_CODES.has(finding.code);
}

/** The finding's message, with the refusal note when a lockout rule is what refuses it. */
export function refusalMessage(finding: ValidationFinding): string {
  return BLOCKING_CODES.has(finding.code) ? `${finding.message} — ${LOCKOUT_REFUSAL_NOTE}` : finding.message;
}

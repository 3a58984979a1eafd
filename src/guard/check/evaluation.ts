/**
 * The evaluation of a managed key: its desired document rendered for the key's location, the live
 * document, both validated, and their comparison. Pure once the live document is read.
 */
import type { FindingKind } from '../../core/finding';
import { renderDesiredPolicy } from '../../manifest/placeholders';
import type { ManagedKey, PlaceholderValues } from '../../manifest/types';
import { validationOptionsFor } from '../../manifest/validation-options';
import { comparePolicies } from '../../policy/compare';
import { maxSeverity } from '../../policy/diff';
import type {
  CompareResult,
  NormalizeContext,
  Severity,
  ValidateOptions,
  ValidationFinding,
  ValidationResult,
} from '../../policy/types';
import { validatePolicy } from '../../policy/validate';
import { type CheckContext, type FindingParts, readLivePolicy } from './context';

export interface Evaluation {
  desiredPolicy: string;
  livePolicy: string;
  comparison: CompareResult;
  desiredValidation: ValidationResult;
  liveValidation: ValidationResult;
}

/**
 * What the guard knows of the key, for both documents: its ARN (a `Resource` naming it means `"*"`,
 * docs/architecture.md#comparing-two-key-policies) and so its account, never a guess.
 */
function keyContext(ctx: CheckContext): NormalizeContext {
  return { partition: ctx.location.partition, keyArn: ctx.keyArn, keyAccount: ctx.location.accountId };
}

/**
 * The placeholder values of this key: where it lives, and the principal the guard acts as in its account (the
 * spoke role in an organization's member account), so `{{GuardPrincipal}}` names a role that exists there.
 */
function placeholderValues(ctx: CheckContext): PlaceholderValues {
  const { guardPrincipalArn } = ctx.deps;
  return guardPrincipalArn ? { ...ctx.location, guardPrincipal: guardPrincipalArn } : ctx.location;
}

function validationOptions(ctx: CheckContext): ValidateOptions {
  // A dry run predicts remediation, so the desired document is judged by the remediate-mode rules.
  const validationMode = ctx.mode === 'dry-run' ? 'remediate' : ctx.mode;
  return {
    ...validationOptionsFor(ctx.deps.manifest, validationMode, placeholderValues(ctx)),
    keyAccount: ctx.location.accountId,
    keyArn: ctx.keyArn,
  };
}

function evaluationOf(
  ctx: CheckContext,
  desiredPolicy: string,
  desiredValidation: ValidationResult,
  livePolicy: string,
): Evaluation {
  // The live document is judged as a policy, not as a remediation target: no guard-principal rule.
  const liveValidation = validatePolicy(livePolicy, {
    ...validationOptions(ctx),
    guardPrincipal: undefined,
    mode: 'alert',
  });
  const comparison = comparePolicies(desiredPolicy, livePolicy, keyContext(ctx));
  return { desiredPolicy, livePolicy, comparison, desiredValidation, liveValidation };
}

/** The evaluation with another live document (read again right before a write). */
export function withLive(ctx: CheckContext, evaluation: Evaluation, livePolicy: string): Evaluation {
  return evaluationOf(ctx, evaluation.desiredPolicy, evaluation.desiredValidation, livePolicy);
}

export async function evaluate(ctx: CheckContext, managed: ManagedKey): Promise<Evaluation> {
  const desiredPolicy = renderDesiredPolicy(managed, placeholderValues(ctx));
  const livePolicy = await readLivePolicy(ctx);
  return evaluationOf(ctx, desiredPolicy, validatePolicy(desiredPolicy, validationOptions(ctx)), livePolicy);
}

/** Whether a live document is equivalent to the evaluated desired one (the re-reads after a write). */
export function isEquivalentToDesired(ctx: CheckContext, evaluation: Evaluation, live: string): boolean {
  return comparePolicies(evaluation.desiredPolicy, live, keyContext(ctx)).status === 'equivalent';
}

export function validationOf(evaluation: Evaluation): {
  desired: ValidationFinding[];
  live: ValidationFinding[];
} {
  return { desired: evaluation.desiredValidation.findings, live: evaluation.liveValidation.findings };
}

/**
 * What every finding about an evaluated key carries: the comparison, both validations and both
 * documents (the live one as read before any write: in remediation, the overwritten document).
 */
export function evidenceOf(
  evaluation: Evaluation,
): Required<Pick<FindingParts, 'comparison' | 'validation' | 'livePolicy' | 'desiredPolicy'>> {
  return {
    comparison: evaluation.comparison,
    validation: validationOf(evaluation),
    livePolicy: evaluation.livePolicy,
    desiredPolicy: evaluation.desiredPolicy,
  };
}

/** Whether the live policy gives anyone access the desired one does not (widening drift). */
export function widensAccess(evaluation: Evaluation): boolean {
  const { diff } = evaluation.comparison;
  return (
    diff.access.some((change) => change.gained.length > 0) ||
    diff.statements.some((change) => change.severity === 'critical' || change.severity === 'high')
  );
}

export function driftKind(evaluation: Evaluation): FindingKind {
  const liveProblems = evaluation.comparison.problems.some((problem) => problem.document === 'live');
  if (liveProblems) return 'invalid-live';
  const orphaned = evaluation.comparison.diff.orphanedPrincipals.some((orphan) => orphan.where === 'live');
  return orphaned ? 'orphaned-principal' : 'drift';
}

export function driftSeverity(evaluation: Evaluation, kind: FindingKind): Severity {
  const floor: Severity = kind === 'invalid-live' ? 'high' : kind === 'orphaned-principal' ? 'medium' : 'low';
  return maxSeverity([evaluation.comparison.diff.severity, floor]);
}

export function formatFindings(findings: readonly ValidationFinding[]): string[] {
  return findings.map((finding) => `${finding.code} ${finding.path}: ${finding.message}`);
}

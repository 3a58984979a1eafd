/**
 * Drift on a key the guard does not write: alert mode (say what changed) and dry-run mode (say what
 * remediation would do, or why it would refuse).
 */
import { maxSeverity } from '../../policy/diff';
import { type CheckContext, type CheckOutcome, publish, title } from './context';
import { driftKind, driftSeverity, type Evaluation, evidenceOf } from './evaluation';
import { refusalFromFlapping, refusalFromValidation } from './refusals';
import { restoreSteps } from './remediate';

export async function alertDrift(ctx: CheckContext, evaluation: Evaluation): Promise<CheckOutcome> {
  const kind = driftKind(evaluation);
  const severity = driftSeverity(evaluation, kind);
  const details: string[] = [];
  if (kind === 'invalid-live') {
    details.push(
      'The live document could not be compared fully (it does not parse as a key policy or uses unknown elements):',
      ...evaluation.comparison.problems.flatMap((problem) =>
        problem.issues.map((issue) => `${problem.document} ${issue.path}: ${issue.message}`),
      ),
    );
  }
  if (kind === 'orphaned-principal') {
    details.push(
      ...evaluation.comparison.diff.orphanedPrincipals.map((orphan) => `Orphaned: ${orphan.message}`),
      'KMS shows a unique ID where an ARN was: the IAM role or user was deleted. Re-applying the desired policy would be refused by KMS while that principal does not exist; recreate it or change the desired policy.',
    );
  }
  details.push('Alert mode: the guard changed nothing.');
  return publish(ctx, {
    kind,
    severity,
    action: 'alerted',
    title: title(ctx, kind, severity),
    details,
    ...evidenceOf(evaluation),
  });
}

export async function dryRun(ctx: CheckContext, evaluation: Evaluation): Promise<CheckOutcome> {
  const refusal = refusalFromValidation(evaluation) ?? (await refusalFromFlapping(ctx, evaluation));
  const severity = maxSeverity([evaluation.comparison.diff.severity, refusal?.severity ?? 'low']);
  const details: string[] = [];
  if (refusal) {
    details.push(
      `Remediation would REFUSE to write (${refusal.kind}): ${refusal.reason}.`,
      ...refusal.lines,
      'Dry-run mode: the guard changed nothing.',
    );
  } else {
    details.push(
      `Remediation would: DescribeKey (refusing an AWS managed key, a multi-Region replica or a key that is not Enabled), then ${restoreSteps(ctx)}; the overwritten document would be kept in the finding and the ledger.`,
      'Dry-run mode: the guard changed nothing.',
    );
  }
  return publish(ctx, {
    kind: 'would-remediate',
    severity,
    action: 'alerted',
    title: title(ctx, 'would-remediate', severity, refusal ? ` (would refuse: ${refusal.kind})` : ''),
    details,
    ...evidenceOf(evaluation),
  });
}

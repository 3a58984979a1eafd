/**
 * Why remediation must not write the desired document (docs/architecture.md#remediation-safety):
 * validation (lockout risk, invalid desired), flapping, and the key's own state. Each refusal becomes
 * a finding; nothing here writes.
 */
import type { FindingKind } from '../../core/finding';
import type { KeyDescription } from '../../core/key';
import { REMEDIATION_BLOCKING_CODES } from '../../policy/catalogue';
import type { Severity } from '../../policy/types';
import { type CheckContext, type CheckOutcome, publish, title } from './context';
import { type Evaluation, evidenceOf, formatFindings, widensAccess } from './evaluation';

export interface Refusal {
  kind: FindingKind;
  severity: Severity;
  reason: string;
  lines: string[];
}

const BLOCKING_CODES: ReadonlySet<string> = new Set(REMEDIATION_BLOCKING_CODES);

export function refusalFromValidation(evaluation: Evaluation): Refusal | undefined {
  const blocking = evaluation.desiredValidation.findings.filter((finding) =>
    BLOCKING_CODES.has(finding.code),
  );
  if (blocking.length > 0) {
    return {
      kind: 'lockout-risk',
      severity: 'critical',
      reason: 'the desired policy would lock out the guard or leave the key without an administrator',
      lines: formatFindings(blocking),
    };
  }
  const desiredProblems = evaluation.comparison.problems.filter((problem) => problem.document === 'desired');
  if (!evaluation.desiredValidation.valid || desiredProblems.length > 0) {
    const errors = evaluation.desiredValidation.findings.filter((finding) => finding.level === 'error');
    return {
      kind: 'invalid-desired',
      severity: 'high',
      reason: 'the desired policy does not pass validation',
      lines: [
        ...formatFindings(errors),
        ...desiredProblems.flatMap((problem) =>
          problem.issues.map((issue) => `${issue.path}: ${issue.message}`),
        ),
      ],
    };
  }
  return undefined;
}

/** Re-applies of the key inside the flapping window, when they reached the manifest's limit. */
export interface Flapping {
  count: number;
  maxReapplies: number;
  windowMinutes: number;
}

async function flappingOf(ctx: CheckContext): Promise<Flapping | undefined> {
  const { maxReapplies, windowMinutes } = ctx.deps.manifest.flapping;
  const count = await ctx.deps.ledger.reapplyCount(ctx.keyArn, ctx.now);
  return count < maxReapplies ? undefined : { count, maxReapplies, windowMinutes };
}

/**
 * The flapping limit pauses only drift that gives nobody new access (docs/architecture.md#remediation-safety):
 * widening drift is restored every time, however often someone fights the guard.
 */
export async function refusalFromFlapping(
  ctx: CheckContext,
  evaluation: Evaluation,
): Promise<Refusal | undefined> {
  if (widensAccess(evaluation)) return undefined;
  const flapping = await flappingOf(ctx);
  if (!flapping) return undefined;
  return {
    kind: 'flapping',
    severity: 'critical',
    reason: `the desired policy was already re-applied ${flapping.count} times in the last ${flapping.windowMinutes} minutes (limit ${flapping.maxReapplies}): something keeps changing it back`,
    lines: [
      'This drift gives nobody new access, so remediation of this key is paused until the window passes; find and stop whatever keeps changing it.',
    ],
  };
}

export function refusalFromKeyState(description: KeyDescription): Refusal | undefined {
  if (description.manager === 'AWS') {
    return {
      kind: 'key-not-writable',
      severity: 'high',
      reason: 'it is an AWS managed key, whose key policy only AWS can change',
      lines: [],
    };
  }
  if (description.multiRegion && description.multiRegionType === 'REPLICA') {
    return {
      kind: 'key-not-writable',
      severity: 'high',
      reason:
        'it is a multi-Region replica key: its policy is managed on purpose per Region, so the guard reports instead of writing',
      lines: [],
    };
  }
  if (description.state !== 'Enabled') {
    return {
      kind: 'key-unavailable',
      severity: 'medium',
      reason: `its key state is ${description.state}, not Enabled`,
      lines: [],
    };
  }
  return undefined;
}

/** Publishes the refusal: the live policy differs and the guard did not restore it. */
export async function refuse(
  ctx: CheckContext,
  evaluation: Evaluation,
  refusal: Refusal,
): Promise<CheckOutcome> {
  ctx.log('warn', 'remediation_refused', { kind: refusal.kind, reason: refusal.reason });
  return publish(ctx, {
    kind: refusal.kind,
    severity: refusal.severity,
    action: 'failed',
    title: title(ctx, refusal.kind, refusal.severity),
    details: [
      `The live policy differs from the desired one, and the guard did NOT restore it: ${refusal.reason}.`,
      ...refusal.lines,
    ],
    ...evidenceOf(evaluation),
  });
}

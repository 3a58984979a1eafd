/**
 * The guard's own health, checked by every audit (docs/architecture.md#guard-health). Two outcomes:
 * - the drift rule is missing or disabled: the real-time guard is blind, a critical `guard-disabled`;
 * - anything else that feeds, runs or hears the guard has a gap (the rule's pattern or targets, the
 *   audit schedule, the functions' reserved concurrency, the CloudTrail trail, the topic's subscribers):
 *   one critical `guard-degraded` finding listing every failed check, what is wrong and how to fix it.
 *
 * The audit asks one GuardHealthProbe; the app composes it from one adapter per service
 * (combineHealthProbes). A check whose AWS call fails is a failed check ("could not be checked: …"),
 * never a silent pass; only the drift rule's own DescribeRule throws (the audit is then incomplete).
 *
 * The organization audit also checks the feed of every member account and Region (SpokeFeedProbe: the
 * spoke's forward rule and the trail, through the spoke role); its gaps make that account's and Region's
 * own `guard-degraded` finding (./org-audit/spoke-feed.ts).
 */
import type { KeyLocation } from '../core/key-arn';
import { GuardError } from './errors';

export interface RuleHealth {
  ruleName: string;
  /** `missing` when DescribeRule answers ResourceNotFoundException. */
  state: 'ENABLED' | 'DISABLED' | 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS' | 'missing' | string;
}

/** One thing the audit checked about the guard itself. */
export interface HealthCheck {
  /** What was checked, short and stable: `drift rule pattern`, `CloudTrail trail`, `reserved concurrency of x`. */
  check: string;
  ok: boolean;
  /** What is wrong (failed checks only), naming the resource. */
  problem?: string;
  /** How to fix it: a command or the step to take. */
  fix?: string;
}

export interface GuardHealth {
  /** The drift rule's state: `guard-disabled` unless delivering. */
  driftRule: RuleHealth;
  /** Every other check, in a stable order; the failed ones make the `guard-degraded` finding. */
  checks: HealthCheck[];
}

export interface GuardHealthProbe {
  /** Throws only when the drift rule itself could not be described; every other failure is a failed check. */
  checkHealth(): Promise<GuardHealth>;
}

/** One service's share of the checks (CloudTrail, Lambda, SNS). Never throws for an AWS failure. */
export interface HealthCheckSource {
  /** What the source checks, for a check that failed unexpectedly: `CloudTrail trail`. */
  readonly name: string;
  checks(): Promise<HealthCheck[]>;
}

/** What feeds the guard from one member account and Region, read through its spoke role. */
export interface SpokeFeedProbe {
  /** Every check, in a stable order. Never throws: a call that fails (AccessDenied) is a failed check. */
  checkFeed(location: KeyLocation): Promise<HealthCheck[]>;
}

/** A rule state in which EventBridge delivers the CloudTrail events to the guard. */
export function isRuleDelivering(health: RuleHealth): boolean {
  return health.state === 'ENABLED' || health.state === 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';
}

function messageOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = error instanceof GuardError ? error.awsErrorCode : undefined;
  return code !== undefined && !error.message.includes(code) ? `${error.message} (${code})` : error.message;
}

/** A failed check for a call that did not answer: the gap is that nobody knows. */
export function uncheckable(check: string, error: unknown, fix?: string): HealthCheck {
  const failed: HealthCheck = { check, ok: false, problem: `could not be checked: ${messageOf(error)}` };
  failed.fix =
    fix ??
    "Give the guard role the read-only permission serverless.yml grants for this check (redeploy the stack), or wait out AWS's throttling; the next audit checks again.";
  return failed;
}

/** The failed checks, in order. */
export function healthGaps(checks: readonly HealthCheck[]): HealthCheck[] {
  return checks.filter((check) => !check.ok);
}

/**
 * Every source's checks, all asked at once, in the sources' order. A source that throws after all becomes
 * one failed check under its name (with `fix`, when given): the audit never loses a gap to an exception.
 */
export async function sourceChecks(
  sources: readonly HealthCheckSource[],
  fix?: string,
): Promise<HealthCheck[]> {
  const checks = await Promise.all(
    sources.map((source) =>
      source.checks().catch((error: unknown): HealthCheck[] => [uncheckable(source.name, error, fix)]),
    ),
  );
  return checks.flat();
}

/** One probe from the drift rule's probe and the other sources (sourceChecks), all asked at once. */
export function combineHealthProbes(
  primary: GuardHealthProbe,
  sources: readonly HealthCheckSource[],
): GuardHealthProbe {
  return {
    async checkHealth(): Promise<GuardHealth> {
      const [health, others] = await Promise.all([primary.checkHealth(), sourceChecks(sources)]);
      return { driftRule: health.driftRule, checks: [...health.checks, ...others] };
    },
  };
}

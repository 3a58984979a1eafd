/**
 * The compliance view (docs/architecture.md#security-hub): besides publishing findings, every check
 * tells a `ComplianceSink` what it found — its findings, and which subjects of the key it looked at to
 * the end — so that the view can open a record per key and subject, and close it once a later check
 * finds the subject back in its desired state. checkKey records each check of a key, the audit its
 * account-level checks; the caller (drift handler, audit, CLI) flushes once at the end.
 *
 * Recording never does I/O, so it cannot fail a check; `flush` sends, and throws only what another
 * attempt can fix (a RetryableAwsError: Lambda retries the event). A view that refuses the guard's
 * records (not enabled, access denied, a record it rejects) is reported once per container as a
 * `guard-degraded` finding (`complianceViewProblemFinding`), never thrown.
 */
import type { ComplianceRecord, ComplianceSubject } from '../core/compliance';
import type { Finding, Trigger } from '../core/finding';
import type { KeyLocation } from '../core/key-arn';
import { accountWideFields } from './account-finding';
import type { GuardLogger } from './logger';

export interface ComplianceSink {
  /** Keeps one check's record for the next flush (no I/O). */
  record(record: ComplianceRecord): void;
  /** Sends every record kept; throws only a retryable error. */
  flush(): Promise<void>;
}

/** Why a compliance view did not take the guard's records. */
export interface ComplianceViewProblem {
  /** The view, for people: `AWS Security Hub`. */
  view: string;
  location: KeyLocation;
  /** `unavailable`: not enabled or access denied; `refused`: it rejected records (a bug or a limit). */
  reason: 'unavailable' | 'refused';
  /** The call and the answer, e.g. `BatchImportFindings: InvalidAccessException: Account … is not subscribed`. */
  message: string;
  /** How to fix it. */
  fix: string;
  trigger: Trigger;
  time: Date;
}

/** The one `guard-degraded` finding a refusing compliance view is reported with (once per container). */
export function complianceViewProblemFinding(problem: ComplianceViewProblem): Finding {
  const { region, accountId } = problem.location;
  // Short enough for an SNS subject (99 characters) with the longest account and Region.
  const what =
    problem.reason === 'unavailable'
      ? `${problem.view} does not accept findings`
      : `${problem.view} refused findings`;
  return {
    id: `compliance-view-${problem.time.toISOString()}:*:guard-degraded`,
    kind: 'guard-degraded',
    severity: 'high',
    title: `[HIGH] Guard degraded: ${what} in ${accountId} ${region}`,
    ...accountWideFields(problem.location),
    trigger: problem.trigger,
    details: [
      `${what} from the guard in account ${accountId}, Region ${region}: ${problem.message}`,
      `Every finding still reaches the findings topic (e-mail, Slack), but ${problem.view} shows ${problem.reason === 'unavailable' ? 'none of them, and closes none' : 'not all of them'} until this is fixed.`,
      `Fix: ${problem.fix}`,
      'This finding is published once per function instance; the guard tries again on every invocation, and the next audit sends every open problem once the findings are accepted.',
    ],
    time: problem.time.toISOString(),
  };
}

/** The account-level record of an audit: its account findings, and which account checks it made. */
export function accountComplianceRecord(input: {
  location: KeyLocation;
  trigger: Trigger;
  time: Date;
  findings: readonly Finding[];
  /** The drift rule's state was read. */
  ruleChecked: boolean;
  /** The guard health checks ran. */
  healthChecked: boolean;
  /** Whether this check decides the run's completeness (default true; the organization audit's fan-out: no). */
  runLevel?: boolean;
}): ComplianceRecord {
  const { partition, region, accountId } = input.location;
  const checked: ComplianceSubject[] = input.runLevel === false ? [] : ['audit-incomplete'];
  if (input.ruleChecked) checked.push('guard-disabled');
  if (input.healthChecked) checked.push('guard-degraded');
  return {
    keyArn: `arn:${partition}:kms:${region}:${accountId}:key/*`,
    keyId: '*',
    location: input.location,
    aliases: [],
    trigger: input.trigger,
    time: input.time.toISOString(),
    findings: input.findings,
    checked,
  };
}

/**
 * Flushes the sink (when there is one); an error is logged and returned for the caller to throw once its
 * own work is reported (the audit publishes its metrics first).
 */
export async function flushCompliance(
  sink: ComplianceSink | undefined,
  logger: Pick<GuardLogger, 'error'>,
): Promise<Error | undefined> {
  if (!sink) return undefined;
  try {
    await sink.flush();
    return undefined;
  } catch (error) {
    logger.error('compliance_flush_failed', { error });
    return error instanceof Error ? error : new Error(String(error));
  }
}

/**
 * The audit's account-level findings, in the order they are published: the guard's own health
 * (`guard-disabled`, then `guard-degraded`), incompleteness (`audit-incomplete`), and the summary
 * (`audit-summary`).
 * A failed Publish of these is an audit problem (the report becomes incomplete), never thrown.
 */
import type { Finding, FindingKind, Trigger } from '../../core/finding';
import type { KeyLocation } from '../../core/key-arn';
import type { Severity } from '../../policy/types';
import { accountWideFields } from '../account-finding';
import { type HealthCheck, healthGaps, isRuleDelivering, type RuleHealth } from '../health';
import type { GuardLogger } from '../logger';
import { publishThroughOutbox } from '../outbox';
import type { Clock, FindingOutbox, FindingPublisher } from '../ports';
import { type AuditSummary, errorMessage, type NotCheckedKey, plural } from './report';

/** How many not-checked keys the account-level findings name one by one. */
const LISTED_KEYS = 50;

export interface AccountFindingContext {
  runId: string;
  trigger: Trigger;
  location: KeyLocation;
  clock: Pick<Clock, 'now'>;
  publisher: FindingPublisher;
  outbox: FindingOutbox;
  logger: Pick<GuardLogger, 'warn'>;
  /** Receives every account finding made, published or not. */
  findings: Finding[];
  /** Receives a line per failed Publish. */
  problems: string[];
  log: (level: 'error', message: string, attributes: Record<string, unknown>) => void;
}

/**
 * A context for an audit run's account findings of one location, its findings and problems collected empty;
 * its log lines carry the run's ID.
 */
export function auditFindingContext(
  deps: Pick<AccountFindingContext, 'clock' | 'publisher' | 'outbox'> & {
    logger: Pick<GuardLogger, 'warn' | 'error'>;
  },
  runId: string,
  location: KeyLocation,
): AccountFindingContext {
  return {
    runId,
    trigger: 'audit',
    location,
    clock: deps.clock,
    publisher: deps.publisher,
    outbox: deps.outbox,
    logger: deps.logger,
    findings: [],
    problems: [],
    log: (level, message, attributes) => deps.logger[level](message, { runId, ...attributes }),
  };
}

function accountFinding(
  ctx: AccountFindingContext,
  kind: FindingKind,
  severity: Severity,
  headline: string,
  details: string[],
): Finding {
  return {
    id: `${ctx.runId}:*:${kind}`,
    kind,
    severity,
    title: `[${severity.toUpperCase()}] ${headline}`,
    ...accountWideFields(ctx.location),
    trigger: ctx.trigger,
    details,
    time: ctx.clock.now().toISOString(),
  };
}

async function publishAccountFinding(ctx: AccountFindingContext, finding: Finding): Promise<void> {
  ctx.findings.push(finding);
  try {
    await publishThroughOutbox(ctx.outbox, ctx.publisher, finding, ctx.logger);
  } catch (error) {
    // The full finding goes to the log so what it says is not lost with the message.
    ctx.problems.push(`publishing ${finding.kind} failed: ${errorMessage(error)}`);
    ctx.log('error', 'finding_publish_failed', { finding, error });
  }
}

function keyLine(key: NotCheckedKey): string {
  return `${key.name ? `${key.name} ` : ''}${key.keyRef === key.name ? '' : key.keyRef}: ${key.reason}`.replace(
    /\s+:/,
    ':',
  );
}

function listed(items: readonly NotCheckedKey[]): string[] {
  return [
    ...items.slice(0, LISTED_KEYS).map((key) => `  ${keyLine(key)}`),
    ...(items.length > LISTED_KEYS ? [`  … and ${items.length - LISTED_KEYS} more`] : []),
  ];
}

export async function reportGuardHealth(
  ctx: AccountFindingContext,
  health: RuleHealth | undefined,
): Promise<void> {
  if (!health || isRuleDelivering(health)) return;
  const missing = health.state === 'missing';
  await publishAccountFinding(
    ctx,
    accountFinding(
      ctx,
      'guard-disabled',
      'critical',
      `Guard disabled: drift rule ${health.ruleName} is ${missing ? 'missing' : health.state}`,
      [
        missing
          ? `The EventBridge rule ${health.ruleName} does not exist on the default bus.`
          : `The EventBridge rule ${health.ruleName} is ${health.state}.`,
        'Key policy changes are NOT being checked as they happen: only this audit sees them, once per schedule.',
        missing
          ? 'Redeploy the stack (serverless deploy) to recreate the rule.'
          : `Enable it again: aws events enable-rule --name ${health.ruleName} --region ${ctx.location.region}`,
      ],
    ),
  );
}

/**
 * One critical `guard-degraded` finding per audit (ID `<runId>:*:guard-degraded`) listing every failed
 * health check: what is wrong and how to fix it, one numbered gap each. None when every check passed.
 */
export async function reportGuardDegraded(
  ctx: AccountFindingContext,
  checks: readonly HealthCheck[],
): Promise<void> {
  const gaps = healthGaps(checks);
  if (gaps.length === 0) return;
  const passed = checks.filter((check) => check.ok).map((check) => check.check);
  await publishAccountFinding(
    ctx,
    accountFinding(
      ctx,
      'guard-degraded',
      'critical',
      `Guard degraded: ${plural(gaps.length, 'gap')}: ${gaps.map((gap) => gap.check).join(', ')}`,
      [
        'The guard is deployed, but part of what feeds, runs or hears it has a gap: key policy changes may go unseen or unreported until it is closed.',
        ...gaps.flatMap((gap, index) => [
          `${index + 1}. ${gap.check}: ${gap.problem ?? 'failed'}`,
          ...(gap.fix !== undefined ? [`   Fix: ${gap.fix}`] : []),
        ]),
        ...(passed.length > 0 ? [`Passed: ${passed.join(', ')}.`] : []),
        'Every audit checks again; this finding repeats until every gap is closed.',
      ],
    ),
  );
}

export async function reportIncomplete(
  ctx: AccountFindingContext,
  notChecked: readonly NotCheckedKey[],
  nothingChecked: boolean,
): Promise<void> {
  if (notChecked.length === 0 && ctx.problems.length === 0) return;
  const severity: Severity = nothingChecked ? 'critical' : 'high';
  await publishAccountFinding(
    ctx,
    accountFinding(
      ctx,
      'audit-incomplete',
      severity,
      `Audit incomplete: ${plural(notChecked.length, 'key')} not checked`,
      [
        `The audit ${ctx.runId} did not finish: these keys were NOT checked, and are not counted as in sync.`,
        ...ctx.problems,
        ...listed(notChecked),
        'The audit function reports an error for this run; the next scheduled run checks every key again.',
      ],
    ),
  );
}

export interface SummaryFacts {
  summary: AuditSummary;
  durationMs: number;
  health?: RuleHealth;
  guardChecks?: readonly HealthCheck[];
  healthError?: string;
  awsManagedSkipped: number;
  notes: readonly string[];
  notChecked: readonly NotCheckedKey[];
}

function guardChecksLine(checks: readonly HealthCheck[]): string {
  const gaps = healthGaps(checks);
  return gaps.length === 0
    ? `Guard health: ${plural(checks.length, 'check')}, all passed.`
    : `Guard health: ${plural(checks.length, 'check')}, ${gaps.length} failed (${gaps.map((gap) => gap.check).join(', ')}).`;
}

export async function reportSummary(ctx: AccountFindingContext, facts: SummaryFacts): Promise<void> {
  const { summary, health, healthError, notChecked } = facts;
  const healthLine = health
    ? `Drift rule ${health.ruleName}: ${health.state}.`
    : healthError !== undefined
      ? `Drift rule: could not be checked (${healthError}).`
      : 'Drift rule: not checked.';
  await publishAccountFinding(
    ctx,
    accountFinding(
      ctx,
      'audit-summary',
      'info',
      `Audit summary: ${summary.checked} checked, ${summary.inSync} in sync, ${summary.drift} drift, ${summary.failed} failed, ${summary.notChecked} not checked`,
      [
        `Checked ${plural(summary.checked, 'key')} in ${facts.durationMs} ms: ${summary.inSync} in sync, ${summary.drift} drift, ${summary.failed} failed, ${summary.unmanaged} unmanaged; ${summary.notChecked} not checked.`,
        healthLine,
        ...(facts.guardChecks ? [guardChecksLine(facts.guardChecks)] : []),
        `AWS managed keys skipped: ${facts.awsManagedSkipped}.`,
        ...facts.notes,
        ...(notChecked.length > 0 ? ['Not checked:', ...listed(notChecked)] : []),
      ],
    ),
  );
}

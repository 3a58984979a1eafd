/**
 * The audit's account-level findings, in the order they are published: the guard's own health
 * (`guard-disabled`), incompleteness (`audit-incomplete`), and the summary (`audit-summary`).
 * A failed Publish of these is an audit problem (the report becomes incomplete), never thrown.
 */
import type { Finding, FindingKind, Trigger } from '../../core/finding';
import type { KeyLocation } from '../../core/key-arn';
import type { Severity } from '../../policy/types';
import { isRuleDelivering, type RuleHealth } from '../health';
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

function accountFinding(
  ctx: AccountFindingContext,
  kind: FindingKind,
  severity: Severity,
  headline: string,
  details: string[],
): Finding {
  const { partition, region, accountId } = ctx.location;
  return {
    id: `${ctx.runId}:*:${kind}`,
    kind,
    severity,
    title: `[${severity.toUpperCase()}] ${headline}`,
    keyArn: `arn:${partition}:kms:${region}:${accountId}:key/*`,
    keyId: '*',
    aliases: [],
    region,
    account: accountId,
    mode: 'alert',
    action: 'none',
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
  healthError?: string;
  awsManagedSkipped: number;
  notes: readonly string[];
  notChecked: readonly NotCheckedKey[];
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
        `AWS managed keys skipped: ${facts.awsManagedSkipped}.`,
        ...facts.notes,
        ...(notChecked.length > 0 ? ['Not checked:', ...listed(notChecked)] : []),
      ],
    ),
  );
}

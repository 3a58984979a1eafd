/**
 * The hub's scope refusals as findings (docs/architecture.md#the-hub-and-its-spokes): a KMS change, or an
 * audit unit, in an account or Region the guard does not guard (`account-not-guarded`), or in a member
 * account whose spoke role cannot be assumed (`spoke-unreachable`). Nothing of the key is read or written;
 * the finding says where, why and what to do, and goes out through the outbox like every other.
 */
import { actorName } from '../core/actor-name';
import type { Actor, Finding, Trigger } from '../core/finding';
import { describeLocation, type KeyLocation, parseKeyArn } from '../core/key-arn';
import type { Severity } from '../policy/types';
import { accountWideKeyArn } from './account-finding';
import { KIND_HEADLINES } from './check/context';
import type { ComplianceSink } from './compliance';
import { publishFailure } from './errors';
import type { GuardLogger } from './logger';
import { publishThroughOutbox } from './outbox';
import type { Clock, FindingOutbox, FindingPublisher } from './ports';

export type ScopeRefusalKind = 'account-not-guarded' | 'spoke-unreachable';

export interface ScopeRefusal {
  kind: ScopeRefusalKind;
  /** The account and Region the record (or the audit unit) names. */
  location: KeyLocation;
  /** The key the record names, when it names one. */
  keyArn?: string;
  /** CloudTrail eventID, or the audit run's ID. */
  eventId: string;
  trigger: Trigger;
  actor?: Actor;
  details: string[];
}

export interface ScopeFindingDeps {
  publisher: FindingPublisher;
  outbox: FindingOutbox;
  clock: Pick<Clock, 'now'>;
  logger: Pick<GuardLogger, 'warn' | 'error'>;
  /** Told the refusal, and (audit) a spoke reached again (docs/architecture.md#security-hub); absent: none. */
  compliance?: ComplianceSink;
}

const SEVERITY: Record<ScopeRefusalKind, Severity> = {
  // A member account the guard cannot reach is unguarded: nobody restores or even sees its keys.
  'spoke-unreachable': 'critical',
  // Someone outside the scope changed a key: the guard may not act, but a person must know.
  'account-not-guarded': 'high',
};

export function scopeFinding(refusal: ScopeRefusal, now: Date): Finding {
  const { location } = refusal;
  const key = refusal.keyArn === undefined ? undefined : parseKeyArn(refusal.keyArn);
  const keyId = key?.keyId ?? '*';
  const severity = SEVERITY[refusal.kind];
  const name = refusal.actor === undefined ? undefined : actorName(refusal.actor);
  const finding: Finding = {
    id: `${refusal.eventId}:${keyId}:${refusal.kind}`,
    kind: refusal.kind,
    severity,
    title: `[${severity.toUpperCase()}] ${KIND_HEADLINES[refusal.kind]}: ${describeLocation(location)}${name ? ` by ${name}` : ''}`,
    keyArn: key?.arn ?? accountWideKeyArn(location),
    keyId,
    aliases: [],
    region: location.region,
    account: location.accountId,
    mode: 'alert',
    action: 'none',
    trigger: refusal.trigger,
    details: refusal.details,
    time: now.toISOString(),
  };
  if (refusal.actor) finding.actor = refusal.actor;
  return finding;
}

/** Builds, logs and publishes the refusal's finding; a failed Publish fails the invocation (it stays held). */
export async function publishScopeRefusal(deps: ScopeFindingDeps, refusal: ScopeRefusal): Promise<Finding> {
  const finding = scopeFinding(refusal, deps.clock.now());
  deps.logger.error(refusal.kind === 'spoke-unreachable' ? 'spoke_unreachable' : 'account_not_guarded', {
    findingId: finding.id,
    location: describeLocation(refusal.location),
    keyArn: refusal.keyArn,
    eventId: refusal.eventId,
    actor: refusal.actor?.arn,
  });
  try {
    await publishThroughOutbox(deps.outbox, deps.publisher, finding, deps.logger);
  } catch (error) {
    throw publishFailure(finding.id, error);
  }
  return finding;
}

/**
 * The hub's record about an account and Region (docs/architecture.md#security-hub): the refusal's finding, or
 * (no finding) the spoke role reached, which closes an open `spoke-unreachable`. Kept in the hub's own account
 * in its own Region (`home`): the guard cannot write in the account it could not reach or does not guard.
 */
export function recordScope(
  deps: Pick<ScopeFindingDeps, 'compliance'>,
  input: {
    location: KeyLocation;
    home: KeyLocation;
    trigger: Trigger;
    time: Date;
    finding?: Finding;
    actor?: Actor;
  },
): void {
  if (!deps.compliance) return;
  deps.compliance.record({
    keyArn: accountWideKeyArn(input.location),
    keyId: '*',
    location: input.location,
    home: input.home,
    aliases: [],
    trigger: input.trigger,
    ...(input.actor ? { actor: input.actor } : {}),
    time: input.time.toISOString(),
    findings: input.finding ? [input.finding] : [],
    checked: input.finding ? [] : ['spoke-access'],
  });
}

/**
 * What feeds the guard from a member account and Region (docs/architecture.md#the-feed-of-each-member-account): each unit of
 * the organization audit asks the SpokeFeedProbe (the spoke's forward rule and the trail, through the spoke
 * role) and turns the gaps into one critical `guard-degraded` finding of that account and Region, ID
 * `<runId>:*:guard-degraded` like the hub's, each gap with its fix. A healthy feed gives no finding and
 * closes an open one in the compliance view. The hub's own account is not a spoke: the fan-out checks it.
 */
import type { Finding } from '../../core/finding';
import type { KeyLocation } from '../../core/key-arn';
import { auditFindingContext, reportGuardDegraded } from '../audit/account-findings';
import type { AuditDeps } from '../audit-keys';
import { accountComplianceRecord } from '../compliance';
import { healthGaps, type SpokeFeedProbe } from '../health';

export type SpokeFeedDeps = Pick<AuditDeps, 'clock' | 'publisher' | 'outbox' | 'logger' | 'compliance'>;

export interface SpokeFeedOutcome {
  /** The unit's `guard-degraded` finding, or none. */
  findings: Finding[];
  /** The names of the failed checks. */
  gaps: string[];
  /** A line per finding SNS did not take (the outbox holds it for the next audit). */
  problems: string[];
}

export async function checkSpokeFeed(
  deps: SpokeFeedDeps,
  probe: SpokeFeedProbe,
  runId: string,
  location: KeyLocation,
): Promise<SpokeFeedOutcome> {
  const checks = await probe.checkFeed(location);
  const context = auditFindingContext(deps, runId, location);
  const { findings, problems } = context;
  const gaps = healthGaps(checks);
  // Logged too: a topic without subscribers cannot deliver the finding that says so.
  if (gaps.length > 0) context.log('error', 'audit_spoke_feed_degraded', { location, gaps });
  await reportGuardDegraded(context, checks);
  deps.compliance?.record(
    accountComplianceRecord({
      location,
      trigger: 'audit',
      time: deps.clock.now(),
      findings,
      ruleChecked: false,
      healthChecked: true,
      runLevel: false,
    }),
  );
  return { findings, gaps: gaps.map((gap) => gap.check), problems };
}

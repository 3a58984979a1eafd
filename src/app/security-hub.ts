/**
 * Security Hub in the composition root (docs/architecture.md#security-hub): the sink buildGuard gives
 * every check when the switch is on (`SECURITY_HUB=true`, the stack's `securityHub` param; `kms-guard audit
 * --security-hub`), with its clients and what it does when Security Hub refuses the guard's records.
 */
import type { AwsClientSettings } from '../aws/client-settings';
import { type SecurityHubClientFor, securityHubClients } from '../aws/security-hub';
import { SecurityHubSink } from '../aws/security-hub-sink';
import type { SpokeAccess } from '../aws/spoke-access';
import { type ComplianceViewProblem, complianceViewProblemFinding } from '../guard/compliance';
import type { GuardLogger } from '../guard/logger';
import type { Clock, FindingPublisher } from '../guard/ports';

export interface SecurityHubWiring {
  aws: AwsClientSettings;
  logger: GuardLogger;
  clock: Clock;
  /** Where the one finding about a refusing Security Hub goes (the findings topic). */
  publisher: FindingPublisher;
  /**
   * The hub's credentials per account (./hub-wiring.ts): a finding lands in its key's account through that
   * account's spoke role, the hub's own through its own credentials. Absent: the guard's own credentials.
   */
  access?: Pick<SpokeAccess, 'settings'>;
  /** The client of an account and Region instead (tests); default: built from `aws` and `access`. */
  clientFor?: SecurityHubClientFor;
  /** Instead of publishing a guard-degraded finding (the CLI prints the problem). */
  report?: (problem: ComplianceViewProblem) => Promise<void>;
}

export function buildSecurityHubSink(wiring: SecurityHubWiring): { sink: SecurityHubSink; destroy(): void } {
  const local = wiring.clientFor ? undefined : securityHubClients(wiring.aws, wiring.access);
  const clientFor = wiring.clientFor ?? local?.clientFor;
  if (!clientFor) throw new TypeError('buildSecurityHubSink needs a client factory');
  const sink = new SecurityHubSink({
    clientFor,
    logger: wiring.logger,
    clock: wiring.clock,
    report: wiring.report ?? ((problem) => wiring.publisher.publish(complianceViewProblemFinding(problem))),
  });
  return { sink, destroy: () => local?.destroy() };
}

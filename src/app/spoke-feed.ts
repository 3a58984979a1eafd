/**
 * The organization audit's SpokeFeedProbe (docs/architecture.md#the-feed-of-each-member-account): for one member account and
 * Region, the same adapters as the hub's own health (EventBridgeRuleHealth's forward-rule checks,
 * CloudTrailHealth), with clients built through the spoke role's credentials (clientsFor) and the spoke's
 * names and fixes: its rule `kms-policy-guard-spoke-forward`, ENABLED, the guard's pattern, targeting the hub
 * bus as the spoke's forwarder role; a trail that logs the Region's KMS management write events and is
 * logging. The spoke role grants exactly these calls (SPOKE_HEALTH_ACTIONS).
 *
 * Calls per unit: DescribeRule, ListTargetsByRule (one page per 100 targets), DescribeTrails, then
 * GetTrailStatus and GetEventSelectors per trail of the Region until one qualifies (usually one): 5.
 */
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { AWS_RETRY_CONFIG, type AwsClientSettings } from '../aws/client-settings';
import { EventBridgeRuleHealth } from '../aws/rule-health';
import { clientsFor, type SpokeAccess } from '../aws/spoke-access';
import { CloudTrailHealth } from '../aws/trail-health';
import type { KeyLocation } from '../core/key-arn';
import { SPOKE_FORWARD_RULE_NAME, spokeForwarderRoleArn } from '../core/spoke-names';
import { type HealthCheck, type SpokeFeedProbe, sourceChecks } from '../guard/health';

export interface SpokeFeedSettings {
  /** The hub bus every spoke's forward rule must target. */
  hubBusArn: string;
}

export interface SpokeFeedWiring {
  probe: SpokeFeedProbe;
  destroy(): void;
}

function spokeTexts(location: KeyLocation) {
  const { accountId, region } = location;
  return {
    redeploy: `Redeploy the spoke StackSet instance of account ${accountId} in ${region} (docs/operations.md#organization-spokes-in-every-account-and-region), which restores it`,
    cliSuffix: ` --region ${region} (as an administrator of account ${accountId})`,
    permissionFix: `The spoke role of account ${accountId} must grant the read-only health actions of deploy/spoke.yml (SPOKE_HEALTH_ACTIONS): redeploy its spoke StackSet instance, then find who changed the role in CloudTrail.`,
  };
}

export function buildSpokeFeedHealth(
  access: Pick<SpokeAccess, 'settings'>,
  aws: AwsClientSettings,
  settings: SpokeFeedSettings,
): SpokeFeedWiring {
  const destroyers: { destroy(): void }[] = [];
  const eventBridge = clientsFor(access, aws, (clientSettings) => {
    const client = new EventBridgeClient({ ...AWS_RETRY_CONFIG, ...clientSettings });
    destroyers.push(client);
    return client;
  });
  const cloudTrail = clientsFor(access, aws, (clientSettings) => {
    const client = new CloudTrailClient({ ...AWS_RETRY_CONFIG, ...clientSettings });
    destroyers.push(client);
    return client;
  });
  const probe: SpokeFeedProbe = {
    checkFeed(location: KeyLocation): Promise<HealthCheck[]> {
      const { accountId, region, partition } = location;
      const texts = spokeTexts(location);
      const rules = new EventBridgeRuleHealth(eventBridge(accountId, region), SPOKE_FORWARD_RULE_NAME);
      const trails = new CloudTrailHealth(region, (home) => cloudTrail(accountId, home), texts.permissionFix);
      return sourceChecks(
        [
          {
            name: 'forward rule',
            checks: () =>
              rules.forwardRuleChecks({
                name: SPOKE_FORWARD_RULE_NAME,
                busArn: settings.hubBusArn,
                roleArn: spokeForwarderRoleArn(partition, accountId, region),
                ...texts,
              }),
          },
          trails,
        ],
        texts.permissionFix,
      );
    },
  };
  return {
    probe,
    destroy: () => {
      for (const client of destroyers.splice(0)) client.destroy();
    },
  };
}

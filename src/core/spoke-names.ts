/**
 * The names the hub and its spokes agree on (docs/architecture.md#the-hub-and-its-spokes; deploy/spoke.yml): plain
 * strings, apart from src/aws/spoke-access.ts, so that configuration reads them without loading the STS path.
 */

/** The spoke role's name in every member account (deploy/spoke.yml `SpokeRoleName`). */
export const DEFAULT_SPOKE_ROLE_NAME = 'kms-policy-guard-spoke';

/** The rule each spoke forwards its Region's KMS events with (deploy/spoke.yml ForwardRule). */
export const SPOKE_FORWARD_RULE_NAME = 'kms-policy-guard-spoke-forward';

/** The hub bus's name the spokes target by default (deploy/spoke.yml HubEventBusName; serverless.yml DRIFT_EVENT_BUS). */
export const DEFAULT_HUB_EVENT_BUS = 'kms-policy-guard';

/** `arn:<partition>:events:<region>:<account>:event-bus/<name>`: the bus in the hub's account and Region. */
export function hubBusArn(partition: string, region: string, accountId: string, bus: string): string {
  return `arn:${partition}:events:${region}:${accountId}:event-bus/${bus}`;
}

/** The role the spoke's forward rule delivers as, one per Region (deploy/spoke.yml ForwarderRole). */
export function spokeForwarderRoleArn(partition: string, accountId: string, region: string): string {
  return `arn:${partition}:iam::${accountId}:role/kms-policy-guard-spoke-forwarder-${region}`;
}

/** The spoke role in one member account. */
export function spokeRoleArn(partition: string, accountId: string, roleName: string): string {
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

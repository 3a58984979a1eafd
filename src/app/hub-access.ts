/**
 * The hub's settings, its directory of guarded accounts and its access to them through the spoke roles
 * (docs/architecture.md#the-hub-and-its-spokes), without the per-account KMS stores of ./hub-wiring.ts: the audit's
 * fan-out plans units and checks no key, so its bundle compiles no KMS client (docs/architecture.md#what-loads-when).
 */
import type { AwsClientSettings } from '../aws/client-settings';
import { OrganizationsDirectory, StaticDirectory } from '../aws/organization';
import { SpokeAccess } from '../aws/spoke-access';
import { partitionOfRegion } from '../core/key-arn';
import type { OrganizationDirectory } from '../guard/ports';

/** What the hub is configured with (src/app/config.ts `OrganizationConfig`). */
export interface HubSettings {
  hubAccountId: string;
  /** The guarded Regions (the hub's own first). */
  regions: readonly string[];
  organizationId?: string;
  memberAccounts: readonly string[];
  spokeRoleName: string;
  externalId?: string;
  /** RoleSessionName in every member account's CloudTrail. */
  sessionName: string;
}

/** The directory the settings call for: Organizations with an organization ID, else the static list. */
export function directoryFor(settings: HubSettings, aws: AwsClientSettings): OrganizationDirectory {
  return settings.organizationId
    ? OrganizationsDirectory.create({ ...aws, region: aws.region ?? 'us-east-1' }, settings.hubAccountId)
    : new StaticDirectory(settings.memberAccounts, settings.hubAccountId);
}

/** The hub's credentials per account: its own, or a member's spoke role (STS loaded on the first AssumeRole). */
export function spokeAccessFor(settings: HubSettings, aws: AwsClientSettings): SpokeAccess {
  return SpokeAccess.create(aws, {
    partition: partitionOfRegion(settings.regions[0] ?? aws.region ?? 'us-east-1'),
    roleName: settings.spokeRoleName,
    sessionName: settings.sessionName,
    ownAccountId: settings.hubAccountId,
    ...(settings.externalId ? { externalId: settings.externalId } : {}),
  });
}

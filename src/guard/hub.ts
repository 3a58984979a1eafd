/**
 * The hub (docs/architecture.md#the-hub-and-its-spokes): one guard for every account and Region of an
 * organization. Before anything of a key is read, its location (from the CloudTrail record, or the audit
 * unit) must be inside the guard's scope (the hub's account and the organization's or listed accounts,
 * in a guarded Region), and the guard must be able to act there (its own credentials in the hub's
 * account, the spoke role elsewhere). Otherwise the location is refused with a finding, and nothing is
 * read or written. Retryable failures (STS or Organizations throttling) are thrown.
 */
import type { Actor, Finding, Trigger } from '../core/finding';
import { describeLocation, type KeyLocation, partitionOfRegion } from '../core/key-arn';
import type { CachingKeyStore } from './caching-store';
import { SpokeAccessError } from './errors';
import type { OrganizationDirectory } from './ports';
import {
  publishScopeRefusal,
  recordScope,
  type ScopeFindingDeps,
  type ScopeRefusalKind,
} from './scope-findings';

/** What a check needs that depends on the key's location. */
export interface LocationDeps {
  /** KMS of that account and Region (the spoke role's credentials), behind the lookup cache. */
  store: CachingKeyStore;
  /** The principal the guard acts as there: its spoke role, or the hub's guard role in its own account. */
  guardPrincipalArn?: string;
}

export interface HubScope {
  /** The hub's own account (its own credentials, always guarded). */
  hubAccountId: string;
  /** The guarded Regions. */
  regions: readonly string[];
  directory: OrganizationDirectory;
  /** The principal the guard acts as in the account: its spoke role, or undefined in the hub's own account. */
  principalFor(accountId: string): string | undefined;
  /** The location's dependencies; assumes the spoke role first (SpokeAccessError, RetryableAwsError). */
  at(location: KeyLocation): Promise<LocationDeps>;
}

export interface RouteRequest {
  location: KeyLocation;
  keyArn?: string;
  /** CloudTrail eventID or the audit run's ID. */
  eventId: string;
  trigger: Trigger;
  actor?: Actor;
}

export type HubRoute =
  | ({ outcome: 'served' } & LocationDeps)
  | { outcome: 'refused'; kind: ScopeRefusalKind; finding: Finding; reason: string };

/** Whether the location is in the guard's scope; Organizations failures are thrown (typed). */
export async function isGuardedLocation(hub: HubScope, location: KeyLocation): Promise<boolean> {
  return hub.regions.includes(location.region) && (await hub.directory.isGuarded(location.accountId));
}

/** Where the hub keeps its records about other accounts: its own account, in its own (first) Region. */
export function hubHome(hub: HubScope, location: KeyLocation): KeyLocation {
  const region = hub.regions[0] ?? location.region;
  return { partition: partitionOfRegion(region), region, accountId: hub.hubAccountId };
}

export async function routeLocation(
  hub: HubScope,
  deps: ScopeFindingDeps,
  request: RouteRequest,
): Promise<HubRoute> {
  const route = await routeOnce(hub, deps, request);
  const { location } = request;
  // The compliance view (docs/architecture.md#security-hub): a refusal opens its record; an audit unit that
  // reached a member account closes that account's spoke-unreachable (an event is not a full check of it).
  const served = route.outcome === 'served';
  if (!served || (request.trigger === 'audit' && location.accountId !== hub.hubAccountId)) {
    recordScope(deps, {
      location,
      home: hubHome(hub, location),
      trigger: request.trigger,
      time: deps.clock.now(),
      ...(served ? {} : { finding: route.finding }),
      ...(request.actor ? { actor: request.actor } : {}),
    });
  }
  return route;
}

async function routeOnce(hub: HubScope, deps: ScopeFindingDeps, request: RouteRequest): Promise<HubRoute> {
  const { location } = request;
  const where = describeLocation(location);
  const base = {
    location,
    eventId: request.eventId,
    trigger: request.trigger,
    ...(request.keyArn !== undefined ? { keyArn: request.keyArn } : {}),
    ...(request.actor !== undefined ? { actor: request.actor } : {}),
  };
  if (!(await isGuardedLocation(hub, location))) {
    const region = hub.regions.includes(location.region);
    const reason = region
      ? `account ${location.accountId} is neither the hub's nor one the guard guards (organization or memberAccounts)`
      : `Region ${location.region} is not one of the guarded Regions (${hub.regions.join(', ')})`;
    const finding = await publishScopeRefusal(deps, {
      ...base,
      kind: 'account-not-guarded',
      details: [
        `A KMS change in ${where} reached the guard, but ${reason}: nothing was read or written.`,
        region
          ? 'If the account should be guarded, add it to the organization (or to the memberAccounts parameter) and deploy the spoke there; if not, find out why it can put events on the hub bus (its resource policy lists who may).'
          : 'If the Region should be guarded, add it to the guardedRegions parameter and deploy the spoke there; if not, remove the spoke from that Region.',
      ],
    });
    return { outcome: 'refused', kind: 'account-not-guarded', finding, reason };
  }
  try {
    return { outcome: 'served', ...(await hub.at(location)) };
  } catch (error) {
    if (!(error instanceof SpokeAccessError)) throw error;
    const finding = await publishScopeRefusal(deps, {
      ...base,
      kind: 'spoke-unreachable',
      details: [
        `The guard cannot assume ${error.roleArn} (${error.reason}): ${error.message}`,
        `Until it can, nothing in account ${location.accountId} is checked or restored by the guard. Deploy (or repair) the spoke StackSet instance in that account: the role must exist, trust the hub guard role, and accept the organization ID or external ID the hub passes.`,
      ],
    });
    return { outcome: 'refused', kind: 'spoke-unreachable', finding, reason: error.message };
  }
}

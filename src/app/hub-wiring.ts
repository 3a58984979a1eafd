/**
 * The hub's share of the composition root (docs/architecture.md#the-hub-and-its-spokes): the guard's scope
 * (hub account, guarded Regions, the organization's accounts) and, per account and Region, the check's
 * KMS store, built through the spoke role's credentials (src/aws/spoke-access.ts) and cached for the
 * container. buildGuard (./guard-deps.ts) calls it; nothing else builds a hub. Its settings, directory and spoke
 * access are in ./hub-access.ts, which the audit's fan-out uses alone (it checks no key).
 */
import type { AwsClientSettings } from '../aws/client-settings';
import { createKmsClient } from '../aws/clients';
import { KmsKeyPolicyStore } from '../aws/kms-store';
import type { SpokeAccess } from '../aws/spoke-access';
import { type KeyLocation, sameLocation } from '../core/key-arn';
import { CachingKeyStore } from '../guard/caching-store';
import type { HubScope, LocationDeps } from '../guard/hub';
import type { AccountAccess, Clock, KeyPolicyStore, OrganizationDirectory } from '../guard/ports';
import { directoryFor, type HubSettings, spokeAccessFor } from './hub-access';

export type { HubSettings } from './hub-access';

/** The hub as buildGuard wires it; tests inject the directory, the access and the stores. */
export interface HubWiring {
  settings: HubSettings;
  directory?: OrganizationDirectory;
  access?: AccountAccess & Pick<SpokeAccess, 'settings'>;
  /** A KMS to use for a location instead of the SDK adapter (unit tests). */
  storeFor?: (location: KeyLocation) => KeyPolicyStore;
}

export interface HubParts {
  scope: HubScope;
  access: AccountAccess & Pick<SpokeAccess, 'settings'>;
  destroy(): void;
}

export interface HubContext {
  aws: AwsClientSettings;
  clock: Clock;
  lookupTtlMs: number;
  wrapStore?: (store: KeyPolicyStore) => KeyPolicyStore;
  /** The guard's own location and store (the hub's account in the function's Region): reused, not rebuilt. */
  own?: { location: KeyLocation; store: CachingKeyStore };
  guardRoleArn?: string;
}

export function buildHub(wiring: HubWiring, context: HubContext): HubParts {
  const { settings } = wiring;
  const access = wiring.access ?? spokeAccessFor(settings, context.aws);
  const directory = wiring.directory ?? directoryFor(settings, context.aws);
  const stores = new Map<string, CachingKeyStore>();
  const kmsClients: { destroy(): void }[] = [];
  const storeOf = (location: KeyLocation): CachingKeyStore => {
    if (context.own && sameLocation(location, context.own.location)) return context.own.store;
    const key = `${location.accountId}#${location.region}`;
    let store = stores.get(key);
    if (store === undefined) {
      let kms = wiring.storeFor?.(location);
      if (kms === undefined) {
        const client = createKmsClient(access.settings(context.aws, location.accountId, location.region));
        kmsClients.push(client);
        kms = new KmsKeyPolicyStore(client);
      }
      store = new CachingKeyStore(
        context.wrapStore ? context.wrapStore(kms) : kms,
        context.clock,
        context.lookupTtlMs,
      );
      stores.set(key, store);
    }
    return store;
  };
  const scope: HubScope = {
    hubAccountId: settings.hubAccountId,
    regions: settings.regions,
    directory,
    principalFor: (accountId) => access.principalFor(accountId),
    async at(location): Promise<LocationDeps> {
      await access.ensure(location.accountId);
      const deps: LocationDeps = { store: storeOf(location) };
      const principal = access.principalFor(location.accountId) ?? context.guardRoleArn;
      if (principal !== undefined) deps.guardPrincipalArn = principal;
      return deps;
    },
  };
  return {
    scope,
    access,
    destroy: () => {
      for (const client of kmsClients) client.destroy();
    },
  };
}

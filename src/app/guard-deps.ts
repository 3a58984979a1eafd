/**
 * The composition root: one function that builds the guard's dependencies from configuration, for
 * both Lambda functions, the CLI, the `npm start` demo and the tests. Only the differences are
 * parameters: where findings go, which ledger keeps state, which logger, and (tests) fault injection.
 */
import type { KMSClient } from '@aws-sdk/client-kms';
import type { SNSClient } from '@aws-sdk/client-sns';
import { createKmsClient } from '../aws/clients';
import { DynamoBindingStore } from '../aws/dynamo-bindings';
import { remediationLedgerFor } from '../aws/dynamo-ledger';
import { KmsKeyPolicyStore } from '../aws/kms-store';
import type { StateTableClient } from '../aws/state-table';
import { partitionOfRegion } from '../core/key-arn';
import { CachingKeyStore, DEFAULT_LOOKUP_TTL_MS } from '../guard/caching-store';
import type { CheckKeyDeps } from '../guard/check-key';
import type { GuardLogger } from '../guard/logger';
import { InMemoryBindingStore } from '../guard/memory-bindings';
import type { BindingStore, Clock, KeyPolicyStore, RemediationLedger } from '../guard/ports';
import type { StabilizationPolicy } from '../guard/stabilize';
import { loadManifestPrevalidated } from '../manifest/prevalidated';
import type { LoadedManifest } from '../manifest/types';
import type { GuardConfig } from './config';
import { buildFindingParts, type FindingWiring } from './finding-deps';
import { buildHub, type HubParts, type HubWiring } from './hub-wiring';
import { buildSecurityHubSink, type SecurityHubWiring } from './security-hub';

/** The findings' wiring (./finding-deps.ts: region, logger, topic, publisher, state table, clock) and the check's. */
export interface GuardWiring extends FindingWiring {
  manifest: LoadedManifest;
  /** Where paths in findings are shown relative to (Lambda task root, repository root). */
  repoRoot: string;
  /** A ledger to use instead (tests). */
  ledger?: RemediationLedger;
  guardPrincipalArn?: string;
  stabilization?: Partial<StabilizationPolicy>;
  /** How long aliases and tags stay cached (default 60 s). */
  lookupTtlMs?: number;
  /** Wraps the KMS adapter (tests: stale reads, fault injection). */
  wrapStore?: (store: KeyPolicyStore) => KeyPolicyStore;
  /** A KMS to use instead of the SDK adapter (unit tests: an in-memory KMS). */
  store?: KeyPolicyStore;
  /** Sticky bindings to use instead of the state table's (tests). */
  bindings?: BindingStore;
  /** Regions where a guard runs (a ReplicateKey into another is critical). */
  guardedRegions?: readonly string[];
  /** Findings to AWS Security Hub too (docs/architecture.md#security-hub): off unless given. */
  securityHub?: Omit<SecurityHubWiring, 'aws' | 'logger' | 'clock' | 'publisher'>;
  /** The hub of an organization: every guarded account and Region (./hub-wiring.ts). */
  hub?: HubWiring;
  /** The guard's own account (with `aws.region`: the location whose keys the main store reads). */
  ownAccountId?: string;
}

export interface Guard {
  deps: CheckKeyDeps;
  kms: KMSClient;
  sns: SNSClient;
  /** The state table and its client, when one is configured (the drift handler's idempotency uses it). */
  stateTable?: StateTableClient;
  /**
   * The hub: its scope and the credentials per account (`access.settings(base, accountId, region)` builds
   * any SDK client for a member account through its spoke role: src/aws/spoke-access.ts `clientsFor`).
   */
  hub?: HubParts;
  destroy(): void;
}

export function buildGuard(wiring: GuardWiring): Guard {
  const { clock, sns, stateTable, publisher, outbox } = buildFindingParts(wiring);
  const kms = createKmsClient(wiring.aws);
  const kmsStore = wiring.store ?? new KmsKeyPolicyStore(kms);
  const store = new CachingKeyStore(
    wiring.wrapStore ? wiring.wrapStore(kmsStore) : kmsStore,
    clock,
    wiring.lookupTtlMs ?? DEFAULT_LOOKUP_TTL_MS,
  );
  const bindings =
    wiring.bindings ??
    (stateTable
      ? new DynamoBindingStore(stateTable.tableName, stateTable.client)
      : new InMemoryBindingStore());
  const deps: CheckKeyDeps = {
    store,
    bindings,
    outbox,
    publisher,
    ledger: wiring.ledger ?? remediationLedgerFor(stateTable, wiring.manifest.flapping, wiring.logger),
    clock,
    logger: wiring.logger,
    manifest: wiring.manifest,
    repoRoot: wiring.repoRoot,
  };
  if (wiring.guardPrincipalArn) deps.guardPrincipalArn = wiring.guardPrincipalArn;
  if (wiring.stabilization) deps.stabilization = wiring.stabilization;
  if (wiring.guardedRegions) deps.guardedRegions = wiring.guardedRegions;
  const hub = wiring.hub ? hubOf(wiring, wiring.hub, store, clock) : undefined;
  if (hub) deps.ousOf = (accountId) => hub.scope.directory.ousOf(accountId);
  const securityHub =
    wiring.securityHub &&
    buildSecurityHubSink({
      ...(hub ? { access: hub.access } : {}),
      ...wiring.securityHub,
      aws: wiring.aws,
      logger: wiring.logger,
      clock,
      publisher,
    });
  if (securityHub) deps.compliance = securityHub.sink;
  const guard: Guard = {
    deps,
    kms,
    sns,
    destroy: () => {
      kms.destroy();
      sns.destroy();
      stateTable?.client.destroy();
      securityHub?.destroy();
      hub?.destroy();
    },
  };
  if (stateTable) guard.stateTable = stateTable;
  if (hub) guard.hub = hub;
  return guard;
}

function hubOf(wiring: GuardWiring, hub: HubWiring, store: CachingKeyStore, clock: Clock): HubParts {
  const ownAccountId = wiring.ownAccountId ?? hub.settings.hubAccountId;
  const region = wiring.aws.region;
  return buildHub(hub, {
    aws: wiring.aws,
    clock,
    lookupTtlMs: wiring.lookupTtlMs ?? DEFAULT_LOOKUP_TTL_MS,
    ...(wiring.wrapStore ? { wrapStore: wiring.wrapStore } : {}),
    ...(wiring.guardPrincipalArn ? { guardRoleArn: wiring.guardPrincipalArn } : {}),
    ...(region
      ? {
          own: {
            location: { partition: partitionOfRegion(region), region, accountId: ownAccountId },
            store,
          },
        }
      : {}),
  });
}

/**
 * A Lambda function's guard from its configuration: the manifest loaded (failing init when invalid; validated
 * when the package was built when its files are unchanged: docs/architecture.md#the-manifest-validated-at-package-time),
 * SNS, the state table.
 */
export async function guardFromConfig(config: GuardConfig, logger: GuardLogger): Promise<Guard> {
  return buildGuard({
    manifest: await loadManifestPrevalidated(config.manifestPath),
    aws: { region: config.region },
    logger,
    repoRoot: config.taskRoot,
    topicArn: config.topicArn,
    guardedRegions: config.guardedRegions,
    ...(config.stateTable ? { stateTable: config.stateTable } : {}),
    ...(config.securityHub ? { securityHub: {} } : {}),
    ...(config.hub ? { hub: { settings: config.hub } } : {}),
    ...(config.guardRoleArn ? { guardPrincipalArn: config.guardRoleArn } : {}),
  });
}

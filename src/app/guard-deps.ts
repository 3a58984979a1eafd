/**
 * The composition root: one function that builds the guard's dependencies from configuration, for
 * both Lambda functions, the CLI, the `npm start` demo and the tests. Only the differences are
 * parameters: where findings go, which ledger keeps state, which logger, and (tests) fault injection.
 */
import type { KMSClient } from '@aws-sdk/client-kms';
import type { SNSClient } from '@aws-sdk/client-sns';
import { type AwsClientSettings, createKmsClient, createSnsClient } from '../aws/clients';
import { DynamoBindingStore } from '../aws/dynamo-bindings';
import { remediationLedgerFor } from '../aws/dynamo-ledger';
import { DynamoFoldStore, DynamoOutbox } from '../aws/dynamo-state';
import { KmsKeyPolicyStore } from '../aws/kms-store';
import { SnsFindingPublisher } from '../aws/sns-publisher';
import { type StateTableClient, stateTableClientFor } from '../aws/state-table';
import { partitionOfRegion } from '../core/key-arn';
import { CachingKeyStore, DEFAULT_LOOKUP_TTL_MS } from '../guard/caching-store';
import type { CheckKeyDeps } from '../guard/check-key';
import { FoldingPublisher, type FoldStore, InMemoryFoldStore } from '../guard/folding';
import type { GuardLogger } from '../guard/logger';
import { InMemoryBindingStore } from '../guard/memory-bindings';
import { InMemoryOutbox } from '../guard/memory-state';
import {
  type BindingStore,
  type Clock,
  type FindingOutbox,
  type FindingPublisher,
  type KeyPolicyStore,
  type RemediationLedger,
  systemClock,
} from '../guard/ports';
import type { StabilizationPolicy } from '../guard/stabilize';
import { loadManifestPrevalidated } from '../manifest/prevalidated';
import type { LoadedManifest } from '../manifest/types';
import type { GuardConfig } from './config';
import { buildHub, type HubParts, type HubWiring } from './hub-wiring';
import { buildSecurityHubSink, type SecurityHubWiring } from './security-hub';

export interface GuardWiring {
  manifest: LoadedManifest;
  /** Region, endpoint and profile of every client. */
  aws: AwsClientSettings;
  logger: GuardLogger;
  /** Where paths in findings are shown relative to (Lambda task root, repository root). */
  repoRoot: string;
  /** SNS topic for findings; absent: `publisher` must be given. */
  topicArn?: string;
  /** Wraps (or replaces) the SNS publisher: the CLI collects findings and forwards them only on request. */
  publisher?: (sns: FindingPublisher | undefined) => FindingPublisher;
  /** DynamoDB state table; absent: the ledger lives in this process's memory. */
  stateTable?: string;
  /** A ledger to use instead (tests). */
  ledger?: RemediationLedger;
  guardPrincipalArn?: string;
  clock?: Clock;
  stabilization?: Partial<StabilizationPolicy>;
  /** How long aliases and tags stay cached (default 60 s). */
  lookupTtlMs?: number;
  /** Wraps the KMS adapter (tests: stale reads, fault injection). */
  wrapStore?: (store: KeyPolicyStore) => KeyPolicyStore;
  /** A KMS to use instead of the SDK adapter (unit tests: an in-memory KMS). */
  store?: KeyPolicyStore;
  /** The outbox to use instead of the state table's (tests). */
  outbox?: FindingOutbox;
  /** Fold windows to use instead of the state table's (tests). */
  folds?: FoldStore;
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
  const clock = wiring.clock ?? systemClock;
  const kms = createKmsClient(wiring.aws);
  const sns = createSnsClient(wiring.aws);
  const stateTable = stateTableClientFor(wiring.stateTable, wiring.aws);
  // Repeated LOW findings of one key and kind are folded before SNS (docs/architecture.md#alerts-by-severity);
  // fold windows live in the state table, else in this process's memory.
  const snsPublisher = wiring.topicArn
    ? new FoldingPublisher(
        new SnsFindingPublisher(sns, wiring.topicArn, wiring.logger),
        wiring.folds ??
          (stateTable
            ? new DynamoFoldStore(stateTable.tableName, stateTable.client)
            : new InMemoryFoldStore()),
        () => clock.now(),
      )
    : undefined;
  const publisher = wiring.publisher ? wiring.publisher(snsPublisher) : snsPublisher;
  if (!publisher) throw new TypeError('buildGuard needs a topicArn or a publisher');
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
    outbox:
      wiring.outbox ??
      (stateTable ? new DynamoOutbox(stateTable.tableName, stateTable.client) : new InMemoryOutbox()),
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

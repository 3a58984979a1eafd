/**
 * Test-only pieces around dev/world.ts: the drift handler built with createDriftHandler over
 * REAL adapters pointed at moto, a recording logger, an SDK command recorder, and the two faults
 * moto cannot produce (stale reads after PutKeyPolicy, KMSInvalidStateException on a disabled key).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeKeyCommand, type KMSClient, KMSInvalidStateException } from '@aws-sdk/client-kms';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Context } from 'aws-lambda';
import { WORLD_PLACEHOLDERS, worldClientConfig } from '../../../dev/world';
import { createDriftHandler } from '../../../src/app/drift-handler';
import { buildGuard as buildProductionGuard, type GuardWiring } from '../../../src/app/guard-deps';
import type { CheckKeyDeps } from '../../../src/guard/check-key';
import { DelegatingKeyStore } from '../../../src/guard/delegating-store';
import { InMemoryRemediationLedger } from '../../../src/guard/memory-ledger';
import type { BindingStore, KeyPolicyStore, RemediationLedger } from '../../../src/guard/ports';
import type { StabilizationPolicy } from '../../../src/guard/stabilize';
import { guardRoleArn, type LoadedManifest } from '../../../src/manifest';
import { motoEndpoint } from '../moto-env';

export type DriftHandler = ReturnType<typeof createDriftHandler>;

/** The guard's role and an STS session of it, as CloudTrail names the guard's own calls. */
export const GUARD_ROLE_ARN = guardRoleArn(WORLD_PLACEHOLDERS);
export const GUARD_SESSION_ARN = `arn:aws:sts::${WORLD_PLACEHOLDERS.accountId}:assumed-role/kms-policy-guard-${WORLD_PLACEHOLDERS.region}/kms-policy-guard-dev-drift`;

/** Fast but real stabilization: the same algorithm, shorter waits (moto is consistent at once). */
export const TEST_STABILIZATION: StabilizationPolicy = {
  attempts: 6,
  delayMs: 20,
  requiredStableReads: 2,
  maxDelayMs: 160,
};

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  [attribute: string]: unknown;
}

/** A Powertools Logger whose lines are recorded instead of printed. */
export function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = new Logger({ serviceName: 'kms-policy-guard', logLevel: 'DEBUG' });
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    jest.spyOn(logger, level).mockImplementation((message, ...extra) => {
      const attributes: Record<string, unknown> = Object.assign({}, ...extra);
      lines.push({ ...attributes, level, message: typeof message === 'string' ? message : message.message });
    });
  }
  return { logger, lines };
}

/** Records the name of every command a client sends (before retries), e.g. `PutKeyPolicyCommand`. */
export function recordCommands(client: KMSClient): string[] {
  const names: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      names.push(context.commandName ?? 'unknown');
      return next(args);
    },
    { step: 'initialize', name: 'recordCommandNames' },
  );
  return names;
}

export function countOf(names: readonly string[], commandName: string): number {
  return names.filter((name) => name === commandName).length;
}

/**
 * moto returns a disabled key's policy; this makes the guard's client answer GetKeyPolicy on a key
 * moto reports as not Enabled with the SDK's own KMSInvalidStateException (HTTP 409), so the real
 * KmsKeyPolicyStore translates it as it would in AWS.
 */
export function refuseGetKeyPolicyOnDisabledKeys(guardKms: KMSClient, worldKms: KMSClient): void {
  guardKms.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as { KeyId?: unknown };
      if (context.commandName === 'GetKeyPolicyCommand' && typeof input.KeyId === 'string') {
        const { KeyMetadata } = await worldKms.send(new DescribeKeyCommand({ KeyId: input.KeyId }));
        if (KeyMetadata?.KeyState !== undefined && KeyMetadata.KeyState !== 'Enabled') {
          throw new KMSInvalidStateException({
            message: `${KeyMetadata.Arn ?? input.KeyId} is ${KeyMetadata.KeyState.toLowerCase()}.`,
            $metadata: { httpStatusCode: 409 },
          });
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'refuseGetKeyPolicyOnDisabledKeys' },
  );
}

/**
 * KMS's eventual consistency, made visible: after a PutKeyPolicy the next `staleReads` reads of that
 * key return the document read before the write. Everything else goes to the real store.
 */
export class StaleReadsAfterPutStore extends DelegatingKeyStore {
  readonly #lastRead = new Map<string, string>();
  readonly #stale = new Map<string, { document: string; remaining: number }>();
  puts = 0;
  staleReadsServed = 0;

  constructor(
    inner: KeyPolicyStore,
    private readonly staleReads: number,
  ) {
    super(inner);
  }

  override async getKeyPolicy(keyId: string): Promise<string> {
    const stale = this.#stale.get(keyId);
    if (stale && stale.remaining > 0) {
      stale.remaining -= 1;
      this.staleReadsServed += 1;
      return stale.document;
    }
    const live = await this.inner.getKeyPolicy(keyId);
    this.#lastRead.set(keyId, live);
    return live;
  }

  override async putKeyPolicy(keyId: string, policy: string): Promise<void> {
    await this.inner.putKeyPolicy(keyId, policy);
    this.puts += 1;
    const before = this.#lastRead.get(keyId);
    if (before !== undefined) this.#stale.set(keyId, { document: before, remaining: this.staleReads });
  }
}

export interface GuardOptions {
  manifest: LoadedManifest;
  topicArn: string;
  /** Default: an in-memory ledger over the manifest's flapping window. */
  ledger?: RemediationLedger;
  /** Wraps the real moto-backed store (stale reads, ...). */
  wrapStore?: (store: KeyPolicyStore) => KeyPolicyStore;
  /** Called with the guard's own KMS client before it is used (fault injection). */
  configureKms?: (kms: KMSClient) => void;
  /** The state table: duplicates of one CloudTrail eventID run once (createDriftHandler's idempotency option). */
  idempotency?: { tableName: string; client: DynamoDBClient };
  /** Sticky bindings (default: in this process's memory). */
  bindings?: BindingStore;
  /** Regions where a guard runs (default: the world's Region). */
  guardedRegions?: string[];
  /** The state table by name: bindings, write intents, the outbox and fold windows live there (default: memory). */
  stateTable?: string;
  /** Called with the guard's own SNS client before it is used (fault injection). */
  configureSns?: (sns: SNSClient) => void;
  /** AWS Security Hub on (docs/architecture.md#security-hub), with the wiring's options (a client factory). */
  securityHub?: GuardWiring['securityHub'];
}

export interface Guard {
  handler: DriftHandler;
  /** The guard's dependencies, as the handler uses them (checkKey, the compliance sink). */
  deps: CheckKeyDeps;
  logs: LogLine[];
  /** Commands the guard's KMS client sent. */
  kmsCommands: string[];
  kms: KMSClient;
  destroy(): void;
}

/** The drift handler as production builds it (the composition root), with clients pointed at moto. */
export function buildGuard(options: GuardOptions): Guard {
  const config = worldClientConfig(motoEndpoint());
  const { logger, lines } = recordingLogger();
  const guard = buildProductionGuard({
    manifest: options.manifest,
    aws: config,
    logger,
    repoRoot: path.dirname(options.manifest.path),
    topicArn: options.topicArn,
    ledger: options.ledger ?? new InMemoryRemediationLedger(options.manifest.flapping),
    stabilization: TEST_STABILIZATION,
    ...(options.wrapStore ? { wrapStore: options.wrapStore } : {}),
    ...(options.bindings ? { bindings: options.bindings } : {}),
    guardedRegions: options.guardedRegions ?? [config.region],
    ...(options.stateTable ? { stateTable: options.stateTable } : {}),
    ...(options.securityHub ? { securityHub: options.securityHub } : {}),
  });
  options.configureSns?.(guard.sns);
  const kmsCommands = recordCommands(guard.kms);
  options.configureKms?.(guard.kms);
  const handler = createDriftHandler(
    { ...guard.deps, logger, region: config.region, guardRoleArn: GUARD_ROLE_ARN },
    {
      timeoutEarlyInMillis: 0,
      // As the drift function wires it when STATE_TABLE is set.
      ...(options.idempotency
        ? { idempotency: { ...options.idempotency, onMissingEventId: 'run-unprotected' as const } }
        : {}),
    },
  );
  return {
    handler,
    deps: guard.deps,
    logs: lines,
    kmsCommands,
    kms: guard.kms,
    destroy: () => guard.destroy(),
  };
}

/** A Lambda context for one invocation (Powertools registers its remaining time for idempotency). */
export function lambdaContext(requestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'kms-policy-guard-dev-drift',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:kms-policy-guard-dev-drift',
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: '/aws/lambda/kms-policy-guard-dev-drift',
    logStreamName: '2026/03/02/[$LATEST]integration',
    getRemainingTimeInMillis: () => 30_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** A temporary directory for a test file's manifest; remove() deletes it. */
export function temporaryDirectory(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

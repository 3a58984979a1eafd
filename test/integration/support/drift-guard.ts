/**
 * Test-only pieces around src/local/world.ts: the drift handler built with createDriftHandler over
 * REAL adapters pointed at moto, a recording logger, an SDK command recorder, and the two faults
 * moto cannot produce (stale reads after PutKeyPolicy, KMSInvalidStateException on a disabled key).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeKeyCommand, type KMSClient, KMSInvalidStateException } from '@aws-sdk/client-kms';
import type { Context } from 'aws-lambda';
import type { DriftHandlerDeps } from '../../../handlers/drift';
import { createKmsClient, createSnsClient } from '../../../src/aws/clients';
import { KmsKeyPolicyStore } from '../../../src/aws/kms-store';
import { SnsFindingPublisher } from '../../../src/aws/sns-publisher';
import type { KeyMetadata } from '../../../src/core/key';
import type { KeyDetailsReader } from '../../../src/guard/key-details';
import { InMemoryRemediationLedger } from '../../../src/guard/memory-ledger';
import type { KeyPolicyStore, RemediationLedger } from '../../../src/guard/ports';
import { systemClock } from '../../../src/guard/ports';
import type { StabilizationPolicy } from '../../../src/guard/stabilize';
import { WORLD_PLACEHOLDERS, worldClientConfig } from '../../../src/local/world';
import { guardRoleArn, type LoadedManifest } from '../../../src/manifest';
import { motoEndpoint } from '../moto-env';

type DriftModule = typeof import('../../../handlers/drift');

/**
 * handlers/drift.ts runs its production wiring when loaded (it needs TOPIC_ARN and a valid manifest):
 * load it once with a placeholder topic and the shipped manifest, then build handlers with createDriftHandler.
 */
function loadDriftModule(): DriftModule {
  const saved = { ...process.env };
  Object.assign(process.env, {
    TOPIC_ARN: 'arn:aws:sns:us-east-1:123456789012:module-init-placeholder',
    MANIFEST_PATH: path.resolve(__dirname, '../../../policies/manifest.yaml'),
    POWERTOOLS_LOG_LEVEL: 'CRITICAL',
  });
  try {
    return require('../../../handlers/drift') as DriftModule;
  } finally {
    process.env = saved;
  }
}

export const drift = loadDriftModule();
export type DriftHandler = ReturnType<DriftModule['createDriftHandler']>;

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
export class StaleReadsAfterPutStore implements KeyPolicyStore, KeyDetailsReader {
  readonly #lastRead = new Map<string, string>();
  readonly #stale = new Map<string, { document: string; remaining: number }>();
  puts = 0;
  staleReadsServed = 0;

  constructor(
    private readonly inner: KmsKeyPolicyStore,
    private readonly staleReads: number,
  ) {}

  async getKeyPolicy(keyId: string): Promise<string> {
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

  async putKeyPolicy(keyId: string, policy: string): Promise<void> {
    await this.inner.putKeyPolicy(keyId, policy);
    this.puts += 1;
    const before = this.#lastRead.get(keyId);
    if (before !== undefined) this.#stale.set(keyId, { document: before, remaining: this.staleReads });
  }

  describeKey(keyId: string): Promise<KeyMetadata> {
    return this.inner.describeKey(keyId);
  }

  describeKeyState(keyId: string): Promise<KeyMetadata> {
    return this.inner.describeKeyState(keyId);
  }

  listResourceTags(keyId: string): Promise<Record<string, string>> {
    return this.inner.listResourceTags(keyId);
  }

  listKeyIds(): Promise<string[]> {
    return this.inner.listKeyIds();
  }

  listAliases(): Promise<Map<string, string>> {
    return this.inner.listAliases();
  }
}

export interface GuardOptions {
  manifest: LoadedManifest;
  topicArn: string;
  /** Default: an in-memory ledger over the manifest's flapping window. */
  ledger?: RemediationLedger;
  /** Wraps the real moto-backed store (stale reads, ...). */
  wrapStore?: (store: KmsKeyPolicyStore) => DriftHandlerDeps['store'];
  /** Called with the guard's own KMS client before it is used (fault injection). */
  configureKms?: (kms: KMSClient) => void;
  /** The state table: duplicates of one CloudTrail eventID run once (createDriftHandler's idempotency option). */
  idempotency?: { tableName: string; client: DynamoDBClient };
}

export interface Guard {
  handler: DriftHandler;
  logs: LogLine[];
  /** Commands the guard's KMS client sent. */
  kmsCommands: string[];
  kms: KMSClient;
  destroy(): void;
}

/** The drift handler as production builds it, but with clients pointed at moto. */
export function buildGuard(options: GuardOptions): Guard {
  const config = worldClientConfig(motoEndpoint());
  const { logger, lines } = recordingLogger();
  const kms = createKmsClient(config);
  const sns = createSnsClient(config);
  const kmsCommands = recordCommands(kms);
  options.configureKms?.(kms);
  const realStore = new KmsKeyPolicyStore(kms);
  const handler = drift.createDriftHandler(
    {
      store: options.wrapStore ? options.wrapStore(realStore) : realStore,
      publisher: new SnsFindingPublisher(sns, options.topicArn, logger),
      ledger: options.ledger ?? new InMemoryRemediationLedger(options.manifest.flapping),
      clock: systemClock,
      logger,
      manifest: options.manifest,
      region: config.region,
      guardRoleArn: GUARD_ROLE_ARN,
      stabilization: TEST_STABILIZATION,
      repoRoot: path.dirname(options.manifest.path),
    },
    {
      timeoutEarlyInMillis: 0,
      // As handlers/drift.ts wires it when STATE_TABLE is set.
      ...(options.idempotency
        ? { idempotency: { ...options.idempotency, onMissingEventId: 'run-unprotected' as const } }
        : {}),
    },
  );
  return {
    handler,
    logs: lines,
    kmsCommands,
    kms,
    destroy: () => {
      kms.destroy();
      sns.destroy();
    },
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

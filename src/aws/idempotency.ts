/**
 * Idempotency of the drift handler: EventBridge delivers at least once, so the same CloudTrail
 * event can arrive twice. Keyed on the CloudTrail `detail.eventID`, a duplicate returns the first
 * invocation's result instead of producing a second finding or a second re-apply.
 *
 * Records live in the shared state table (src/aws/state-table.ts) under one static partition,
 * `pk = idempotency#drift`, `sk = drift#<hash of the eventID>`, TTL `expiresAt` = 24 h; the exact key and
 * attributes are described once, in docs/operations.md#the-idempotency-record. One
 * partition is enough: KMS key-policy events arrive at a few per minute, far below a partition's
 * 1,000 writes per second, and the table's composite key leaves Powertools no key-only layout.
 */
import { IdempotencyConfig, IdempotencyKeyError, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import { makeHandlerIdempotent } from '@aws-lambda-powertools/idempotency/middleware';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { MiddlewareObj } from '@middy/core';
import type { Context } from 'aws-lambda';
import { STATE_TABLE_TTL_ATTRIBUTE } from './state-table';

/** Where the idempotency key is in an EventBridge event carrying a CloudTrail record. */
export const DRIFT_IDEMPOTENCY_KEY_PATH = 'detail.eventID';
/**
 * 24 h: EventBridge retries a failed target for up to 24 h and duplicate deliveries come within
 * seconds, so a duplicate never outlives the record; a longer TTL only costs storage.
 */
export const DRIFT_IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;
/** Static partition of every drift idempotency record (the table's `pk`). */
export const DRIFT_IDEMPOTENCY_PARTITION = 'idempotency#drift';
/** Prefix of the hashed key (the table's `sk`); fixed so renaming the Lambda function keeps the records valid. */
export const DRIFT_IDEMPOTENCY_KEY_PREFIX = 'drift';

export interface DriftIdempotencyOptions {
  /** The state table (`STATE_TABLE`). */
  tableName: string;
  /** Injected SDK client, created once per container and shared with the ledger. */
  client: DynamoDBClient;
  /** Lets Powertools expire an in-progress record when an invocation times out, instead of blocking retries for 24 h. */
  lambdaContext?: Context;
}

/**
 * An event without `detail.eventID`: it cannot be deduplicated, and it must not share one
 * idempotency record with every other such event. The handler classifies it (malformed event).
 */
export class MissingEventIdError extends Error {
  constructor(options: { cause: unknown }) {
    super(`The event has no ${DRIFT_IDEMPOTENCY_KEY_PATH}: it cannot be made idempotent`, options);
    this.name = 'MissingEventIdError';
  }
}

/** The Powertools configuration the drift handler uses; exported so the handler and the tests share it. */
export function driftIdempotencyConfig(lambdaContext?: Context): IdempotencyConfig {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: DRIFT_IDEMPOTENCY_KEY_PATH,
    // Without it Powertools hashes a missing key as `null`, and every event without an ID
    // would be "a duplicate" of the first one.
    throwOnNoIdempotencyKey: true,
    expiresAfterSeconds: DRIFT_IDEMPOTENCY_TTL_SECONDS,
  });
  if (lambdaContext !== undefined) config.registerLambdaContext(lambdaContext);
  return config;
}

/** Powertools' DynamoDB persistence layer mapped onto the shared state table's `pk`/`sk`/`expiresAt`. */
export function driftPersistenceLayer(options: Pick<DriftIdempotencyOptions, 'tableName' | 'client'>) {
  return new DynamoDBPersistenceLayer({
    tableName: options.tableName,
    awsSdkV3Client: options.client,
    keyAttr: 'pk',
    sortKeyAttr: 'sk',
    staticPkValue: DRIFT_IDEMPOTENCY_PARTITION,
    expiryAttr: STATE_TABLE_TTL_ATTRIBUTE,
  });
}

/** True when `error` (or any error in its `cause` chain) says the idempotency key was missing. */
export function isMissingEventIdError(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 10 && current instanceof Error; depth++) {
    if (current instanceof MissingEventIdError || current instanceof IdempotencyKeyError) return true;
    current = current.cause;
  }
  return false;
}

function translateMissingKey(error: unknown): unknown {
  return isMissingEventIdError(error) && !(error instanceof MissingEventIdError)
    ? new MissingEventIdError({ cause: error })
    : error;
}

/**
 * Powertools stores the result with DynamoDB's marshaller, which rejects `undefined` fields; the
 * same JSON a replay returns is what the first call returns too.
 */
function asStoredJson<T>(result: T): T {
  return result === undefined ? result : JSON.parse(JSON.stringify(result));
}

/**
 * Wraps `fn` so each CloudTrail event runs it once: a duplicate returns the stored result, a
 * duplicate while the first still runs throws `IdempotencyAlreadyInProgressError` (the invocation
 * fails and is retried), a failed run deletes its record so the retry runs again, and an event
 * without `detail.eventID` throws {@link MissingEventIdError}. `fn`'s result must be JSON.
 */
export function makeEventIdempotent<TEvent, TResult>(
  fn: (event: TEvent) => Promise<TResult>,
  options: DriftIdempotencyOptions,
): (event: TEvent, context?: Context) => Promise<TResult> {
  const idempotent = makeIdempotent(
    async (event: TEvent, _context?: Context) => asStoredJson(await fn(event)),
    {
      persistenceStore: driftPersistenceLayer(options),
      config: driftIdempotencyConfig(options.lambdaContext),
      keyPrefix: DRIFT_IDEMPOTENCY_KEY_PREFIX,
    },
  );
  return async (event, context) => {
    try {
      // With a context Powertools registers it per invocation (remaining time → in-progress expiry).
      return context === undefined ? await idempotent(event) : await idempotent(event, context);
    } catch (error) {
      throw translateMissingKey(error);
    }
  };
}

export interface DriftIdempotencyMiddlewareOptions
  extends Pick<DriftIdempotencyOptions, 'tableName' | 'client'> {
  /** Where a result that could not be stored is reported (it never fails the invocation). */
  logger?: { error(message: string, attributes: Record<string, unknown>): void };
  /**
   * An event without `detail.eventID`: `throw` (default) fails the invocation with
   * {@link MissingEventIdError}; `run-unprotected` runs the handler without idempotency and stores
   * nothing, so the handler's own event classification rejects it. Never deduplicated either way.
   */
  onMissingEventId?: 'throw' | 'run-unprotected';
}

/**
 * The same behaviour as a middy middleware for the drift handler:
 * `middy(handler).use(driftIdempotencyMiddleware({ tableName, client }))`.
 */
export function driftIdempotencyMiddleware(
  options: DriftIdempotencyMiddlewareOptions,
): MiddlewareObj<unknown, unknown, Error, Context> {
  const powertools = makeHandlerIdempotent({
    persistenceStore: driftPersistenceLayer(options),
    config: driftIdempotencyConfig(),
    keyPrefix: DRIFT_IDEMPOTENCY_KEY_PREFIX,
  });
  const runUnprotected = options.onMissingEventId === 'run-unprotected';
  // Requests running without idempotency: after/onError must not touch a record that was never written.
  const unprotectedRequests = new WeakSet<object>();
  return {
    before: async (request) => {
      try {
        // A returned value is the stored result of a duplicate: middy answers with it early.
        return await powertools.before?.(request);
      } catch (error) {
        if (runUnprotected && isMissingEventIdError(error)) {
          unprotectedRequests.add(request);
          return undefined;
        }
        throw translateMissingKey(error);
      }
    },
    after: async (request) => {
      if (unprotectedRequests.has(request)) return;
      request.response = asStoredJson(request.response);
      try {
        await powertools.after?.(request);
      } catch (error) {
        // The work is done and its findings are published (through the outbox): failing now would make
        // Lambda retry and publish them again. A duplicate delivery of this event is then checked again,
        // which is harmless (the key is in sync; findings are de-duplicated by ID).
        options.logger?.error('idempotency_record_not_saved', { error });
      }
    },
    onError: async (request) => {
      // No key, no record to delete: Powertools would fail again trying to hash the missing key.
      if (unprotectedRequests.has(request) || isMissingEventIdError(request.error)) return;
      await powertools.onError?.(request);
    },
  };
}

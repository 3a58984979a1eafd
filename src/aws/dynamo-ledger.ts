/**
 * The remediation ledger in the state table (src/aws/state-table.ts, docs/architecture.md#state): every
 * overwritten live document, the per-key re-apply count for flapping detection, and the write intents
 * (docs/architecture.md#write-intents: an entry names the desired document the guard is about to write).
 *
 *   ledger entry     pk = `key#<keyArn>`       sk = `reapply#<ISO time>#<eventId | entry-<uuid>>`
 *   revoked grant    pk = `key#<keyArn>`       sk = `revoked-grant#<ISO time>#<eventId | entry-<uuid>>`
 */
import { createHash, randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { InMemoryRemediationLedger } from '../guard/memory-ledger';
import { type ReapplyDetails, type RemediationLedger, WRITE_INTENT_WINDOW_MS } from '../guard/ports';
import type { FlappingLimit } from '../manifest/types';
import { awsErrorCodeOf } from './errors';
import { STATE_TABLE_TTL_ATTRIBUTE, type StateTableClient, stateStoreError } from './state-table';

/**
 * Ledger entries live 400 days: a year of history for the annual access review (SOC 2, ISO 27001,
 * PCI DSS keep a year of audit evidence) plus a month of slack to find and restore an overwritten
 * document after that review. CloudTrail's own event history keeps only 90 days, and the
 * idempotency records (24 h) are far too short for "no one's change is lost".
 */
export const LEDGER_RETENTION_DAYS = 400;

const LEDGER_PK_PREFIX = 'key#';
const LEDGER_SK_PREFIX = 'reapply#';
/** Grants revoked by the guard, recorded verbatim before RevokeGrant; not counted as re-applies. */
const REVOKED_GRANT_SK_PREFIX = 'revoked-grant#';
/** Sorts after every character an entry's sort key can hold after the timestamp (`#`, ID characters). */
const SORT_KEY_UPPER_SENTINEL = '~';

/** An item under a ledger sort key that is not a ledger entry (written by hand or by an older version). */
export class MalformedLedgerItemError extends Error {
  constructor(
    readonly tableName: string,
    readonly sortKey: string,
    reason: string,
  ) {
    super(`Ledger item ${sortKey} in ${tableName} is malformed: ${reason}`);
    this.name = 'MalformedLedgerItemError';
  }
}

/** A ledger argument that would corrupt the sort-key order (invalid date) or the window (non-positive minutes). */
export class LedgerArgumentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerArgumentError';
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One re-apply as read back from the ledger: enough to restore the overwritten document by hand. */
export interface LedgerEntry {
  keyArn: string;
  /** ISO-8601 time of the re-apply. */
  reappliedAt: string;
  /** The live document the guard replaced, byte for byte as GetKeyPolicy returned it. */
  overwrittenPolicy: string;
  overwrittenPolicySha256: string;
  desiredPolicySha256?: string;
  eventId?: string;
  actorArn?: string;
  /** Epoch seconds when DynamoDB TTL may delete the entry. */
  expiresAt: number;
  /** The item's sort key: with `key#<keyArn>` it addresses the entry (`aws dynamodb get-item`). */
  sortKey: string;
}

export interface DynamoRemediationLedgerOptions {
  tableName: string;
  /** Injected SDK client (created once per Lambda container). A plain client is wrapped in a document client. */
  client: DynamoDBClient | DynamoDBDocumentClient;
  /** The flapping window; `manifest.flapping` fits. */
  window: Pick<FlappingLimit, 'windowMinutes'>;
  /** How long entries are kept; default {@link LEDGER_RETENTION_DAYS}. */
  retentionDays?: number;
  /** Query page size (DynamoDB `Limit`); unset lets DynamoDB fill 1 MB pages. Small values exist for tests. */
  queryPageLimit?: number;
  /** ID for an entry without a CloudTrail event (audit, CLI); injectable for deterministic tests. */
  newEntryId?: () => string;
}

export function ledgerPartitionKey(keyArn: string): string {
  return `${LEDGER_PK_PREFIX}${keyArn}`;
}

function isoOf(at: Date, argumentName: string): string {
  if (Number.isNaN(at.getTime())) {
    throw new LedgerArgumentError(`${argumentName} is not a valid date`);
  }
  return at.toISOString();
}

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The ledger adapter of {@link RemediationLedger}: append-only entries, counted per key inside the window. */
export class DynamoRemediationLedger implements RemediationLedger {
  readonly #tableName: string;
  readonly #documentClient: DynamoDBDocumentClient;
  readonly #windowMillis: number;
  readonly #retentionSeconds: number;
  readonly #queryPageLimit: number | undefined;
  readonly #newEntryId: () => string;

  constructor(options: DynamoRemediationLedgerOptions) {
    const { windowMinutes } = options.window;
    if (!Number.isFinite(windowMinutes) || windowMinutes <= 0) {
      throw new LedgerArgumentError(`windowMinutes must be a positive number, got ${windowMinutes}`);
    }
    const retentionDays = options.retentionDays ?? LEDGER_RETENTION_DAYS;
    if (!Number.isFinite(retentionDays) || retentionDays <= 0) {
      throw new LedgerArgumentError(`retentionDays must be a positive number, got ${retentionDays}`);
    }
    this.#tableName = options.tableName;
    this.#documentClient =
      options.client instanceof DynamoDBDocumentClient
        ? options.client
        : DynamoDBDocumentClient.from(options.client);
    this.#windowMillis = windowMinutes * 60_000;
    this.#retentionSeconds = Math.round(retentionDays * 86_400);
    this.#queryPageLimit = options.queryPageLimit;
    this.#newEntryId = options.newEntryId ?? (() => `entry-${randomUUID()}`);
  }

  async recordReapply(
    keyArn: string,
    overwritten: string,
    at: Date,
    details?: ReapplyDetails,
  ): Promise<number> {
    await this.append(keyArn, overwritten, at, details);
    return this.reapplyCount(keyArn, at);
  }

  async append(keyArn: string, overwritten: string, at: Date, details?: ReapplyDetails): Promise<void> {
    const reappliedAt = isoOf(at, 'at');
    // The event ID makes a retried invocation write the same sort key, so the conditional put
    // below keeps one entry per event; without one, a fresh ID keeps two re-applies in the same
    // millisecond apart.
    const entryId = details?.eventId ?? this.#newEntryId();
    const item: Record<string, string | number> = {
      pk: ledgerPartitionKey(keyArn),
      sk: `${details?.subject === 'grant' ? REVOKED_GRANT_SK_PREFIX : LEDGER_SK_PREFIX}${reappliedAt}#${entryId}`,
      kind: details?.subject === 'grant' ? 'revoked-grant' : 'reapply',
      keyArn,
      reappliedAt,
      overwrittenPolicy: overwritten,
      overwrittenPolicySha256: sha256(overwritten),
      [STATE_TABLE_TTL_ATTRIBUTE]: Math.floor(at.getTime() / 1000) + this.#retentionSeconds,
    };
    if (details?.desiredPolicy !== undefined) item.desiredPolicySha256 = sha256(details.desiredPolicy);
    if (details?.eventId !== undefined) item.eventId = details.eventId;
    if (details?.actorArn !== undefined) item.actorArn = details.actorArn;
    try {
      await this.#documentClient.send(
        new PutCommand({
          TableName: this.#tableName,
          Item: item,
          // Append-only: an overwritten document once recorded is never replaced.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (awsErrorCodeOf(error) !== 'ConditionalCheckFailedException') {
        throw stateStoreError('PutItem', this.#tableName, messageOf(error), error);
      }
      // Same key, same time, same event: this re-apply is already in the ledger (a retried invocation).
    }
  }

  async reapplyCount(keyArn: string, at: Date): Promise<number> {
    const nowIso = isoOf(at, 'at');
    const windowStartIso = new Date(at.getTime() - this.#windowMillis).toISOString();
    const input: QueryCommandInput = {
      TableName: this.#tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': ledgerPartitionKey(keyArn),
        ':from': `${LEDGER_SK_PREFIX}${windowStartIso}`,
        ':to': `${LEDGER_SK_PREFIX}${nowIso}${SORT_KEY_UPPER_SENTINEL}`,
      },
      Select: 'COUNT',
      // The entry recordReapply has just written must be counted.
      ConsistentRead: true,
      Limit: this.#queryPageLimit,
    };
    let count = 0;
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#query({ ...input, ExclusiveStartKey: exclusiveStartKey });
      count += page.Count ?? 0;
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey !== undefined);
    return count;
  }

  /**
   * The write intent: a policy entry of the key from the intent window before `at` (or later: clocks differ)
   * whose desired document has this SHA-256. Reads only the window's sort keys and two small attributes.
   */
  async intended(keyArn: string, documentSha256: string, at: Date): Promise<boolean> {
    const windowStartIso = isoOf(new Date(at.getTime() - WRITE_INTENT_WINDOW_MS), 'at');
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#query({
        TableName: this.#tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        FilterExpression: 'desiredPolicySha256 = :sha',
        ExpressionAttributeValues: {
          ':pk': ledgerPartitionKey(keyArn),
          ':from': `${LEDGER_SK_PREFIX}${windowStartIso}`,
          ':to': `${LEDGER_SK_PREFIX}${SORT_KEY_UPPER_SENTINEL}`,
          ':sha': documentSha256,
        },
        ProjectionExpression: 'sk',
        // The entry written just before the guard's own PutKeyPolicy must be seen.
        ConsistentRead: true,
        Limit: this.#queryPageLimit,
        ExclusiveStartKey: exclusiveStartKey,
      });
      if ((page.Items ?? []).length > 0) return true;
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey !== undefined);
    return false;
  }

  /**
   * The newest `limit` ledger entries of a key, newest first: what was overwritten (the key policy, or with
   * `subject: 'grant'` the grants revoked, recorded verbatim as JSON), when, by whose change.
   */
  async listLedger(
    keyArn: string,
    limit: number,
    subject: 'policy' | 'grant' = 'policy',
  ): Promise<LedgerEntry[]> {
    if (!Number.isInteger(limit) || limit <= 0) {
      throw new LedgerArgumentError(`limit must be a positive integer, got ${limit}`);
    }
    const entries: LedgerEntry[] = [];
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const remaining = limit - entries.length;
      const page = await this.#query({
        TableName: this.#tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: {
          ':pk': ledgerPartitionKey(keyArn),
          ':prefix': subject === 'grant' ? REVOKED_GRANT_SK_PREFIX : LEDGER_SK_PREFIX,
        },
        ScanIndexForward: false,
        Limit: Math.min(remaining, this.#queryPageLimit ?? remaining),
        ExclusiveStartKey: exclusiveStartKey,
      });
      for (const item of page.Items ?? []) {
        entries.push(ledgerEntryFromItem(item, this.#tableName));
      }
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey !== undefined && entries.length < limit);
    return entries.slice(0, limit);
  }

  async #query(input: QueryCommandInput): Promise<{
    Count?: number;
    Items?: Record<string, unknown>[];
    LastEvaluatedKey?: Record<string, unknown>;
  }> {
    try {
      return await this.#documentClient.send(new QueryCommand(input));
    } catch (error) {
      throw stateStoreError('Query', this.#tableName, messageOf(error), error);
    }
  }
}

function requiredString(item: Record<string, unknown>, name: string, tableName: string): string {
  const value = item[name];
  if (typeof value !== 'string') {
    throw new MalformedLedgerItemError(tableName, String(item.sk), `no string attribute ${name}`);
  }
  return value;
}

function optionalString(item: Record<string, unknown>, name: string): string | undefined {
  const value = item[name];
  return typeof value === 'string' ? value : undefined;
}

/** Parses a ledger item read from the table; a malformed item is an error, not a silently empty entry. */
export function ledgerEntryFromItem(item: Record<string, unknown>, tableName: string): LedgerEntry {
  const expiresAt = item[STATE_TABLE_TTL_ATTRIBUTE];
  if (typeof expiresAt !== 'number') {
    throw new MalformedLedgerItemError(
      tableName,
      String(item.sk),
      `no numeric attribute ${STATE_TABLE_TTL_ATTRIBUTE}`,
    );
  }
  const entry: LedgerEntry = {
    keyArn: requiredString(item, 'keyArn', tableName),
    reappliedAt: requiredString(item, 'reappliedAt', tableName),
    overwrittenPolicy: requiredString(item, 'overwrittenPolicy', tableName),
    overwrittenPolicySha256: requiredString(item, 'overwrittenPolicySha256', tableName),
    expiresAt,
    sortKey: requiredString(item, 'sk', tableName),
  };
  const desiredPolicySha256 = optionalString(item, 'desiredPolicySha256');
  const eventId = optionalString(item, 'eventId');
  const actorArn = optionalString(item, 'actorArn');
  if (desiredPolicySha256 !== undefined) entry.desiredPolicySha256 = desiredPolicySha256;
  if (eventId !== undefined) entry.eventId = eventId;
  if (actorArn !== undefined) entry.actorArn = actorArn;
  return entry;
}

/**
 * The ledger a Lambda uses: the state table when one is configured, else the container's memory,
 * which counts flapping per container only (said once, as a warning, at init).
 */
export function remediationLedgerFor(
  stateTable: StateTableClient | undefined,
  window: Pick<FlappingLimit, 'windowMinutes'>,
  logger: { warn(message: string, attributes: { note: string }): void },
): RemediationLedger {
  if (stateTable) return new DynamoRemediationLedger({ ...stateTable, window });
  const ledger = new InMemoryRemediationLedger(window);
  logger.warn('ledger_in_memory', { note: 'STATE_TABLE not set: flapping is only counted per container' });
  return ledger;
}

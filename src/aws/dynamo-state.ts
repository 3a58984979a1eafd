/**
 * The finding outbox and the fold windows in the state table (docs/architecture.md#outbox).
 *
 *   outbox#<account>#<region>     <SHA-256 of the finding ID> finding (JSON), heldAt      deleted once SNS accepted it
 *   fold#<key ARN>#<kind>         window                      windowStart, folded         (src/guard/folding.ts)
 *
 * A finding larger than an item may hold is stored as the SNS message's JSON part (shortened the way the
 * publisher shortens it), so holding it never fails on size.
 */
import { createHash } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { buildSnsPublishInput } from '../alerts/sns-message';
import type { Finding } from '../core/finding';
import type { KeyLocation } from '../core/key-arn';
import type { FoldClaim, FoldStore } from '../guard/folding';
import type { FindingOutbox } from '../guard/ports';
import { STATE_TABLE_TTL_ATTRIBUTE, stateStoreError } from './state-table';

/** DynamoDB's item limit is 400 KB; the rest of the item is small. */
const MAX_FINDING_BYTES = 300_000;
/** Held findings outlive any retry and any audit schedule, then expire. */
const OUTBOX_TTL_SECONDS = 14 * 24 * 60 * 60;

function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function documentClient(client: DynamoDBClient | DynamoDBDocumentClient): DynamoDBDocumentClient {
  return client instanceof DynamoDBDocumentClient ? client : DynamoDBDocumentClient.from(client);
}

async function send<T>(tableName: string, operation: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw stateStoreError(operation, tableName, messageOf(error), error);
  }
}

export function outboxPartitionKey(location: Pick<KeyLocation, 'accountId' | 'region'>): string {
  return `outbox#${location.accountId}#${location.region}`;
}

/** The finding as JSON that fits an item: whole when it can, else the SNS message's shortened JSON part. */
function storedFinding(finding: Finding): string {
  const whole = JSON.stringify(finding);
  if (Buffer.byteLength(whole) <= MAX_FINDING_BYTES) return whole;
  const message = JSON.parse(
    buildSnsPublishInput(finding, 'arn:aws:sns:outbox', MAX_FINDING_BYTES).input.Message ?? '{}',
  ) as {
    default?: string;
  };
  return (
    message.default ??
    JSON.stringify({ ...finding, livePolicy: undefined, desiredPolicy: undefined, diff: undefined })
  );
}

export class DynamoOutbox implements FindingOutbox {
  readonly #client: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client: DynamoDBClient | DynamoDBDocumentClient,
  ) {
    this.#client = documentClient(client);
  }

  async hold(finding: Finding): Promise<void> {
    const heldAt = new Date();
    await send(this.tableName, 'PutItem', () =>
      this.#client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: outboxPartitionKey({ accountId: finding.account, region: finding.region }),
            sk: sha256(finding.id),
            kind: 'outbox',
            findingId: finding.id.slice(0, 1024),
            finding: storedFinding(finding),
            heldAt: heldAt.toISOString(),
            [STATE_TABLE_TTL_ATTRIBUTE]: Math.floor(heldAt.getTime() / 1000) + OUTBOX_TTL_SECONDS,
          },
        }),
      ),
    );
  }

  async delivered(finding: Finding): Promise<void> {
    await send(this.tableName, 'DeleteItem', () =>
      this.#client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: {
            pk: outboxPartitionKey({ accountId: finding.account, region: finding.region }),
            sk: sha256(finding.id),
          },
        }),
      ),
    );
  }

  async pending(location: KeyLocation): Promise<Finding[]> {
    // The finding schema is loaded only when something is held (rarely): building it costs every cold start.
    const schema = async () => (await import('../core/finding')).findingSchema;
    const held: { heldAt: string; finding: Finding }[] = [];
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await send(this.tableName, 'Query', () =>
        this.#client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': outboxPartitionKey(location) },
            ConsistentRead: true,
            ExclusiveStartKey: exclusiveStartKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const parsed =
          typeof item.finding === 'string' ? (await schema()).safeParse(JSON.parse(item.finding)) : undefined;
        // An item that is not a finding (written by hand, by an older version) is left for a person: the
        // sweep must not fail on it, nor drop it silently; its ID is in the table.
        if (parsed?.success) held.push({ heldAt: String(item.heldAt ?? ''), finding: parsed.data });
      }
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey !== undefined);
    return held.sort((a, b) => a.heldAt.localeCompare(b.heldAt)).map((item) => item.finding);
  }
}

/**
 * Fold windows of LOW findings (src/guard/folding.ts): `fold#<key ARN>#<kind>`, one item per key and kind,
 * expiring two windows after it started.
 */
export class DynamoFoldStore implements FoldStore {
  readonly #client: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client: DynamoDBClient | DynamoDBDocumentClient,
  ) {
    this.#client = documentClient(client);
  }

  async claim(foldKey: string, findingId: string, at: Date, windowMs: number): Promise<FoldClaim> {
    const key = { pk: `fold#${foldKey}`, sk: 'window' };
    const output = await send(this.tableName, 'GetItem', () =>
      this.#client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })),
    );
    const start = typeof output.Item?.windowStart === 'number' ? output.Item.windowStart : undefined;
    const folded = typeof output.Item?.folded === 'number' ? output.Item.folded : 0;
    if (start !== undefined && output.Item?.openedBy === findingId) {
      const foldedBefore = output.Item.foldedBefore;
      return { publish: true, foldedBefore: typeof foldedBefore === 'number' ? foldedBefore : 0 };
    }
    if (start === undefined || at.getTime() - start >= windowMs) {
      await send(this.tableName, 'PutItem', () =>
        this.#client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              ...key,
              kind: 'fold',
              windowStart: at.getTime(),
              folded: 0,
              openedBy: findingId,
              foldedBefore: start === undefined ? 0 : folded,
              [STATE_TABLE_TTL_ATTRIBUTE]: Math.floor((at.getTime() + 2 * windowMs) / 1000),
            },
          }),
        ),
      );
      return { publish: true, foldedBefore: start === undefined ? 0 : folded };
    }
    await send(this.tableName, 'UpdateItem', () =>
      this.#client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: key,
          UpdateExpression: 'ADD folded :one',
          ExpressionAttributeValues: { ':one': 1 },
        }),
      ),
    );
    return { publish: false, foldedBefore: 0 };
  }
}

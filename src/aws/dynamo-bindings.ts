/**
 * Sticky bindings in the state table (docs/architecture.md#sticky-bindings): one item per bound key,
 * `pk = bindings#<account>#<region>`, `sk = <key ARN>`, so the audit reads every binding of its account and
 * Region with one paginated Query and the drift function reads one with one GetItem.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { type KeyLocation, parseKeyArn } from '../core/key-arn';
import type { BindingStore, KeyBinding } from '../guard/ports';
import { stateStoreError } from './state-table';

const BINDINGS_PREFIX = 'bindings#';

export function bindingsPartitionKey(location: Pick<KeyLocation, 'accountId' | 'region'>): string {
  return `${BINDINGS_PREFIX}${location.accountId}#${location.region}`;
}

function keyOf(keyArn: string): { pk: string; sk: string } {
  const arn = parseKeyArn(keyArn);
  if (!arn) throw new TypeError(`not a KMS key ARN: ${JSON.stringify(keyArn)}`);
  return { pk: bindingsPartitionKey(arn), sk: keyArn };
}

function bindingOf(item: Record<string, unknown>): KeyBinding | undefined {
  const { sk, entry, matcherKind, matcherValue, documentHash, boundAt } = item;
  if (
    typeof sk !== 'string' ||
    typeof entry !== 'string' ||
    (matcherKind !== 'alias' && matcherKind !== 'tag') ||
    typeof matcherValue !== 'string' ||
    typeof documentHash !== 'string' ||
    typeof boundAt !== 'string'
  ) {
    return undefined;
  }
  return { keyArn: sk, entry, matcherKind, matcherValue, documentHash, boundAt };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class DynamoBindingStore implements BindingStore {
  readonly #client: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client: DynamoDBClient | DynamoDBDocumentClient,
  ) {
    this.#client = client instanceof DynamoDBDocumentClient ? client : DynamoDBDocumentClient.from(client);
  }

  async get(keyArn: string): Promise<KeyBinding | undefined> {
    const output = await this.#send('GetItem', () =>
      this.#client.send(
        new GetCommand({ TableName: this.tableName, Key: keyOf(keyArn), ConsistentRead: true }),
      ),
    );
    return output.Item ? bindingOf(output.Item) : undefined;
  }

  async put(binding: KeyBinding): Promise<void> {
    await this.#send('PutItem', () =>
      this.#client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keyOf(binding.keyArn),
            kind: 'binding',
            entry: binding.entry,
            matcherKind: binding.matcherKind,
            matcherValue: binding.matcherValue,
            documentHash: binding.documentHash,
            boundAt: binding.boundAt,
          },
        }),
      ),
    );
  }

  async delete(keyArn: string): Promise<void> {
    await this.#send('DeleteItem', () =>
      this.#client.send(new DeleteCommand({ TableName: this.tableName, Key: keyOf(keyArn) })),
    );
  }

  async list(location: KeyLocation): Promise<KeyBinding[]> {
    const bindings: KeyBinding[] = [];
    let exclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const page = await this.#send('Query', () =>
        this.#client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk',
            ExpressionAttributeValues: { ':pk': bindingsPartitionKey(location) },
            ExclusiveStartKey: exclusiveStartKey,
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const binding = bindingOf(item);
        if (binding) bindings.push(binding);
      }
      exclusiveStartKey = page.LastEvaluatedKey;
    } while (exclusiveStartKey !== undefined);
    return bindings;
  }

  async #send<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw stateStoreError(operation, this.tableName, messageOf(error), error);
    }
  }
}

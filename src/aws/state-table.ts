/**
 * The guard's ONE DynamoDB table (docs/architecture.md#state): its definition, its creation for local runs,
 * the container's client for it, and the one translation of its call failures. What lives in it:
 *
 *   ledger entry     pk = `key#<keyArn>`                 src/aws/dynamo-ledger.ts (append-only; the write intent)
 *   idempotency      pk = `idempotency#drift`            src/aws/idempotency.ts
 *   binding          pk = `bindings#<account>#<region>`  src/aws/dynamo-bindings.ts
 *   outbox, folds    pk = `outbox#…`, `fold#…`           src/aws/dynamo-state.ts
 *   audit runs       pk = `run#…`                        src/aws/dynamo-runs.ts
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { StateStoreError } from '../guard/errors';
import { AWS_RETRY_CONFIG, type AwsClientSettings } from './client-settings';
import { awsErrorCodeOf, isTransientAwsError } from './errors';

/** Epoch-seconds attribute DynamoDB TTL deletes items by; Powertools idempotency writes the same one. */
export const STATE_TABLE_TTL_ATTRIBUTE = 'expiresAt';

/** CreateTable input of the state table; the tests, the `npm start` demo and serverless.yml use this one definition. */
export function stateTableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    AttributeDefinitions: [
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    BillingMode: 'PAY_PER_REQUEST',
    SSESpecification: { Enabled: true, SSEType: 'KMS' },
  };
}

/**
 * Creates the state table and switches on what CreateTable cannot: TTL on `expiresAt` and
 * point-in-time recovery. For local runs (moto) and the demo; production uses serverless.yml.
 */
export async function createStateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(new CreateTableCommand(stateTableDefinition(tableName)));
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: tableName });
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: STATE_TABLE_TTL_ATTRIBUTE, Enabled: true },
    }),
  );
  await client.send(
    new UpdateContinuousBackupsCommand({
      TableName: tableName,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    }),
  );
}

/** A DynamoDB call of the state table failed after the SDK's own retries (classified by src/aws/errors.ts). */
export function stateStoreError(
  operation: string,
  tableName: string,
  message: string,
  cause: unknown,
): StateStoreError {
  return new StateStoreError(
    operation,
    tableName,
    message,
    awsErrorCodeOf(cause),
    isTransientAwsError(cause),
    {
      cause,
    },
  );
}

export { StateStoreError };

/** The state table a Lambda was configured with (STATE_TABLE) and the container's one client for it. */
export interface StateTableClient {
  tableName: string;
  client: DynamoDBClient;
}

/** The state table's client for a Lambda container, or undefined when no table is configured. */
export function stateTableClientFor(
  tableName: string | undefined,
  settings: AwsClientSettings,
): StateTableClient | undefined {
  return tableName
    ? { tableName, client: new DynamoDBClient({ ...AWS_RETRY_CONFIG, ...settings }) }
    : undefined;
}

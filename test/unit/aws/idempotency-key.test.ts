/**
 * The drift idempotency record's key, exactly as docs/operations.md#the-idempotency-record describes it:
 * the state table's `pk`/`sk` Powertools writes for one CloudTrail event (aws-sdk-client-mock, no network).
 * If the key derivation changes, this test and that section change together.
 */
import { DynamoDBClient, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DRIFT_IDEMPOTENCY_PARTITION,
  DRIFT_IDEMPOTENCY_TTL_SECONDS,
  makeEventIdempotent,
} from '../../../src/aws/idempotency';

const dynamo = mockClient(DynamoDBClient);

/** The eventID of the documented example (the log line in docs/operations.md#logs). */
const EVENT_ID = '0d9c8b7a-6f5e-4d3c-2b1a-0f9e8d7c6b5a';

const CONTEXT: Context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'kms-policy-guard-dev-drift',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-west-2:111122223333:function:kms-policy-guard-dev-drift',
  memoryLimitInMB: '256',
  awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  logGroupName: '/aws/lambda/kms-policy-guard-dev-drift',
  logStreamName: '2026/03/02/[$LATEST]abcdef',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

beforeEach(() => {
  dynamo.reset();
  dynamo.on(PutItemCommand).resolves({});
  dynamo.on(UpdateItemCommand).resolves({});
});

describe('the drift idempotency record', () => {
  it('is keyed pk = idempotency#drift, sk = drift#<Base64 MD5 of the JSON-quoted eventID>, and expires after 24 h', async () => {
    // Prepare
    const handler = makeEventIdempotent(async () => ({ status: 'in-sync' }), {
      tableName: 'state',
      client: new DynamoDBClient({ region: 'eu-west-1' }),
    });
    const before = Math.round(Date.now() / 1000);

    // Act
    await handler({ detail: { eventID: EVENT_ID } }, CONTEXT);

    // Assess
    const put = dynamo.commandCalls(PutItemCommand)[0]?.args[0].input;
    expect(DRIFT_IDEMPOTENCY_PARTITION).toBe('idempotency#drift');
    expect(put?.Item?.pk).toEqual({ S: 'idempotency#drift' });
    expect(put?.Item?.sk).toEqual({ S: 'drift#WBgxk5O+aoZhMa8t0lgd/Q==' });
    expect(put?.Item?.status).toEqual({ S: 'INPROGRESS' });
    // Epoch milliseconds: when the Lambda's remaining time runs out, a retry may take the record over.
    const inProgressUntil = Number(put?.Item?.in_progress_expiration?.N);
    expect(inProgressUntil - before * 1000).toBeGreaterThan(25_000);
    expect(inProgressUntil - before * 1000).toBeLessThan(35_000);
    const expiresAt = Number(put?.Item?.expiresAt?.N);
    expect(expiresAt - before).toBeGreaterThanOrEqual(DRIFT_IDEMPOTENCY_TTL_SECONDS);
    expect(expiresAt - before).toBeLessThanOrEqual(DRIFT_IDEMPOTENCY_TTL_SECONDS + 5);
    const update = dynamo.commandCalls(UpdateItemCommand)[0]?.args[0].input;
    expect(update?.Key).toEqual({
      pk: { S: 'idempotency#drift' },
      sk: { S: 'drift#WBgxk5O+aoZhMa8t0lgd/Q==' },
    });
    expect(update?.ExpressionAttributeValues?.[':status']).toEqual({ S: 'COMPLETED' });
    expect(update?.ExpressionAttributeValues?.[':response_data']).toEqual({
      M: { status: { S: 'in-sync' } },
    });
  });
});

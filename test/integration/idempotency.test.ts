/**
 * Idempotency of the drift handler against moto's DynamoDB: a duplicated EventBridge delivery of
 * one CloudTrail event runs the work once; a concurrent duplicate fails (so Lambda retries); a
 * failed run does not block its retry; events without an eventID are refused, never merged.
 */
import { createHash, randomUUID } from 'node:crypto';
import { IdempotencyAlreadyInProgressError, IdempotencyKeyError } from '@aws-lambda-powertools/idempotency';
import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type MotoServer, startMoto } from '../../dev/moto-server';
import {
  DRIFT_IDEMPOTENCY_PARTITION,
  DRIFT_IDEMPOTENCY_TTL_SECONDS,
  driftIdempotencyConfig,
  driftIdempotencyMiddleware,
  driftPersistenceLayer,
  isMissingEventIdError,
  MissingEventIdError,
  makeEventIdempotent,
} from '../../src/aws/idempotency';
import { createStateTable } from '../../src/aws/state-table';

// moto: the integration project's globalSetup provides MOTO_ENDPOINT; run alone, the file starts its own.
async function motoForTests(): Promise<Pick<MotoServer, 'endpoint' | 'stop'>> {
  const endpoint = process.env.MOTO_ENDPOINT;
  return endpoint ? { endpoint, stop: async () => {} } : startMoto();
}

jest.setTimeout(60_000);

/** The EventBridge event EventBridge delivers for a CloudTrail PutKeyPolicy (trimmed to what matters here). */
function putKeyPolicyEvent(eventID: string | undefined, deliveryId: string = randomUUID()) {
  return {
    version: '0',
    id: deliveryId,
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.kms',
    account: '111122223333',
    time: '2026-03-14T12:00:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      eventVersion: '1.09',
      userIdentity: { type: 'AssumedRole', arn: 'arn:aws:sts::111122223333:assumed-role/Admin/alice' },
      eventTime: '2026-03-14T11:59:58Z',
      eventSource: 'kms.amazonaws.com',
      eventName: 'PutKeyPolicy',
      requestParameters: { keyId: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd', policyName: 'default' },
      ...(eventID === undefined ? {} : { eventID }),
    },
  };
}
type DriftEvent = ReturnType<typeof putKeyPolicyEvent>;

function lambdaContext(remainingMillis: number): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'kms-policy-guard-dev-drift',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:kms-policy-guard-dev-drift',
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: '/aws/lambda/kms-policy-guard-dev-drift',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => remainingMillis,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** The sort key Powertools writes: `<prefix>#<base64 md5 of the JSON of the key>`. */
const idempotencySortKey = (eventID: string): string =>
  `drift#${createHash('md5').update(JSON.stringify(eventID)).digest('base64')}`;

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
}
function deferred(): Deferred {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

describe('drift event idempotency against moto', () => {
  let moto: Pick<MotoServer, 'endpoint' | 'stop'> | undefined;
  let client: DynamoDBClient;
  let tableName: string;

  beforeAll(async () => {
    // Powertools warns on every call without a Lambda context; the tests below prove both cases.
    jest.spyOn(console, 'warn').mockImplementation(() => {});
    moto = await motoForTests();
    client = new DynamoDBClient({
      endpoint: moto.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    tableName = `kms-guard-state-${randomUUID()}`;
    await createStateTable(client, tableName);
  });

  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
    jest.restoreAllMocks();
  });

  const getIdempotencyItem = (eventID: string) =>
    client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: DRIFT_IDEMPOTENCY_PARTITION }, sk: { S: idempotencySortKey(eventID) } },
        ConsistentRead: true,
      }),
    );

  describe('makeEventIdempotent', () => {
    it('runs the work once for a duplicated delivery and returns the first result to the duplicate', async () => {
      // Prepare
      const eventID = randomUUID();
      const work = jest.fn(async (event: DriftEvent) => ({
        findingId: `${event.detail.eventID}:drift`,
        run: randomUUID(),
      }));
      const idempotentWork = makeEventIdempotent(work, { tableName, client });

      // Act
      const first = await idempotentWork(putKeyPolicyEvent(eventID, 'delivery-1'));
      const duplicate = await idempotentWork(putKeyPolicyEvent(eventID, 'delivery-2'));

      // Assess
      expect(work).toHaveBeenCalledTimes(1);
      expect(duplicate).toEqual(first);
    });

    it('stores the record under pk idempotency#drift with TTL expiresAt 24 h ahead', async () => {
      // Prepare
      const eventID = randomUUID();
      const idempotentWork = makeEventIdempotent(async () => ({ ok: true }), { tableName, client });
      const before = Math.floor(Date.now() / 1000);

      // Act
      await idempotentWork(putKeyPolicyEvent(eventID));

      // Assess
      const { Item } = await getIdempotencyItem(eventID);
      expect(Item?.status).toEqual({ S: 'COMPLETED' });
      const expiresAt = Number(Item?.expiresAt?.N);
      expect(expiresAt).toBeGreaterThanOrEqual(before + DRIFT_IDEMPOTENCY_TTL_SECONDS);
      expect(expiresAt).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000) + DRIFT_IDEMPOTENCY_TTL_SECONDS);
    });

    it('runs different eventIDs independently', async () => {
      // Prepare
      const work = jest.fn(async (event: DriftEvent) => ({ eventID: event.detail.eventID }));
      const idempotentWork = makeEventIdempotent(work, { tableName, client });
      const [a, b] = [randomUUID(), randomUUID()];

      // Act
      const results = await Promise.all([
        idempotentWork(putKeyPolicyEvent(a)),
        idempotentWork(putKeyPolicyEvent(b)),
      ]);

      // Assess
      expect(work).toHaveBeenCalledTimes(2);
      expect(results).toEqual([{ eventID: a }, { eventID: b }]);
    });

    it('throws IdempotencyAlreadyInProgressError for a duplicate that arrives while the first still runs', async () => {
      // Prepare
      const eventID = randomUUID();
      const release = deferred();
      const started = deferred();
      const work = jest.fn(async () => {
        started.resolve();
        await release.promise;
        return { remediated: true };
      });
      const idempotentWork = makeEventIdempotent(work, { tableName, client });
      const first = idempotentWork(putKeyPolicyEvent(eventID), lambdaContext(60_000));
      await started.promise;

      // Act
      const concurrentDuplicate = idempotentWork(putKeyPolicyEvent(eventID), lambdaContext(60_000));

      // Assess
      await expect(concurrentDuplicate).rejects.toBeInstanceOf(IdempotencyAlreadyInProgressError);
      release.resolve();
      await expect(first).resolves.toEqual({ remediated: true });
      await expect(idempotentWork(putKeyPolicyEvent(eventID))).resolves.toEqual({ remediated: true });
      expect(work).toHaveBeenCalledTimes(1);
    });

    it('lets the retry run again after the first run failed', async () => {
      // Prepare
      const eventID = randomUUID();
      const work = jest
        .fn<Promise<{ attempt: number }>, [DriftEvent]>()
        .mockRejectedValueOnce(new Error('KMS throttled'))
        .mockResolvedValueOnce({ attempt: 2 });
      const idempotentWork = makeEventIdempotent(work, { tableName, client });
      await expect(idempotentWork(putKeyPolicyEvent(eventID))).rejects.toThrow('KMS throttled');

      // Act
      const retry = await idempotentWork(putKeyPolicyEvent(eventID));

      // Assess
      expect(retry).toEqual({ attempt: 2 });
      expect(work).toHaveBeenCalledTimes(2);
    });

    it('refuses events without detail.eventID instead of deduplicating them together', async () => {
      // Prepare
      const work = jest.fn(async () => ({ ran: true }));
      const idempotentWork = makeEventIdempotent(work, { tableName, client });
      const withoutId = [putKeyPolicyEvent(undefined), putKeyPolicyEvent(''), putKeyPolicyEvent(undefined)];

      // Act
      const outcomes = await Promise.allSettled(withoutId.map((event) => idempotentWork(event)));

      // Assess
      for (const outcome of outcomes) {
        expect(outcome.status).toBe('rejected');
        const reason = outcome.status === 'rejected' ? outcome.reason : undefined;
        expect(reason).toBeInstanceOf(MissingEventIdError);
        expect(isMissingEventIdError(reason)).toBe(true);
        expect((reason as Error).cause).toBeInstanceOf(Error);
      }
      expect(work).not.toHaveBeenCalled();
      const written = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND sk = :sk',
          ExpressionAttributeValues: {
            ':pk': { S: DRIFT_IDEMPOTENCY_PARTITION },
            ':sk': { S: `drift#${createHash('md5').update('null').digest('base64')}` },
          },
        }),
      );
      expect(written.Count).toBe(0);
    });

    it('returns the same JSON on first run and replay even when the result has undefined fields', async () => {
      // Prepare
      const eventID = randomUUID();
      const idempotentWork = makeEventIdempotent(
        async () => ({ finding: { kind: 'drift', actorArn: undefined as string | undefined } }),
        { tableName, client },
      );

      // Act
      const first = await idempotentWork(putKeyPolicyEvent(eventID));
      const replay = await idempotentWork(putKeyPolicyEvent(eventID));

      // Assess
      expect(first).toStrictEqual({ finding: { kind: 'drift' } });
      expect(replay).toStrictEqual(first);
    });
  });

  describe('an invocation that died mid-run (timeout, crash)', () => {
    async function leaveInProgressRecord(
      eventID: string,
      remainingMillis: number | undefined,
    ): Promise<void> {
      const persistence = driftPersistenceLayer({ tableName, client });
      persistence.configure({ config: driftIdempotencyConfig(), keyPrefix: 'drift' });
      await persistence.saveInProgress(putKeyPolicyEvent(eventID), remainingMillis);
    }

    it('does not block the retry once the dead invocation would have timed out (Lambda context given)', async () => {
      // Prepare
      const eventID = randomUUID();
      await leaveInProgressRecord(eventID, 1);
      await new Promise((resolve) => setTimeout(resolve, 20));
      const work = jest.fn(async () => ({ recovered: true }));
      const idempotentWork = makeEventIdempotent(work, { tableName, client });

      // Act
      const retry = await idempotentWork(putKeyPolicyEvent(eventID), lambdaContext(30_000));

      // Assess
      expect(retry).toEqual({ recovered: true });
      expect(work).toHaveBeenCalledTimes(1);
    });

    it('blocks the retry until the record expires when no Lambda context was registered', async () => {
      // Prepare
      const eventID = randomUUID();
      await leaveInProgressRecord(eventID, undefined);
      const work = jest.fn(async () => ({ recovered: true }));
      const idempotentWork = makeEventIdempotent(work, { tableName, client });

      // Act
      const retry = idempotentWork(putKeyPolicyEvent(eventID));

      // Assess
      await expect(retry).rejects.toBeInstanceOf(IdempotencyAlreadyInProgressError);
      expect(work).not.toHaveBeenCalled();
    });
  });

  describe('driftIdempotencyMiddleware (middy)', () => {
    const handlerWith = (
      work: (event: DriftEvent) => Promise<unknown>,
      onMissingEventId?: 'throw' | 'run-unprotected',
    ) =>
      middy<DriftEvent, unknown>({ timeoutEarlyInMillis: 0 })
        .use(driftIdempotencyMiddleware({ tableName, client, onMissingEventId }))
        .handler(async (event) => work(event));

    it('answers a duplicate with the stored result without running the handler again', async () => {
      // Prepare
      const eventID = randomUUID();
      const work = jest.fn(async () => ({ action: 'remediated', optional: undefined }));
      const handler = handlerWith(work);

      // Act
      const first = await handler(putKeyPolicyEvent(eventID), lambdaContext(60_000));
      const duplicate = await handler(putKeyPolicyEvent(eventID), lambdaContext(60_000));

      // Assess
      expect(work).toHaveBeenCalledTimes(1);
      expect(first).toStrictEqual({ action: 'remediated' });
      expect(duplicate).toStrictEqual(first);
    });

    it('never fails an invocation whose result is too large to store, after its work was done', async () => {
      // Prepare: DynamoDB refuses items over 400 KB; the work (a published finding) already happened.
      const eventID = randomUUID();
      const errors: string[] = [];
      const work = jest.fn(async () => ({ huge: 'x'.repeat(450_000) }));
      const handler = middy<DriftEvent, unknown>({ timeoutEarlyInMillis: 0 })
        .use(
          driftIdempotencyMiddleware({
            tableName,
            client,
            logger: { error: (message) => errors.push(message) },
          }),
        )
        .handler(async () => work());

      // Act
      const result = await handler(putKeyPolicyEvent(eventID), lambdaContext(60_000));

      // Assess
      expect(result).toMatchObject({ huge: expect.any(String) });
      expect(work).toHaveBeenCalledTimes(1);
      expect(errors).toEqual(['idempotency_record_not_saved']);
    });

    it('deletes the record when the handler fails, so the retry runs', async () => {
      // Prepare
      const eventID = randomUUID();
      const work = jest
        .fn<Promise<unknown>, [DriftEvent]>()
        .mockRejectedValueOnce(new Error('SNS unavailable'))
        .mockResolvedValueOnce({ action: 'alerted' });
      const handler = handlerWith(work);
      await expect(handler(putKeyPolicyEvent(eventID), lambdaContext(60_000))).rejects.toThrow(
        'SNS unavailable',
      );

      // Act
      const retry = await handler(putKeyPolicyEvent(eventID), lambdaContext(60_000));

      // Assess
      expect(retry).toEqual({ action: 'alerted' });
      expect(work).toHaveBeenCalledTimes(2);
    });

    it('rejects an event without detail.eventID with MissingEventIdError (Powertools IdempotencyKeyError as cause)', async () => {
      // Prepare
      const work = jest.fn(async () => ({ action: 'none' }));
      const handler = handlerWith(work);

      // Act
      const invocation = handler(putKeyPolicyEvent(undefined), lambdaContext(60_000));

      // Assess
      const error: unknown = await invocation.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(MissingEventIdError);
      let cause: unknown = (error as Error).cause;
      while (cause instanceof Error && !(cause instanceof IdempotencyKeyError)) cause = cause.cause;
      expect(cause).toBeInstanceOf(IdempotencyKeyError);
      expect(work).not.toHaveBeenCalled();
    });
    it('lets the handler classify events without detail.eventID when asked, storing and merging nothing', async () => {
      // Prepare
      const work = jest.fn(async (event: DriftEvent) =>
        event.detail.eventID ? { status: 'checked' } : { status: 'rejected', reason: 'no-event-id' },
      );
      const handler = handlerWith(work, 'run-unprotected');

      // Act
      const first = await handler(putKeyPolicyEvent(undefined), lambdaContext(60_000));
      const second = await handler(putKeyPolicyEvent(undefined), lambdaContext(60_000));

      // Assess
      expect(work).toHaveBeenCalledTimes(2);
      expect([first, second]).toEqual([
        { status: 'rejected', reason: 'no-event-id' },
        { status: 'rejected', reason: 'no-event-id' },
      ]);
      const { Item } = await client.send(
        new GetItemCommand({
          TableName: tableName,
          Key: {
            pk: { S: DRIFT_IDEMPOTENCY_PARTITION },
            sk: { S: `drift#${createHash('md5').update('null').digest('base64')}` },
          },
        }),
      );
      expect(Item).toBeUndefined();
    });
  });
});

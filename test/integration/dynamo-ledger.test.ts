/**
 * The remediation ledger against moto's DynamoDB: window counting, verbatim documents, paginated
 * counts, the table definition (TTL, PITR, on-demand) the snippet and the demo share.
 */
import { createHash, randomUUID } from 'node:crypto';
import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import fc from 'fast-check';
import { type MotoServer, startMoto } from '../../dev/moto-server';
import {
  DynamoRemediationLedger,
  LEDGER_RETENTION_DAYS,
  ledgerPartitionKey,
} from '../../src/aws/dynamo-ledger';
import { createStateTable, StateStoreError } from '../../src/aws/state-table';

// moto: the integration project's globalSetup provides MOTO_ENDPOINT; run alone, the file starts its own.
async function motoForTests(): Promise<Pick<MotoServer, 'endpoint' | 'stop'>> {
  const endpoint = process.env.MOTO_ENDPOINT;
  return endpoint ? { endpoint, stop: async () => {} } : startMoto();
}

jest.setTimeout(60_000);

// --- fixtures

const T0 = new Date('2026-03-14T12:00:00.000Z');
const minutes = (count: number): number => count * 60_000;
const at = (offsetMinutes: number): Date => new Date(T0.getTime() + minutes(offsetMinutes));
const keyArn = (): string => `arn:aws:kms:eu-west-1:111122223333:key/${randomUUID()}`;

/** A key policy of about `bytes` bytes with Latin-1 characters, tabs and CRLFs that must survive verbatim. */
function largeLatin1Policy(bytes: number): string {
  const statements: string[] = [];
  let index = 0;
  while (statements.join(',').length < bytes) {
    statements.push(
      `\r\n\t{ "Sid": "Équipe-données-${index} «prod» ©ß ñ ü\u00a0Ø", "Effect": "Allow",\r\n\t  "Principal": {"AWS": "arn:aws:iam::111122223333:role/rôle-${index}"},` +
        ` "Action": ["kms:Decrypt", "kms:DescribeKey"], "Resource": "*",  "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}} }`,
    );
    index++;
  }
  return `{"Version": "2012-10-17",  "Statement": [${statements.join(',')}\r\n]}`;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

describe('DynamoRemediationLedger against moto', () => {
  let moto: Pick<MotoServer, 'endpoint' | 'stop'> | undefined;
  let client: DynamoDBClient;
  let tableName: string;
  let queryCalls = 0;

  beforeAll(async () => {
    moto = await motoForTests();
    client = new DynamoDBClient({
      endpoint: moto.endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    });
    // Counts Query round trips, to prove the count follows LastEvaluatedKey.
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'QueryCommand') queryCalls++;
        return next(args);
      },
      { step: 'initialize', name: 'countQueryCalls' },
    );
    tableName = `kms-guard-state-${randomUUID()}`;
    await createStateTable(client, tableName);
  });

  afterAll(async () => {
    client?.destroy();
    await moto?.stop();
  });

  beforeEach(() => {
    queryCalls = 0;
  });

  const ledgerWith = (windowMinutes: number, queryPageLimit?: number) =>
    new DynamoRemediationLedger({ tableName, client, window: { windowMinutes }, queryPageLimit });

  describe('the state table', () => {
    it('is on-demand with pk/sk, TTL on expiresAt and point-in-time recovery', async () => {
      // Act
      const table = await client.send(new DescribeTableCommand({ TableName: tableName }));
      const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
      const backups = await client.send(new DescribeContinuousBackupsCommand({ TableName: tableName }));

      // Assess
      expect(table.Table?.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
      expect(table.Table?.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
      expect(ttl.TimeToLiveDescription).toEqual({ AttributeName: 'expiresAt', TimeToLiveStatus: 'ENABLED' });
      expect(
        backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus,
      ).toBe('ENABLED');
    });
  });

  describe('counting re-applies inside the flapping window', () => {
    it('counts the entries of the last windowMinutes, this one included, and nothing older', async () => {
      // Prepare
      const ledger = ledgerWith(60);
      const key = keyArn();
      await ledger.recordReapply(key, '{"old":1}', at(-90));
      await ledger.recordReapply(key, '{"old":2}', at(-61));
      await ledger.recordReapply(key, '{"old":3}', at(-30));

      // Act
      const countIncludingThisOne = await ledger.recordReapply(key, '{"old":4}', at(0));

      // Assess
      expect(countIncludingThisOne).toBe(2);
      expect(await ledger.reapplyCount(key, at(0))).toBe(2);
      expect(await ledger.reapplyCount(key, at(-30))).toBe(3);
      expect(await ledger.reapplyCount(key, at(200))).toBe(0);
    });

    it('includes an entry exactly at the window start and ignores entries after "now"', async () => {
      // Prepare
      const ledger = ledgerWith(10);
      const key = keyArn();
      await ledger.recordReapply(key, 'a', at(-10));
      await ledger.recordReapply(key, 'b', at(1));

      // Act
      const count = await ledger.reapplyCount(key, at(0));

      // Assess
      expect(count).toBe(1);
    });

    it('counts each key separately', async () => {
      // Prepare
      const ledger = ledgerWith(60);
      const flappingKey = keyArn();
      const quietKey = keyArn();
      for (const offset of [-3, -2, -1]) await ledger.recordReapply(flappingKey, 'x', at(offset));

      // Act
      const quietCount = await ledger.recordReapply(quietKey, 'y', at(0));

      // Assess
      expect(quietCount).toBe(1);
      expect(await ledger.reapplyCount(flappingKey, at(0))).toBe(3);
    });

    it('matches a reference count for any set of re-apply times (property)', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 120 }),
          fc.array(fc.integer({ min: -240, max: 0 }), { maxLength: 8 }),
          async (windowMinutes, offsets) => {
            // Prepare
            const ledger = ledgerWith(windowMinutes);
            const key = keyArn();
            for (const offset of offsets) await ledger.recordReapply(key, `{"offset":${offset}}`, at(offset));

            // Act
            const count = await ledger.reapplyCount(key, at(0));

            // Assess
            expect(count).toBe(offsets.filter((offset) => offset >= -windowMinutes).length);
          },
        ),
        { numRuns: 15 },
      );
    });

    it('records a retried re-apply of the same event once', async () => {
      // Prepare
      const ledger = ledgerWith(60);
      const key = keyArn();
      const details = { eventId: randomUUID(), actorArn: 'arn:aws:iam::111122223333:role/ops' };
      await ledger.recordReapply(key, '{"first":true}', at(0), details);

      // Act
      const countAfterRetry = await ledger.recordReapply(key, '{"second":true}', at(0), details);

      // Assess
      expect(countAfterRetry).toBe(1);
      const entries = await ledger.listLedger(key, 10);
      expect(entries.map((entry) => entry.overwrittenPolicy)).toEqual(['{"first":true}']);
    });

    it('keeps two re-applies without an event ID in the same millisecond apart', async () => {
      // Prepare
      const ledger = ledgerWith(60);
      const key = keyArn();
      await ledger.recordReapply(key, 'audit run 1', at(0));

      // Act
      const count = await ledger.recordReapply(key, 'audit run 2', at(0));

      // Assess
      expect(count).toBe(2);
    });
  });

  describe('keeping overwritten documents', () => {
    it('stores a ~30 KB document with Latin-1 characters verbatim, with its hash, event and actor', async () => {
      // Prepare
      const ledger = ledgerWith(60);
      const key = keyArn();
      const overwritten = largeLatin1Policy(30_000);
      const desired = '{"Version":"2012-10-17","Statement":[]}';
      const eventId = randomUUID();

      // Act
      await ledger.recordReapply(key, overwritten, at(0), {
        eventId,
        actorArn: 'arn:aws:sts::111122223333:assumed-role/Admin/alice',
        desiredPolicy: desired,
      });

      // Assess
      expect(Buffer.byteLength(overwritten, 'utf8')).toBeGreaterThan(30_000);
      const [entry] = await ledger.listLedger(key, 1);
      expect(entry?.overwrittenPolicy).toBe(overwritten);
      expect(entry).toMatchObject({
        keyArn: key,
        reappliedAt: T0.toISOString(),
        overwrittenPolicySha256: sha256(overwritten),
        desiredPolicySha256: sha256(desired),
        eventId,
        actorArn: 'arn:aws:sts::111122223333:assumed-role/Admin/alice',
        sortKey: `reapply#${T0.toISOString()}#${eventId}`,
      });
    });

    it(`sets the TTL attribute expiresAt to ${LEDGER_RETENTION_DAYS} days after the re-apply`, async () => {
      // Prepare
      const ledger = ledgerWith(60);
      const key = keyArn();
      const eventId = randomUUID();

      // Act
      await ledger.recordReapply(key, '{}', at(0), { eventId });

      // Assess
      const stored = await client.send(
        new GetItemCommand({
          TableName: tableName,
          Key: { pk: { S: ledgerPartitionKey(key) }, sk: { S: `reapply#${T0.toISOString()}#${eventId}` } },
        }),
      );
      expect(stored.Item?.expiresAt).toEqual({
        N: String(T0.getTime() / 1000 + LEDGER_RETENTION_DAYS * 86_400),
      });
    });

    it('lists entries newest first, at most `limit`, across pages', async () => {
      // Prepare
      const ledger = ledgerWith(10_000, 2);
      const key = keyArn();
      for (let offset = -6; offset <= 0; offset++)
        await ledger.recordReapply(key, `doc ${offset}`, at(offset));
      queryCalls = 0;

      // Act
      const entries = await ledger.listLedger(key, 5);

      // Assess
      expect(entries.map((entry) => entry.overwrittenPolicy)).toEqual([
        'doc 0',
        'doc -1',
        'doc -2',
        'doc -3',
        'doc -4',
      ]);
      expect(queryCalls).toBe(3);
    });
  });

  describe('paginating the count', () => {
    it('follows LastEvaluatedKey when 1 MB pages cannot hold every entry (40 × 30 KB)', async () => {
      // Prepare
      const ledger = ledgerWith(60);
      const key = keyArn();
      const document = largeLatin1Policy(30_000);
      for (let index = 0; index < 40; index++) {
        await ledger.recordReapply(key, document, new Date(T0.getTime() - index * 1000));
      }
      queryCalls = 0;

      // Act
      const count = await ledger.reapplyCount(key, T0);

      // Assess
      expect(count).toBe(40);
      expect(queryCalls).toBeGreaterThan(1);
    });

    it('sums every page when the page limit is small', async () => {
      // Prepare
      const ledger = ledgerWith(60, 7);
      const key = keyArn();
      for (let index = 0; index < 25; index++) await ledger.recordReapply(key, 'x', at(-index));
      queryCalls = 0;

      // Act
      const count = await ledger.reapplyCount(key, T0);

      // Assess
      expect(count).toBe(25);
      expect(queryCalls).toBe(4);
    });
  });

  describe('write intents (the desired document a policy entry names)', () => {
    const DESIRED = '{"Version":"2012-10-17","Statement":[]}';
    const hours = (count: number): number => count * 60 * minutes(1);

    it('matches only the exact desired document of that key, from the 24 hours before the check on', async () => {
      // Prepare
      const ledger = ledgerWith(60);
      const key = keyArn();
      await ledger.append(key, 'overwritten', T0, { eventId: randomUUID(), desiredPolicy: DESIRED });

      // Act + Assess
      expect(await ledger.intended(key, sha256(DESIRED), T0)).toBe(true);
      expect(await ledger.intended(key, sha256(`${DESIRED} `), T0)).toBe(false);
      expect(await ledger.intended(keyArn(), sha256(DESIRED), T0)).toBe(false);
      expect(await ledger.intended(key, sha256('overwritten'), T0)).toBe(false);
      expect(await ledger.intended(key, sha256(DESIRED), new Date(T0.getTime() + hours(24)))).toBe(true);
      expect(await ledger.intended(key, sha256(DESIRED), new Date(T0.getTime() + hours(24) + 1))).toBe(false);
      // A clock behind the one that wrote the entry still finds it.
      expect(await ledger.intended(key, sha256(DESIRED), new Date(T0.getTime() - minutes(5)))).toBe(true);
    });

    it('is not opened by an entry without a desired document, nor by a revoked grant that carries one', async () => {
      // Prepare
      const ledger = ledgerWith(60);
      const key = keyArn();
      await ledger.append(key, DESIRED, T0);
      await ledger.append(key, DESIRED, T0, {
        subject: 'grant',
        eventId: randomUUID(),
        desiredPolicy: DESIRED,
      });

      // Act + Assess
      expect(await ledger.intended(key, sha256(DESIRED), T0)).toBe(false);
    });

    it('finds the intent on a later page when the window holds more entries than a page', async () => {
      // Prepare
      const ledger = ledgerWith(60, 3);
      const key = keyArn();
      for (let index = 0; index < 8; index++) {
        await ledger.append(key, `other-${index}`, at(-60 + index), { desiredPolicy: `other-${index}` });
      }
      await ledger.append(key, 'overwritten', T0, { desiredPolicy: DESIRED });
      queryCalls = 0;

      // Act
      const intended = await ledger.intended(key, sha256(DESIRED), T0);

      // Assess
      expect(intended).toBe(true);
      expect(queryCalls).toBe(3);
    });
  });

  describe('failures', () => {
    it('throws a typed StateStoreError naming the AWS error when the table does not exist', async () => {
      // Prepare
      const ledger = new DynamoRemediationLedger({
        tableName: 'no-such-table',
        client,
        window: { windowMinutes: 60 },
      });

      // Act
      const failure = ledger.recordReapply(keyArn(), '{}', T0);

      // Assess
      await expect(failure).rejects.toBeInstanceOf(StateStoreError);
      await expect(failure).rejects.toMatchObject({
        operation: 'PutItem',
        awsErrorCode: 'ResourceNotFoundException',
        retryable: false,
      });
    });
  });
});

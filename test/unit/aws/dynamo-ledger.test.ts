/**
 * Request shapes and error handling of the DynamoDB ledger, with aws-sdk-client-mock (no network).
 */
import { createHash } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import {
  DynamoRemediationLedger,
  LedgerArgumentError,
  MalformedLedgerItemError,
  remediationLedgerFor,
} from '../../../src/aws/dynamo-ledger';
import { createStateTable, StateStoreError, stateTableDefinition } from '../../../src/aws/state-table';
import { InMemoryRemediationLedger } from '../../../src/guard/memory-ledger';

const documentClientMock = mockClient(DynamoDBDocumentClient);
const dynamoClientMock = mockClient(DynamoDBClient);

const TABLE = 'kms-guard-state';
const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const NOW = new Date('2026-03-14T12:00:00.000Z');
const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

function ledger(options: { windowMinutes?: number; queryPageLimit?: number } = {}): DynamoRemediationLedger {
  return new DynamoRemediationLedger({
    tableName: TABLE,
    client: new DynamoDBClient({ region: 'eu-west-1' }),
    window: { windowMinutes: options.windowMinutes ?? 60 },
    queryPageLimit: options.queryPageLimit,
    newEntryId: () => 'entry-fixed',
  });
}

const metadata = { $metadata: {} };

beforeEach(() => {
  documentClientMock.reset();
  dynamoClientMock.reset();
});

describe('stateTableDefinition', () => {
  it('defines pk/sk string keys, on-demand billing and server-side encryption', () => {
    // Act
    const definition = stateTableDefinition(TABLE);

    // Assess
    expect(definition).toEqual({
      TableName: TABLE,
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
    });
  });

  it('createStateTable creates the table, waits for it, then enables TTL on expiresAt and PITR', async () => {
    // Prepare
    dynamoClientMock.on(CreateTableCommand).resolves({});
    dynamoClientMock.on(DescribeTableCommand).resolves({ Table: { TableStatus: 'ACTIVE' } });
    dynamoClientMock.on(UpdateTimeToLiveCommand).resolves({});
    dynamoClientMock.on(UpdateContinuousBackupsCommand).resolves({});

    // Act
    await createStateTable(new DynamoDBClient({ region: 'eu-west-1' }), TABLE);

    // Assess
    expect(dynamoClientMock.commandCalls(CreateTableCommand)[0]?.args[0].input).toEqual(
      stateTableDefinition(TABLE),
    );
    expect(dynamoClientMock.commandCalls(UpdateTimeToLiveCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
    expect(dynamoClientMock.commandCalls(UpdateContinuousBackupsCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
  });
});

describe('DynamoRemediationLedger.recordReapply', () => {
  it('appends one entry with a conditional put: verbatim document, hashes, event, actor, 400-day TTL', async () => {
    // Prepare
    documentClientMock.on(PutCommand).resolves({});
    documentClientMock.on(QueryCommand).resolves({ Count: 1 });
    const overwritten = '{ "Statement" : [ ] }\r\n';

    // Act
    const count = await ledger().recordReapply(KEY_ARN, overwritten, NOW, {
      eventId: 'e1b2c3',
      actorArn: 'arn:aws:iam::111122223333:user/bob',
      desiredPolicy: '{"desired":true}',
    });

    // Assess
    expect(count).toBe(1);
    expect(documentClientMock.commandCalls(PutCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      Item: {
        pk: `key#${KEY_ARN}`,
        sk: 'reapply#2026-03-14T12:00:00.000Z#e1b2c3',
        kind: 'reapply',
        keyArn: KEY_ARN,
        reappliedAt: '2026-03-14T12:00:00.000Z',
        overwrittenPolicy: overwritten,
        overwrittenPolicySha256: sha256(overwritten),
        desiredPolicySha256: sha256('{"desired":true}'),
        eventId: 'e1b2c3',
        actorArn: 'arn:aws:iam::111122223333:user/bob',
        expiresAt: NOW.getTime() / 1000 + 400 * 86_400,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
  });

  it('names an entry without a CloudTrail event by a fresh entry ID and writes no optional attributes', async () => {
    // Prepare
    documentClientMock.on(PutCommand).resolves({});
    documentClientMock.on(QueryCommand).resolves({ Count: 1 });

    // Act
    await ledger().recordReapply(KEY_ARN, '{}', NOW);

    // Assess
    const item = documentClientMock.commandCalls(PutCommand)[0]?.args[0].input.Item;
    expect(item?.sk).toBe('reapply#2026-03-14T12:00:00.000Z#entry-fixed');
    expect(Object.keys(item ?? {}).sort()).toEqual(
      [
        'expiresAt',
        'keyArn',
        'kind',
        'overwrittenPolicy',
        'overwrittenPolicySha256',
        'pk',
        'reappliedAt',
        'sk',
      ].sort(),
    );
  });

  it('treats a failed condition (same event already recorded) as done and still returns the count', async () => {
    // Prepare
    documentClientMock
      .on(PutCommand)
      .rejects(
        new ConditionalCheckFailedException({ message: 'The conditional request failed', ...metadata }),
      );
    documentClientMock.on(QueryCommand).resolves({ Count: 3 });

    // Act
    const count = await ledger().recordReapply(KEY_ARN, '{}', NOW, { eventId: 'dup' });

    // Assess
    expect(count).toBe(3);
  });

  it.each([
    ['throttled', new ProvisionedThroughputExceededException({ message: 'slow down', ...metadata }), true],
    ['a server error', new InternalServerError({ message: 'boom', ...metadata }), true],
    ['a missing table', new ResourceNotFoundException({ message: 'no table', ...metadata }), false],
  ])(
    'throws a StateStoreError with the SDK error as cause when PutItem is %s',
    async (_case, sdkError, retryable) => {
      // Prepare
      documentClientMock.on(PutCommand).rejects(sdkError);

      // Act
      const failure = ledger().recordReapply(KEY_ARN, '{}', NOW);

      // Assess
      const error: unknown = await failure.catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StateStoreError);
      expect(error).toMatchObject({
        operation: 'PutItem',
        tableName: TABLE,
        awsErrorCode: sdkError.name,
        retryable,
      });
      expect((error as Error).cause).toBe(sdkError);
      expect(documentClientMock.commandCalls(QueryCommand)).toHaveLength(0);
    },
  );

  it('rejects an invalid date before writing anything (it would break the sort-key order)', async () => {
    // Act
    const failure = ledger().recordReapply(KEY_ARN, '{}', new Date(Number.NaN));

    // Assess
    await expect(failure).rejects.toBeInstanceOf(LedgerArgumentError);
    expect(documentClientMock.calls()).toHaveLength(0);
  });
});

describe('DynamoRemediationLedger.reapplyCount', () => {
  it('queries the key between the window start and now with a strongly consistent COUNT', async () => {
    // Prepare
    documentClientMock.on(QueryCommand).resolves({ Count: 2 });

    // Act
    const count = await ledger({ windowMinutes: 30 }).reapplyCount(KEY_ARN, NOW);

    // Assess
    expect(count).toBe(2);
    expect(documentClientMock.commandCalls(QueryCommand)[0]?.args[0].input).toEqual({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: {
        ':pk': `key#${KEY_ARN}`,
        ':from': 'reapply#2026-03-14T11:30:00.000Z',
        ':to': 'reapply#2026-03-14T12:00:00.000Z~',
      },
      Select: 'COUNT',
      ConsistentRead: true,
    });
  });

  it('sums the Count of every page, passing each LastEvaluatedKey on', async () => {
    // Prepare
    const firstPageEnd = { pk: `key#${KEY_ARN}`, sk: 'reapply#2026-03-14T11:40:00.000Z#a' };
    const secondPageEnd = { pk: `key#${KEY_ARN}`, sk: 'reapply#2026-03-14T11:50:00.000Z#b' };
    documentClientMock
      .on(QueryCommand)
      .resolvesOnce({ Count: 3, LastEvaluatedKey: firstPageEnd })
      .resolvesOnce({ Count: 0, LastEvaluatedKey: secondPageEnd })
      .resolvesOnce({ Count: 2 });

    // Act
    const count = await ledger({ queryPageLimit: 3 }).reapplyCount(KEY_ARN, NOW);

    // Assess
    expect(count).toBe(5);
    const inputs = documentClientMock.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(inputs.map((input) => input.ExclusiveStartKey)).toEqual([undefined, firstPageEnd, secondPageEnd]);
    expect(inputs.every((input) => input.Limit === 3)).toBe(true);
  });

  it('throws a retryable StateStoreError when a later page is throttled', async () => {
    // Prepare
    const throttled = new ProvisionedThroughputExceededException({ message: 'slow down', ...metadata });
    documentClientMock
      .on(QueryCommand)
      .resolvesOnce({ Count: 3, LastEvaluatedKey: { pk: 'p', sk: 's' } })
      .rejectsOnce(throttled);

    // Act
    const failure = ledger().reapplyCount(KEY_ARN, NOW);

    // Assess
    await expect(failure).rejects.toMatchObject({
      name: 'StateStoreError',
      operation: 'Query',
      awsErrorCode: 'ProvisionedThroughputExceededException',
      retryable: true,
      cause: throttled,
    });
  });
});

describe('DynamoRemediationLedger.listLedger', () => {
  const item = (minute: number) => ({
    pk: `key#${KEY_ARN}`,
    sk: `reapply#2026-03-14T11:${String(minute).padStart(2, '0')}:00.000Z#e${minute}`,
    kind: 'reapply',
    keyArn: KEY_ARN,
    reappliedAt: `2026-03-14T11:${String(minute).padStart(2, '0')}:00.000Z`,
    overwrittenPolicy: `{"minute":${minute}}`,
    overwrittenPolicySha256: sha256(`{"minute":${minute}}`),
    eventId: `e${minute}`,
    expiresAt: 1_800_000_000,
  });

  it('reads newest first and stops paging once it has `limit` entries', async () => {
    // Prepare
    documentClientMock
      .on(QueryCommand)
      .resolvesOnce({ Items: [item(59), item(58)], LastEvaluatedKey: { pk: 'p', sk: 'a' } })
      .resolvesOnce({ Items: [item(57), item(56)], LastEvaluatedKey: { pk: 'p', sk: 'b' } })
      .resolves({ Items: [item(1)] });

    // Act
    const entries = await ledger({ queryPageLimit: 2 }).listLedger(KEY_ARN, 3);

    // Assess
    expect(entries.map((entry) => entry.eventId)).toEqual(['e59', 'e58', 'e57']);
    expect(entries[0]).toEqual({
      keyArn: KEY_ARN,
      reappliedAt: '2026-03-14T11:59:00.000Z',
      overwrittenPolicy: '{"minute":59}',
      overwrittenPolicySha256: sha256('{"minute":59}'),
      eventId: 'e59',
      expiresAt: 1_800_000_000,
      sortKey: 'reapply#2026-03-14T11:59:00.000Z#e59',
    });
    const inputs = documentClientMock.commandCalls(QueryCommand).map((call) => call.args[0].input);
    expect(inputs).toHaveLength(2);
    expect(inputs[0]).toEqual({
      TableName: TABLE,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': `key#${KEY_ARN}`, ':prefix': 'reapply#' },
      ScanIndexForward: false,
      Limit: 2,
    });
    expect(inputs[1]?.Limit).toBe(1);
  });

  it('refuses an item that is not a ledger entry instead of returning a half-empty one', async () => {
    // Prepare
    const { overwrittenPolicy: _dropped, ...withoutDocument } = item(10);
    documentClientMock.on(QueryCommand).resolves({ Items: [withoutDocument] });

    // Act
    const failure = ledger().listLedger(KEY_ARN, 5);

    // Assess
    await expect(failure).rejects.toBeInstanceOf(MalformedLedgerItemError);
  });

  it.each([0, -1, 1.5])('rejects limit %p', async (limit) => {
    await expect(ledger().listLedger(KEY_ARN, limit)).rejects.toBeInstanceOf(LedgerArgumentError);
  });
});

describe('DynamoRemediationLedger construction', () => {
  it.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY])('rejects windowMinutes %p', (windowMinutes) => {
    expect(() => ledger({ windowMinutes })).toThrow(LedgerArgumentError);
  });
});

describe("remediationLedgerFor (the Lambdas' choice of ledger)", () => {
  it('uses the state table when one is configured, without a warning', () => {
    // Prepare
    const warn = jest.fn();

    // Act
    const chosen = remediationLedgerFor(
      { tableName: TABLE, client: new DynamoDBClient({ region: 'eu-west-1' }) },
      { windowMinutes: 60 },
      { warn },
    );

    // Assess
    expect(chosen).toBeInstanceOf(DynamoRemediationLedger);
    expect(warn).not.toHaveBeenCalled();
  });

  it('falls back to the container memory without a state table, and warns that flapping is per container', () => {
    // Prepare
    const warn = jest.fn();

    // Act
    const chosen = remediationLedgerFor(undefined, { windowMinutes: 60 }, { warn });

    // Assess
    expect(chosen).toBeInstanceOf(InMemoryRemediationLedger);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith('ledger_in_memory', {
      note: 'STATE_TABLE not set: flapping is only counted per container',
    });
  });
});

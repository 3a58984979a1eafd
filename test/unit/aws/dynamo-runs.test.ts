/**
 * DynamoAuditRuns.start with aws-sdk-client-mock (no network): the run's units are recorded before its meta item,
 * so a start retried after a failure part-way leaves no unit unrecorded (docs/architecture.md#the-organization-audit).
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoAuditRuns } from '../../../src/aws/dynamo-runs';
import { StateStoreError } from '../../../src/aws/state-table';
import type { AuditUnit, RunProgress } from '../../../src/guard/ports';

const documentClientMock = mockClient(DynamoDBDocumentClient);
const TABLE = 'kms-guard-state';
const PROGRESS: RunProgress = {
  runId: 'run-1',
  units: 40,
  reported: 0,
  startedAt: '2026-12-03T10:00:00.000Z',
  deadlineAt: '2026-12-03T10:15:00.000Z',
};
const UNITS: AuditUnit[] = Array.from({ length: 40 }, (_, n) => ({
  accountId: String(100000000000 + n),
  region: n % 2 === 0 ? 'eu-west-1' : 'us-east-1',
  partition: 'aws',
}));

function runs(): DynamoAuditRuns {
  return new DynamoAuditRuns(
    TABLE,
    new DynamoDBClient({ region: 'eu-west-1' }),
    () => new Date('2026-12-03T10:00:00.000Z'),
  );
}

const sortKeys = () =>
  documentClientMock.commandCalls(PutCommand).map((call) => String(call.args[0].input.Item?.sk));

beforeEach(() => documentClientMock.reset());

describe('DynamoAuditRuns.start', () => {
  it('records every unit, then the meta item last and only if the run is new', async () => {
    // Prepare
    documentClientMock.on(PutCommand).resolves({});

    // Act
    await runs().start(PROGRESS, UNITS);

    // Assess
    const written = sortKeys();
    expect(written).toHaveLength(41);
    expect(written.slice(0, 40).sort()).toEqual(
      UNITS.map((unit) => `unit#${unit.accountId}#${unit.region}`).sort(),
    );
    expect(written[40]).toBe('meta');
    const meta = documentClientMock.commandCalls(PutCommand)[40]?.args[0].input;
    expect(meta?.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(meta?.Item).toMatchObject({ pk: 'run#run-1', sk: 'meta', units: 40, reported: 0 });
  });

  it('records every unit again and stops quietly at the meta item when a start is retried', async () => {
    // Prepare: the first attempt wrote the meta item; the retry finds it
    documentClientMock.on(PutCommand).callsFake(async (input: { Item?: { sk?: unknown } }) => {
      if (input.Item?.sk === 'meta')
        throw new ConditionalCheckFailedException({ message: 'exists', $metadata: {} });
      return {};
    });

    // Act
    const started = runs().start(PROGRESS, UNITS);

    // Assess
    await expect(started).resolves.toBeUndefined();
    expect(sortKeys().filter((sk) => sk.startsWith('unit#'))).toHaveLength(40);
    expect(sortKeys().at(-1)).toBe('meta');
  });

  it('throws a StateStoreError and writes no meta item when a unit cannot be recorded', async () => {
    // Prepare
    const [, second] = UNITS;
    documentClientMock.on(PutCommand).callsFake(async (input: { Item?: { sk?: unknown } }) => {
      if (input.Item?.sk === `unit#${second?.accountId}#${second?.region}`) throw new Error('throttled');
      return {};
    });

    // Act
    const started = runs().start(PROGRESS, UNITS);

    // Assess: the Lambda retry starts the run again; no meta item claims a run whose units are not all recorded
    await expect(started).rejects.toBeInstanceOf(StateStoreError);
    expect(sortKeys()).not.toContain('meta');
  });
});

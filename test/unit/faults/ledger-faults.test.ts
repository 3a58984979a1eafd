/**
 * DynamoDB ledger faults in remediate mode, through checkKey: what the user sees when the state table
 * is throttled, denied or missing before the write (flapping count) and after it (recording the
 * overwritten document). Part of the fault matrix (aws-faults.test.ts).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoRemediationLedger } from '../../../src/aws/dynamo-ledger';
import { StateStoreError } from '../../../src/aws/state-table';
import { type CheckKeyRequest, checkKey } from '../../../src/guard/check-key';
import {
  awsError,
  DescribeKeyCommand,
  describeKeyResponse,
  driftedPolicyText,
  fixtureManifest,
  GetKeyPolicyCommand,
  KEY_ARN,
  kmsMock,
  kmsRestoresDesiredAfter,
  makeHarness,
  narrowedPolicyText,
  PublishCommand,
  PutKeyPolicyCommand,
  resetMocks,
  snsMock,
} from '../guard/harness';

const REQUEST: CheckKeyRequest = {
  keyRef: KEY_ARN,
  trigger: 'event',
  eventId: 'c217db1f-903f-4a2f-8f88-9580182d6313',
  actor: { arn: 'arn:aws:iam::111122223333:user/Alice', isGuard: false },
};

beforeEach(() => {
  resetMocks();
});

describe('DynamoDB ledger faults (remediate mode)', () => {
  const documentMock = mockClient(DynamoDBDocumentClient);

  beforeEach(() => {
    documentMock.reset();
  });

  afterAll(() => {
    documentMock.restore();
  });

  function ledgerHarness() {
    const harness = makeHarness(fixtureManifest('remediate'));
    const ledger = new DynamoRemediationLedger({
      tableName: 'kms-guard-state',
      client: new DynamoDBClient({ region: 'us-west-2' }),
      window: { windowMinutes: 60 },
    });
    return { ...harness, deps: { ...harness.deps, ledger } };
  }

  const QUERY_FAULTS = [
    ['ProvisionedThroughputExceededException', true],
    ['ThrottlingException', true],
    ['InternalServerError', true],
    ['AccessDeniedException', false],
    ['ResourceNotFoundException', false],
  ] as const;

  function queryFault(name: string, retryable: boolean): Error {
    return awsError(name, 'no', retryable && name === 'InternalServerError' ? 'server' : 'client', 400);
  }

  it.each(QUERY_FAULTS)(
    'Query (flapping count of drift that widens nothing) fails with %s: thrown before any write (retryable %s)',
    async (name, retryable) => {
      // Prepare
      const { deps } = ledgerHarness();
      kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: narrowedPolicyText() });
      documentMock.on(QueryCommand).rejects(queryFault(name, retryable));
      // Act
      const error = await checkKey(deps, REQUEST).catch((caught: unknown) => caught);
      // Assess
      expect(error).toBeInstanceOf(StateStoreError);
      expect((error as StateStoreError).retryable).toBe(retryable);
      expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
      expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
    },
  );

  // Since issue 13.8 widening drift, which is restored whatever the count says, counts its re-applies after
  // the write: the failed count no longer keeps the key widened, and the held finding still tells someone.
  it.each(QUERY_FAULTS)(
    'Query (re-apply count of a restore that widened access) fails with %s: the key is restored, the finding held, the invocation fails (retryable %s)',
    async (name, retryable) => {
      // Prepare
      const { deps } = ledgerHarness();
      kmsRestoresDesiredAfter(driftedPolicyText());
      documentMock.on(PutCommand).resolves({});
      documentMock.on(QueryCommand).rejects(queryFault(name, retryable));
      // Act
      const error = await checkKey(deps, REQUEST).catch((caught: unknown) => caught);
      // Assess
      expect(error).toBeInstanceOf(StateStoreError);
      expect((error as StateStoreError).retryable).toBe(retryable);
      expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(1);
      expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
      const held = await deps.outbox.pending({
        partition: 'aws',
        region: 'us-west-2',
        accountId: '111122223333',
      });
      expect(held.map((finding) => [finding.kind, finding.title])).toEqual([
        ['remediated', expect.stringContaining('(not yet confirmed)')],
      ]);
    },
  );

  it('PutItem (recording the overwritten document) fails before the write: nothing is written or published, the invocation fails', async () => {
    // Prepare
    const { deps } = ledgerHarness();
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });
    kmsMock.on(DescribeKeyCommand).resolves(describeKeyResponse());
    kmsMock.on(PutKeyPolicyCommand).resolves({});
    documentMock.on(QueryCommand).resolves({ Count: 0 });
    documentMock.on(PutCommand).rejects(awsError('ProvisionedThroughputExceededException', 'slow down'));
    // Act
    const error: unknown = await checkKey(deps, REQUEST).catch((caught: unknown) => caught);
    // Assess: write-ahead — no overwritten document may go unrecorded, so the key is not written; the
    // event is retried (throughput is retryable) and the key is restored once the ledger takes the entry.
    expect(error).toBeInstanceOf(StateStoreError);
    expect((error as StateStoreError).retryable).toBe(true);
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });
});

/**
 * DynamoDB faults of the sticky-bindings store (src/aws/dynamo-bindings.ts), part of the fault matrix
 * (aws-faults.test.ts): every call (GetItem, PutItem, DeleteItem, Query) x fault, through the REAL DynamoDB client
 * with the production retry configuration (AWS_RETRY_CONFIG) over a scripted HTTP handler, so the SDK's own retry
 * middleware runs and each attempt is counted; then what the user sees, through checkKey (and auditKeys for the
 * Query that lists an account's bindings). KMS and SNS are mocked as in the other fault tests.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { AWS_RETRY_CONFIG } from '../../../src/aws/client-settings';
import { bindingsPartitionKey, DynamoBindingStore } from '../../../src/aws/dynamo-bindings';
import { StateStoreError } from '../../../src/aws/state-table';
import { auditKeys } from '../../../src/guard/audit-keys';
import { documentHash } from '../../../src/guard/bindings';
import { type CheckKeyRequest, checkKey } from '../../../src/guard/check-key';
import {
  desiredPolicyAsKmsReturnsIt,
  desiredPolicyText,
  fixtureManifest,
  GetKeyPolicyCommand,
  KEY_ARN,
  kmsMock,
  ListAliasesCommand,
  makeHarness,
  OTHER_KEY_ARN,
  OTHER_KEY_ID,
  PutKeyPolicyCommand,
  publishedFindings,
  resetMocks,
} from '../guard/harness';
import { withCrossAccountDecrypt } from '../support/drift';
import { CREDENTIALS, routedHandler, settle, type WireAnswer } from './sdk-wire';

const TABLE = 'kms-guard-state';

type BindingCall = 'GetItem' | 'PutItem' | 'DeleteItem' | 'Query';

type DynamoFault =
  | 'AccessDeniedException'
  | 'ResourceNotFoundException'
  | 'ProvisionedThroughputExceededException'
  | 'ThrottlingException'
  | 'InternalServerError (500)'
  | 'ECONNRESET';

const FAULTS: readonly DynamoFault[] = [
  'AccessDeniedException',
  'ResourceNotFoundException',
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'InternalServerError (500)',
  'ECONNRESET',
];

const TRANSIENT: ReadonlySet<DynamoFault> = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'InternalServerError (500)',
  'ECONNRESET',
]);

function wireFault(fault: DynamoFault): WireAnswer {
  if (fault === 'ECONNRESET') return { network: 'ECONNRESET' };
  if (fault === 'InternalServerError (500)')
    return { status: 500, body: { __type: 'InternalServerError', message: 'internal' } };
  return { status: 400, body: { __type: `com.amazonaws.dynamodb.v20120810#${fault}`, message: 'no' } };
}

/** The reports entry (alias/reports) drifted on OTHER_KEY: a cross-account principal may decrypt. */
const REPORTS_DRIFTED = withCrossAccountDecrypt(desiredPolicyText('reports', OTHER_KEY_ARN));

/** A binding recorded for KEY_ARN to an entry Git has since removed: the check deletes it. */
const RELEASED_ITEM = {
  pk: { S: bindingsPartitionKey({ accountId: '111122223333', region: 'us-west-2' }) },
  sk: { S: KEY_ARN },
  kind: { S: 'binding' },
  entry: { S: 'retired-entry' },
  matcherKind: { S: 'alias' },
  matcherValue: { S: 'alias/retired' },
  documentHash: { S: documentHash('{}') },
  boundAt: { S: '2026-01-01T00:00:00.000Z' },
};

interface BindingRoute {
  /** The key the check is about (the audit checks every key of the account). */
  request: CheckKeyRequest;
  /** GetItem's answer on the way (no item: the key has no binding yet). */
  recorded?: Record<string, unknown>;
  arrangeKms(): void;
}

const EVENT = { trigger: 'event', eventId: 'c217db1f-903f-4a2f-8f88-9580182d6313' } as const;

const ROUTES: Record<BindingCall, BindingRoute> = {
  // Every check reads the key's binding, right after the manifest walk (here: payments-data by key ID).
  GetItem: {
    request: { ...EVENT, keyRef: KEY_ARN },
    arrangeKms: () => kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() }),
  },
  // The first check of a key an alias entry selects records its binding (reports by alias/reports), here
  // with its policy widened: whether a failed record still lets the drift be reported.
  PutItem: {
    request: { ...EVENT, keyRef: OTHER_KEY_ARN },
    arrangeKms: () => {
      kmsMock
        .on(ListAliasesCommand)
        .resolves({ Aliases: [{ AliasName: 'alias/reports', TargetKeyId: OTHER_KEY_ID }] });
      kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: REPORTS_DRIFTED });
    },
  },
  // A binding whose entry Git removed is deleted by the next check of its key.
  DeleteItem: {
    request: { ...EVENT, keyRef: KEY_ARN },
    recorded: RELEASED_ITEM,
    arrangeKms: () => kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() }),
  },
  // The audit lists every binding of its account and Region (one paginated Query) before checking keys.
  Query: {
    request: { ...EVENT, keyRef: KEY_ARN },
    arrangeKms: () => {
      kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
      kmsMock.on(ListKeysCommand).resolves({ Keys: [{ KeyId: OTHER_KEY_ID }] });
      kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });
    },
  },
};

function dynamoWire(route: BindingRoute, failing: BindingCall, fault: DynamoFault) {
  return routedHandler('application/x-amz-json-1.0', (operation): WireAnswer => {
    if (operation === failing) return wireFault(fault);
    if (operation === 'GetItem') return { status: 200, body: route.recorded ? { Item: route.recorded } : {} };
    if (operation === 'Query') return { status: 200, body: { Items: [], Count: 0 } };
    return { status: 200, body: {} };
  });
}

interface Row {
  call: BindingCall;
  fault: DynamoFault;
  attempts: number;
  /** A gap this matrix found, now a guarantee. */
  problem?: string;
}

const RECORD_BLOCKS_CHECK =
  'a binding that cannot be recorded (PutItem denied, or the table gone) does not stop the check: a widened policy on an alias or tag key is still reported, and the next check records the binding';

const ROWS: Row[] = (['GetItem', 'PutItem', 'DeleteItem', 'Query'] as const).flatMap((call) =>
  FAULTS.map((fault): Row => {
    const row: Row = { call, fault, attempts: TRANSIENT.has(fault) ? 5 : 1 };
    if (call === 'PutItem' && !TRANSIENT.has(fault)) row.problem = RECORD_BLOCKS_CHECK;
    return row;
  }),
);

function words(row: Row): string {
  const attempts = `${row.attempts} attempt${row.attempts === 1 ? '' : 's'}`;
  const retryable = TRANSIENT.has(row.fault);
  if (row.problem) return `${attempts}, and the drift is still reported`;
  if (row.call === 'Query') return `${attempts}, then a critical audit-incomplete finding, no key checked`;
  return `${attempts}, then a thrown StateStoreError (retryable ${retryable}), nothing published or written`;
}

beforeEach(() => {
  resetMocks();
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
});

afterEach(() => {
  jest.useRealTimers();
});

async function runThrough(row: Row) {
  const route = ROUTES[row.call];
  route.arrangeKms();
  const wire = dynamoWire(route, row.call, row.fault);
  const client = new DynamoDBClient({
    ...AWS_RETRY_CONFIG,
    region: 'us-west-2',
    credentials: CREDENTIALS,
    requestHandler: wire,
  });
  const harness = makeHarness(fixtureManifest('alert'));
  const deps = { ...harness.deps, bindings: new DynamoBindingStore(TABLE, client) };
  const audit =
    row.call === 'Query'
      ? await settle(
          auditKeys(deps, {
            runId: 'audit-run-1',
            concurrency: 1,
            reportUnmanaged: false,
            location: { partition: 'aws', region: 'us-west-2', accountId: '111122223333' },
          }),
        )
      : undefined;
  const check = row.call === 'Query' ? undefined : await settle(checkKey(deps, route.request));
  client.destroy();
  return { wire, error: check?.error ?? audit?.error, report: audit?.value };
}

describe('DynamoDB bindings store faults (GetItem, PutItem, DeleteItem, Query) through the real retry middleware', () => {
  it.each(ROWS.filter((row) => !row.problem).map((row) => [row.call, row.fault, words(row), row] as const))(
    '%s fails with %s: %s',
    async (_call, _fault, _words, row) => {
      // Prepare + Act
      const { wire, error, report } = await runThrough(row);

      // Assess
      expect(wire.attempts(row.call)).toBe(row.attempts);
      expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
      if (row.call === 'Query') {
        expect(error).toBeUndefined();
        expect(report?.complete).toBe(false);
        expect(report?.keys).toEqual([]);
        expect(publishedFindings().map((finding) => [finding.kind, finding.severity])).toEqual([
          ['audit-incomplete', 'critical'],
          ['audit-summary', 'info'],
        ]);
        return;
      }
      expect(error).toBeInstanceOf(StateStoreError);
      expect((error as StateStoreError).operation).toBe(row.call);
      expect((error as StateStoreError).retryable).toBe(TRANSIENT.has(row.fault));
      expect(publishedFindings()).toEqual([]);
    },
  );

  // The problem named in RECORD_BLOCKS_CHECK, for the owner of src/guard/check-key.ts to fix.
  it.each(ROWS.filter((row) => row.problem).map((row) => [row.call, row.fault, words(row), row] as const))(
    '%s fails with %s: %s',
    async (_call, _fault, _words, row) => {
      // Prepare + Act
      const { wire, error } = await runThrough(row);

      // Assess
      expect(wire.attempts(row.call)).toBe(row.attempts);
      expect(error).toBeUndefined();
      expect(publishedFindings()).toContainEqual(
        expect.objectContaining({ kind: 'drift', severity: 'critical', keyArn: OTHER_KEY_ARN }),
      );
    },
  );

  it('covers every call of the bindings store with every fault, each row once', () => {
    expect(ROWS).toHaveLength(4 * FAULTS.length);
    expect(new Set(ROWS.map((row) => `${row.call}/${row.fault}`)).size).toBe(ROWS.length);
  });
});

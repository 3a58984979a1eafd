/**
 * The AWS fault matrix: every AWS call the guard makes x the faults it can meet, asserting what the user
 * ends up seeing. Table-driven over (operation, fault, outcome):
 *   - a finding: its kind, severity and action (published to SNS: email, Slack, subscribers), or
 *   - a thrown error: its class and retryable flag (the invocation fails; Lambda retries the event,
 *     then the DLQ keeps it; the CloudWatch alarms on errors and DLQ depth say so).
 * The KMS and SNS rows run checkKey over the REAL adapters with aws-sdk-client-mock; the last blocks run
 * the real SDK retry middleware over a scripted HTTP handler (./sdk-wire.ts) to count attempts, the final one
 * for every call one check makes since issue 12 (DescribeKey, ListGrants, RevokeGrant, the key-state calls).
 * Rows that were found as gaps name the guarantee they now hold (`problem`). The state table's
 * faults are in ledger-faults.test.ts (remediation ledger) and bindings-faults.test.ts (sticky bindings).
 */

import { DescribeRuleCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createKmsClient } from '../../../src/aws/clients';
import { KmsKeyPolicyStore } from '../../../src/aws/kms-store';
import { EventBridgeRuleHealth } from '../../../src/aws/rule-health';
import { createSnsClient, SnsFindingPublisher } from '../../../src/aws/sns-publisher';
import { SecureParameterError, SecureParameterReader } from '../../../src/aws/ssm-secret';
import type { Finding } from '../../../src/core/finding';
import type { GuardMode } from '../../../src/core/key';
import { CachingKeyStore } from '../../../src/guard/caching-store';
import { type CheckKeyRequest, checkKey } from '../../../src/guard/check-key';
import {
  AwsCallError,
  KmsAccessDeniedError,
  PolicyRejectedError,
  PublishFailedError,
  RetryableAwsError,
} from '../../../src/guard/errors';
import type { DesiredKeyState } from '../../../src/manifest/types';

import {
  awsCalls,
  awsError,
  DescribeKeyCommand,
  describeKeyResponse,
  desiredPolicyAsKmsReturnsIt,
  driftedPolicyText,
  fixtureManifest,
  GetKeyPolicyCommand,
  KEY_ARN,
  KEY_ID,
  kmsMock,
  ListAliasesCommand,
  ListResourceTagsCommand,
  makeHarness,
  OTHER_KEY_ARN,
  OTHER_KEY_ID,
  PublishCommand,
  PutKeyPolicyCommand,
  publishedFindings,
  resetMocks,
  snsMock,
  TOPIC_ARN,
} from '../guard/harness';
import {
  CREDENTIALS,
  type HttpAnswer,
  routedHandler,
  scriptedHandler,
  settle,
  type WireAnswer,
} from './sdk-wire';

const ACTOR = {
  arn: 'arn:aws:iam::111122223333:user/Alice',
  eventID: 'c217db1f-903f-4a2f-8f88-9580182d6313',
  eventName: 'PutKeyPolicy',
  isGuard: false,
};

type Fault =
  | 'ThrottlingException'
  | 'InternalFailure (500)'
  | 'ServiceUnavailable (503)'
  | 'ECONNRESET'
  | 'AccessDeniedException'
  | 'NotFoundException'
  | 'KMSInvalidStateException'
  | 'DisabledException'
  | 'LimitExceededException'
  | 'MalformedPolicyDocumentException';

/** The error the SDK throws for each fault, after its own retries (aws-sdk-client-mock skips them). */
function sdkFault(fault: Fault): Error {
  switch (fault) {
    case 'ThrottlingException':
      return awsError('ThrottlingException', 'Rate exceeded');
    case 'InternalFailure (500)':
      return awsError('KMSInternalException', 'We encountered an internal error.', 'server', 500);
    case 'ServiceUnavailable (503)':
      return awsError('ServiceUnavailable', 'Service unavailable', 'server', 503);
    case 'ECONNRESET':
      return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    case 'AccessDeniedException':
      return awsError('AccessDeniedException', 'User: guard is not authorized to perform this action');
    case 'NotFoundException':
      return awsError('NotFoundException', `Key '${KEY_ARN}' does not exist`);
    case 'KMSInvalidStateException':
      return awsError('KMSInvalidStateException', `${KEY_ARN} is pending deletion.`);
    case 'DisabledException':
      return awsError('DisabledException', `${KEY_ARN} is disabled.`);
    case 'LimitExceededException':
      return awsError('LimitExceededException', 'Policy document exceeds the maximum size');
    case 'MalformedPolicyDocumentException':
      return awsError('MalformedPolicyDocumentException', 'Policy contains invalid principals');
  }
}

type KmsOperationUnderTest =
  | 'GetKeyPolicy'
  | 'PutKeyPolicy'
  | 'DescribeKey'
  | 'ListAliases'
  | 'ListResourceTags';

interface Route {
  mode: GuardMode;
  request: CheckKeyRequest;
  /** Answers every call on the way to the operation under test; then that operation fails. */
  arrange(fault: Error): void;
}

/** How checkKey reaches each KMS operation. */
const ROUTES: Record<KmsOperationUnderTest, Route> = {
  GetKeyPolicy: {
    mode: 'alert',
    request: { keyRef: KEY_ARN, trigger: 'event', eventId: ACTOR.eventID, actor: ACTOR },
    arrange: (fault) => kmsMock.on(GetKeyPolicyCommand).rejects(fault),
  },
  DescribeKey: {
    mode: 'remediate',
    request: { keyRef: KEY_ARN, trigger: 'event', eventId: ACTOR.eventID, actor: ACTOR },
    arrange: (fault) => {
      kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });
      kmsMock.on(DescribeKeyCommand).rejects(fault);
    },
  },
  PutKeyPolicy: {
    mode: 'remediate',
    request: { keyRef: KEY_ARN, trigger: 'event', eventId: ACTOR.eventID, actor: ACTOR },
    arrange: (fault) => {
      kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });
      kmsMock.on(DescribeKeyCommand).resolves(describeKeyResponse());
      kmsMock.on(PutKeyPolicyCommand).rejects(fault);
    },
  },
  // A key not matched by ID: the manifest walk reaches the alias entry (reports) and lists aliases.
  ListAliases: {
    mode: 'alert',
    request: { keyRef: OTHER_KEY_ARN, trigger: 'event', eventId: ACTOR.eventID, actor: ACTOR },
    arrange: (fault) => kmsMock.on(ListAliasesCommand).rejects(fault),
  },
  // ... and then the tag entry (app-logs), which lists the key's tags.
  ListResourceTags: {
    mode: 'alert',
    request: { keyRef: OTHER_KEY_ARN, trigger: 'event', eventId: ACTOR.eventID, actor: ACTOR },
    arrange: (fault) => {
      kmsMock
        .on(ListAliasesCommand)
        .resolves({ Aliases: [{ AliasName: 'alias/other', TargetKeyId: OTHER_KEY_ID }] });
      kmsMock.on(ListResourceTagsCommand).rejects(fault);
    },
  },
};

type Outcome =
  | { finding: { kind: string; severity: string; action: string } }
  | { thrown: new (...args: never[]) => Error; retryable: boolean };

const RETRIED: Outcome = { thrown: RetryableAwsError, retryable: true };
const LOCKED_OUT: Outcome = { finding: { kind: 'guard-locked-out', severity: 'critical', action: 'failed' } };
const UNAVAILABLE: Outcome = { finding: { kind: 'key-unavailable', severity: 'medium', action: 'none' } };
const RESTORE_FAILED: Outcome = {
  finding: { kind: 'remediation-failed', severity: 'critical', action: 'failed' },
};

const TRANSIENT: Fault[] = [
  'ThrottlingException',
  'InternalFailure (500)',
  'ServiceUnavailable (503)',
  'ECONNRESET',
];

const KMS_MATRIX: [KmsOperationUnderTest, Fault, Outcome][] = [
  ...(['GetKeyPolicy', 'PutKeyPolicy', 'DescribeKey', 'ListAliases', 'ListResourceTags'] as const).flatMap(
    (operation) =>
      TRANSIENT.map((fault): [KmsOperationUnderTest, Fault, Outcome] => [operation, fault, RETRIED]),
  ),
  ['GetKeyPolicy', 'AccessDeniedException', LOCKED_OUT],
  ['PutKeyPolicy', 'AccessDeniedException', LOCKED_OUT],
  ['DescribeKey', 'AccessDeniedException', LOCKED_OUT],
  ['ListAliases', 'AccessDeniedException', LOCKED_OUT],
  ['ListResourceTags', 'AccessDeniedException', LOCKED_OUT],
  ['GetKeyPolicy', 'NotFoundException', UNAVAILABLE],
  ['GetKeyPolicy', 'KMSInvalidStateException', UNAVAILABLE],
  ['GetKeyPolicy', 'DisabledException', UNAVAILABLE],
  ['DescribeKey', 'NotFoundException', UNAVAILABLE],
  ['DescribeKey', 'KMSInvalidStateException', UNAVAILABLE],
  ['PutKeyPolicy', 'NotFoundException', UNAVAILABLE],
  ['PutKeyPolicy', 'KMSInvalidStateException', UNAVAILABLE],
  ['ListResourceTags', 'NotFoundException', UNAVAILABLE],
  ['PutKeyPolicy', 'LimitExceededException', RESTORE_FAILED],
  ['PutKeyPolicy', 'MalformedPolicyDocumentException', RESTORE_FAILED],
];

beforeEach(() => {
  resetMocks();
});

describe('KMS faults: what the user sees (checkKey over the real KMS and SNS adapters)', () => {
  it.each(KMS_MATRIX)('%s fails with %s', async (operation, fault, expected) => {
    // Prepare
    const route = ROUTES[operation];
    const { deps, logger } = makeHarness(fixtureManifest(route.mode));
    route.arrange(sdkFault(fault));

    // Act
    const result = await checkKey(deps, route.request).then(
      (outcome) => ({ outcome }),
      (error: unknown) => ({ error }),
    );

    // Assess
    const calledOperations = Object.keys(awsCalls());
    expect(calledOperations).toContain(operation);
    if ('finding' in expected) {
      expect('error' in result ? result.error : undefined).toBeUndefined();
      const findings = publishedFindings();
      expect(findings).toHaveLength(1);
      expect(findings[0]).toMatchObject(expected.finding);
      if (expected.finding.kind === 'guard-locked-out' && operation !== 'PutKeyPolicy') {
        expect(findings[0]?.title).toContain(`(${operation} denied)`);
      }
    } else {
      const error = 'error' in result ? result.error : undefined;
      expect(error).toBeInstanceOf(expected.thrown);
      expect(Reflect.get(Object(error), 'retryable') === true).toBe(expected.retryable);
      expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
    }
    // Nothing is ever written after a fault before the write itself.
    if (operation !== 'PutKeyPolicy') expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
    expect(
      logger.lines.some((line) => line.level === 'error' && line.message === 'finding_publish_failed'),
    ).toBe(false);
  });

  it.each([
    ['ThrottlingException', RetryableAwsError],
    ['AccessDeniedException', KmsAccessDeniedError],
  ] as const)('ListKeys (the audit’s key list) fails with %s as %p', async (name, errorClass) => {
    // Prepare
    kmsMock.on(ListKeysCommand).rejects(awsError(name, 'no'));
    const { store } = makeHarness();
    // Act
    const error = await store.listKeyIds().catch((caught: unknown) => caught);
    // Assess
    expect(error).toBeInstanceOf(errorClass);
  });
});

describe('SNS Publish faults: the invocation fails, the finding is logged so it is not lost', () => {
  it.each([
    ['ThrottlingException', awsError('Throttling', 'Rate exceeded')],
    ['InternalFailure (500)', awsError('InternalFailure', 'internal', 'server', 500)],
    ['AuthorizationError (403)', awsError('AuthorizationErrorException', 'not authorized', 'client', 403)],
    ['NotFound (topic deleted)', awsError('NotFoundException', 'Topic does not exist', 'client', 404)],
    ['KMS key of the topic disabled', awsError('KMSDisabledException', 'key disabled', 'client', 400)],
    ['ECONNRESET', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
  ])('%s', async (_fault, sdkError) => {
    // Prepare
    const { deps, logger } = makeHarness(fixtureManifest('alert'));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });
    snsMock.on(PublishCommand).rejects(sdkError);
    // Act
    const error = await checkKey(deps, ROUTES.GetKeyPolicy.request).catch((caught: unknown) => caught);
    // Assess
    expect(error).toBeInstanceOf(PublishFailedError);
    const logged = logger.lines.find((line) => line.message === 'finding_publish_failed');
    expect(logged?.level).toBe('error');
    expect(logged?.attributes.finding).toMatchObject({ kind: 'drift', livePolicy: driftedPolicyText() });
  });
});

describe('EventBridge DescribeRule and SSM GetParameter faults', () => {
  const eventBridgeMock = mockClient(EventBridgeClient);
  const ssmMock = mockClient(SSMClient);

  afterAll(() => {
    eventBridgeMock.restore();
    ssmMock.restore();
  });

  it.each([
    ['ThrottlingException', { thrown: RetryableAwsError }],
    ['InternalException (500)', { thrown: RetryableAwsError }],
    ['AccessDeniedException', { thrown: AwsCallError }],
    ['ResourceNotFoundException', { state: 'missing' }],
  ] as const)('DescribeRule fails with %s', async (fault, expected) => {
    // Prepare
    eventBridgeMock.reset();
    const [name] = fault.split(' ');
    eventBridgeMock
      .on(DescribeRuleCommand)
      .rejects(
        awsError(
          name ?? fault,
          'no',
          fault.includes('500') ? 'server' : 'client',
          fault.includes('500') ? 500 : 400,
        ),
      );
    const probe = new EventBridgeRuleHealth(
      new EventBridgeClient({ region: 'us-west-2' }),
      'kms-policy-guard-drift',
    );
    // Act
    const result = await probe.driftRuleHealth().then(
      (health) => ({ health }),
      (error: unknown) => ({ error }),
    );
    // Assess
    if ('state' in expected)
      expect(result).toEqual({ health: { ruleName: 'kms-policy-guard-drift', state: 'missing' } });
    else expect('error' in result ? result.error : undefined).toBeInstanceOf(expected.thrown);
  });

  it.each(['ThrottlingException', 'AccessDeniedException', 'ParameterNotFound', 'InternalServerError'])(
    'GetParameter (Slack webhook URL) fails with %s: a SecureParameterError naming only the parameter',
    async (name) => {
      // Prepare
      ssmMock.reset();
      ssmMock.on(GetParameterCommand).rejects(awsError(name, 'https://hooks.slack.com/services/T/B/secret'));
      const reader = new SecureParameterReader({
        client: new SSMClient({ region: 'us-west-2' }),
        parameterName: '/kms-guard/slack',
      });
      // Act
      const error = await reader.get().catch((caught: unknown) => caught);
      // Assess
      expect(error).toBeInstanceOf(SecureParameterError);
      expect(String((error as Error).message)).toBe('could not read SSM parameter /kms-guard/slack');
      expect(JSON.stringify(error)).not.toContain('secret');
    },
  );
});

// ---------------------------------------------------------------------------------------------------------
// The real SDK clients (src/aws/clients.ts configuration, retry middleware included) over scripted HTTP.

describe('retries with backoff by the real SDK clients, then the outcome the user sees', () => {
  beforeEach(() => {
    kmsMock.restore();
    snsMock.restore();
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  afterAll(() => {
    resetMocks();
  });

  function kmsStore(answers: HttpAnswer[]) {
    const handler = scriptedHandler(answers, 'application/x-amz-json-1.1');
    const client = createKmsClient({
      region: 'us-west-2',
      credentials: CREDENTIALS,
      requestHandler: handler,
    });
    return { handler, store: new KmsKeyPolicyStore(client) };
  }

  it.each([
    ['throttling', { status: 400, body: { __type: 'ThrottlingException', message: 'Rate exceeded' } }],
    ['a 500', { status: 500, body: { __type: 'KMSInternalException', message: 'internal' } }],
    ['a 503', { status: 503, body: { __type: 'ServiceUnavailable', message: 'unavailable' } }],
  ])(
    'GetKeyPolicy answered with %s: 5 attempts with backoff, then a retryable error',
    async (_fault, answer) => {
      // Prepare
      const { handler, store } = kmsStore([answer]);
      // Act
      const { error, slept } = await settle(store.getKeyPolicy(KEY_ID));
      // Assess
      expect(error).toBeInstanceOf(RetryableAwsError);
      expect(handler.requests).toHaveLength(5);
      expect(slept).toBeGreaterThan(0);
    },
  );

  it.each([
    ['AccessDeniedException', KmsAccessDeniedError],
    ['NotFoundException', Error],
    ['KMSInvalidStateException', Error],
  ])('GetKeyPolicy answered with %s: one attempt, no retry', async (type, errorClass) => {
    const { handler, store } = kmsStore([{ status: 400, body: { __type: type, message: 'no' } }]);
    const { error } = await settle(store.getKeyPolicy(KEY_ID));
    expect(error).toBeInstanceOf(errorClass);
    expect(handler.requests).toEqual(['TrentService.GetKeyPolicy']);
  });

  it('PutKeyPolicy answered with LimitExceededException: a remediation-failed finding, not an endless retry', async () => {
    // Prepare: reads succeed, the write is refused as too large
    const handler = {
      requests: [] as string[],
      handle: async (request: { headers: Record<string, string> }) => {
        const target = request.headers['x-amz-target'] ?? '';
        handler.requests.push(target);
        const answer: HttpAnswer = target.endsWith('GetKeyPolicy')
          ? { status: 200, body: { Policy: driftedPolicyText() } }
          : target.endsWith('DescribeKey')
            ? { status: 200, body: describeKeyResponse() }
            : target.endsWith('ListGrants')
              ? { status: 200, body: { Grants: [] } }
              : { status: 400, body: { __type: 'LimitExceededException', message: 'policy too large' } };
        return scriptedHandler([answer], 'application/x-amz-json-1.1').handle(request);
      },
    };
    const client = createKmsClient({
      region: 'us-west-2',
      credentials: CREDENTIALS,
      requestHandler: handler,
    });
    const harness = makeHarness(fixtureManifest('remediate'));
    const published: string[] = [];
    const deps = {
      ...harness.deps,
      store: new CachingKeyStore(new KmsKeyPolicyStore(client), harness.clock),
      publisher: {
        publish: async (finding: { kind: string; severity: string; action: string }) => {
          published.push(`${finding.kind}/${finding.severity}/${finding.action}`);
        },
      },
    };
    // Act
    const { value: outcome, error } = await settle(checkKey(deps, ROUTES.PutKeyPolicy.request));
    // Assess
    expect(error).toBeUndefined();
    expect(outcome?.finding?.details.join('\n')).toMatch(
      /KMS refused the desired policy \(LimitExceededException\)/,
    );
    expect(published).toEqual(['remediation-failed/critical/failed']);
    // The SDK's retry middleware classes LimitExceededException as throttling; the KMS client stops at
    // the first answer, and the guard reports instead of throwing, so Lambda does not retry the event.
    const writes = handler.requests.filter((target) => target.endsWith('PutKeyPolicy'));
    expect(writes).toHaveLength(1);
  });

  it('SNS Publish answered with 500s: 5 attempts, then PublishFailedError', async () => {
    // Prepare
    const handler = scriptedHandler([{ status: 500, body: {} }], 'text/xml');
    const client = createSnsClient({
      region: 'us-west-2',
      credentials: CREDENTIALS,
      requestHandler: handler,
    });
    const harness = makeHarness(fixtureManifest('alert'));
    const publisher = new SnsFindingPublisher(client, TOPIC_ARN, harness.logger);
    // Act
    const { error } = await settle(
      publisher.publish({
        id: 'e:k:drift',
        kind: 'drift',
        severity: 'high',
        title: 'drift',
        keyArn: KEY_ARN,
        keyId: KEY_ID,
        aliases: [],
        region: 'us-west-2',
        account: '111122223333',
        mode: 'alert',
        action: 'alerted',
        trigger: 'event',
        details: [],
        time: '2026-03-02T10:00:00.000Z',
      }),
    );
    // Assess
    expect(error).toBeInstanceOf(PublishFailedError);
    expect(handler.requests).toHaveLength(5);
  });
});

describe('PolicyRejectedError is what a LimitExceededException on PutKeyPolicy becomes', () => {
  it('is not retryable', () => {
    const error = new PolicyRejectedError(KEY_ID, 'too large', 'LimitExceededException');
    expect(Reflect.get(error, 'retryable')).toBeUndefined();
  });
});

// ---------------------------------------------------------------------------------------------------------
// The calls checkKey makes since issue 12 (DescribeKey first, key state, grants), each failing with each fault
// through the REAL KMS client and its retry middleware, under checkKey: the attempts KMS saw and what the user
// sees. Rows marked "problem" name a gap this matrix found, now a guarantee.

type CheckCall =
  | 'DescribeKey'
  | 'ListGrants'
  | 'RevokeGrant'
  | 'CancelKeyDeletion'
  | 'EnableKey'
  | 'DisableKey'
  | 'GetKeyRotationStatus'
  | 'EnableKeyRotation'
  | 'DisableKeyRotation';

type WireFault =
  | 'AccessDeniedException'
  | 'NotFoundException'
  | 'KMSInvalidStateException'
  | 'ThrottlingException'
  | 'KMSInternalException (500)'
  | 'ECONNRESET';

const WIRE_FAULTS: readonly WireFault[] = [
  'AccessDeniedException',
  'NotFoundException',
  'KMSInvalidStateException',
  'ThrottlingException',
  'KMSInternalException (500)',
  'ECONNRESET',
];

function wireFault(fault: WireFault): WireAnswer {
  switch (fault) {
    case 'AccessDeniedException':
      return {
        status: 400,
        body: { __type: fault, message: 'User: guard is not authorized to perform this' },
      };
    case 'NotFoundException':
      return { status: 400, body: { __type: fault, message: 'not found' } };
    case 'KMSInvalidStateException':
      return { status: 409, body: { __type: fault, message: `${KEY_ARN} is pending import.` } };
    case 'ThrottlingException':
      return { status: 400, body: { __type: fault, message: 'Rate exceeded' } };
    case 'KMSInternalException (500)':
      return { status: 500, body: { __type: 'KMSInternalException', message: 'internal' } };
    case 'ECONNRESET':
      return { network: 'ECONNRESET' };
  }
}

/** A grant to another account's role, with Decrypt: never allowed by the fixture entry (critical). */
const FOREIGN_GRANT = {
  GrantId: 'f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f',
  KeyId: KEY_ARN,
  GranteePrincipal: 'arn:aws:iam::999988887777:role/analytics',
  IssuingAccount: 'arn:aws:iam::111122223333:root',
  Operations: ['Decrypt', 'GenerateDataKey'],
};

/** What KMS holds for the key, and what the payments-data entry asks of it, on the way to the call under test. */
interface CallRoute {
  mode: GuardMode;
  state?: Partial<DesiredKeyState>;
  metadata?: Record<string, unknown>;
  policy?: string;
  grants?: Record<string, unknown>[];
  rotation?: boolean;
  /** The key-state problem the route sets up (its severity), for the calls that restore it. */
  stateSeverity?: 'critical' | 'high' | 'medium';
}

const CALL_ROUTES: Record<CheckCall, CallRoute> = {
  DescribeKey: { mode: 'alert' },
  ListGrants: { mode: 'alert' },
  RevokeGrant: { mode: 'remediate', grants: [FOREIGN_GRANT] },
  CancelKeyDeletion: {
    mode: 'remediate',
    metadata: { KeyState: 'PendingDeletion', Enabled: false, DeletionDate: 1773050400 },
    stateSeverity: 'critical',
  },
  EnableKey: { mode: 'remediate', metadata: { KeyState: 'Disabled', Enabled: false }, stateSeverity: 'high' },
  DisableKey: { mode: 'remediate', state: { enabled: false }, stateSeverity: 'high' },
  // Drifted policy: whether a failed rotation read still lets the policy be judged.
  GetKeyRotationStatus: {
    mode: 'alert',
    state: { rotation: true },
    rotation: true,
    policy: driftedPolicyText(),
  },
  EnableKeyRotation: { mode: 'remediate', state: { rotation: true }, rotation: false, stateSeverity: 'high' },
  DisableKeyRotation: {
    mode: 'remediate',
    state: { rotation: false },
    rotation: true,
    stateSeverity: 'medium',
  },
};

/** KMS answering every call of a healthy key as the route says, except `failing`, which meets `fault`. */
function kmsWire(route: CallRoute, failing: CheckCall, fault: WireFault) {
  return routedHandler('application/x-amz-json-1.1', (operation): WireAnswer => {
    if (operation === failing) return wireFault(fault);
    switch (operation) {
      case 'DescribeKey':
        return { status: 200, body: describeKeyResponse(route.metadata) };
      case 'GetKeyPolicy':
        return { status: 200, body: { Policy: route.policy ?? desiredPolicyAsKmsReturnsIt() } };
      case 'ListGrants':
        return { status: 200, body: { Grants: route.grants ?? [], Truncated: false } };
      case 'GetKeyRotationStatus':
        return { status: 200, body: { KeyRotationEnabled: route.rotation === true } };
      case 'CancelKeyDeletion':
        return { status: 200, body: { KeyId: KEY_ARN } };
      default:
        return { status: 200, body: {} };
    }
  });
}

const TRANSIENT_WIRE: ReadonlySet<WireFault> = new Set([
  'ThrottlingException',
  'KMSInternalException (500)',
  'ECONNRESET',
]);

type Seen = [kind: string, severity: string, action: string];

type Expected =
  | { thrown: typeof RetryableAwsError }
  | { findings: Seen[]; titleNames?: string }
  /** What a demanding user expects, found missing by this matrix and now held. */
  | { demanded: Partial<Finding>[]; absent?: string[]; problem: string };

interface CallRow {
  call: CheckCall;
  fault: WireFault;
  attempts: number;
  expected: Expected;
}

const KEY_STATE_LOST =
  'a failed restore of the key state still publishes key-state-changed (action failed) with what is wrong with the key, at its own severity (a scheduled deletion stays critical)';
const GRANT_LOST =
  'a failed RevokeGrant still publishes grant-not-allowed (action failed): which grant, to whom, for what';
const GRANT_GONE =
  'NotFoundException on RevokeGrant means the grant was retired or revoked meanwhile (the key was just listed): grant-not-allowed says so, never key-unavailable';
const POLICY_HIDDEN =
  'a denied or refused GetKeyRotationStatus is reported with the key state, and the key policy is still checked: widening drift is reported';

function expectedFor(call: CheckCall, fault: WireFault): Expected {
  if (TRANSIENT_WIRE.has(fault)) return { thrown: RetryableAwsError };
  const route = CALL_ROUTES[call];
  const finalFault = fault === 'AccessDeniedException' || fault === 'KMSInvalidStateException';
  if (route.stateSeverity && finalFault) {
    return {
      demanded: [{ kind: 'key-state-changed', severity: route.stateSeverity }],
      problem: KEY_STATE_LOST,
    };
  }
  if (call === 'RevokeGrant' && fault === 'NotFoundException') {
    return {
      demanded: [{ kind: 'grant-not-allowed', severity: 'critical' }],
      absent: ['key-unavailable'],
      problem: GRANT_GONE,
    };
  }
  if (call === 'RevokeGrant' && finalFault) {
    return { demanded: [{ kind: 'grant-not-allowed', severity: 'critical' }], problem: GRANT_LOST };
  }
  if (call === 'GetKeyRotationStatus' && finalFault) {
    return { demanded: [{ kind: 'drift', severity: 'critical' }], problem: POLICY_HIDDEN };
  }
  if (fault === 'AccessDeniedException') {
    return { findings: [['guard-locked-out', 'critical', 'failed']], titleNames: `(${call} denied)` };
  }
  const reason = fault === 'NotFoundException' ? 'not-found' : 'invalid-state';
  return { findings: [['key-unavailable', 'medium', 'none']], titleNames: `(${reason})` };
}

const CALL_ROWS: CallRow[] = (Object.keys(CALL_ROUTES) as CheckCall[]).flatMap((call) =>
  WIRE_FAULTS.map((fault) => ({
    call,
    fault,
    attempts: TRANSIENT_WIRE.has(fault) ? 5 : 1,
    expected: expectedFor(call, fault),
  })),
);

function outcomeWords(row: CallRow): string {
  const attempts = `${row.attempts} attempt${row.attempts === 1 ? '' : 's'}`;
  const { expected } = row;
  if ('thrown' in expected) return `${attempts}, then a thrown RetryableAwsError (Lambda retries the event)`;
  if ('findings' in expected)
    return `${attempts}, then ${expected.findings.map(([kind, severity]) => `${severity} ${kind}`).join(', ')}`;
  return `${attempts}, and the user still sees ${expected.demanded.map((finding) => `${finding.severity} ${finding.kind}`).join(', ')}`;
}

const KMS_WRITES = [
  'PutKeyPolicy',
  'RevokeGrant',
  'CancelKeyDeletion',
  'EnableKey',
  'DisableKey',
  'EnableKeyRotation',
  'DisableKeyRotation',
];

describe('the calls of one check (DescribeKey, grants, key state) x faults, through the real KMS retry middleware', () => {
  beforeEach(() => {
    kmsMock.restore();
    snsMock.restore();
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  afterAll(() => {
    resetMocks();
  });

  async function checkThrough(row: CallRow) {
    const route = CALL_ROUTES[row.call];
    const wire = kmsWire(route, row.call, row.fault);
    const client = createKmsClient({ region: 'us-west-2', credentials: CREDENTIALS, requestHandler: wire });
    const manifest = fixtureManifest(route.mode);
    const harness = makeHarness({
      ...manifest,
      keys: manifest.keys.map((entry) =>
        entry.name === 'payments-data' ? { ...entry, state: { ...entry.state, ...route.state } } : entry,
      ),
    });
    const published: Finding[] = [];
    const deps = {
      ...harness.deps,
      store: new CachingKeyStore(new KmsKeyPolicyStore(client), harness.clock),
      publisher: { publish: async (finding: Finding) => void published.push(finding) },
    };
    const result = await settle(checkKey(deps, ROUTES.GetKeyPolicy.request));
    client.destroy();
    return { wire, published, result, ledger: harness.ledger };
  }

  function assessAttemptsAndWrites(row: CallRow, wire: ReturnType<typeof kmsWire>): void {
    expect(wire.attempts(row.call)).toBe(row.attempts);
    // Nothing is written after a fault but the write that failed (every route sets up one restore at most).
    const writes = wire.requests.filter((operation) => KMS_WRITES.includes(operation));
    expect(writes.filter((operation) => operation !== row.call)).toEqual([]);
  }

  const working = CALL_ROWS.filter((row) => !('demanded' in row.expected));
  const problems = CALL_ROWS.filter((row) => 'demanded' in row.expected);

  it.each(working.map((row) => [row.call, row.fault, outcomeWords(row), row] as const))(
    '%s answered with %s: %s',
    async (_call, _fault, _words, row) => {
      // Prepare + Act
      const { wire, published, result, ledger } = await checkThrough(row);

      // Assess
      assessAttemptsAndWrites(row, wire);
      const { expected } = row;
      if ('thrown' in expected) {
        expect(result.error).toBeInstanceOf(expected.thrown);
        expect(Reflect.get(Object(result.error), 'retryable')).toBe(true);
        expect(published).toEqual([]);
      } else if ('findings' in expected) {
        expect(result.error).toBeUndefined();
        expect(published.map((finding): Seen => [finding.kind, finding.severity, finding.action])).toEqual(
          expected.findings,
        );
        if (expected.titleNames) expect(published[0]?.title).toContain(expected.titleNames);
      }
      // RevokeGrant is write-ahead: the grant is in the ledger before KMS is asked, whatever KMS answers.
      if (row.call === 'RevokeGrant') {
        expect(
          ledger.entries().map((entry) => [entry.details.subject, JSON.parse(entry.overwritten)]),
        ).toEqual([['grant', expect.objectContaining({ grantId: FOREIGN_GRANT.GrantId })]]);
      }
    },
  );

  // Each of these was found by this matrix as a gap (see `problem` in expectedFor) and is now a guarantee.
  it.each(problems.map((row) => [row.call, row.fault, outcomeWords(row), row] as const))(
    '%s answered with %s: %s',
    async (_call, _fault, _words, row) => {
      // Prepare + Act
      const { wire, published, result } = await checkThrough(row);

      // Assess
      assessAttemptsAndWrites(row, wire);
      expect(result.error).toBeUndefined();
      const { expected } = row;
      if (!('demanded' in expected)) throw new Error('not a problem row');
      for (const finding of expected.demanded)
        expect(published).toContainEqual(expect.objectContaining(finding));
      for (const kind of expected.absent ?? [])
        expect(published.map((finding) => finding.kind)).not.toContain(kind);
    },
  );

  it('covers every call of the check with every fault, each row once', () => {
    expect(CALL_ROWS).toHaveLength(Object.keys(CALL_ROUTES).length * WIRE_FAULTS.length);
    expect(new Set(CALL_ROWS.map((row) => `${row.call}/${row.fault}`)).size).toBe(CALL_ROWS.length);
  });
});

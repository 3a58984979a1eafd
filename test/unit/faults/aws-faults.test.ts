/**
 * The AWS fault matrix: every AWS call the guard makes x the faults it can meet, asserting what the user
 * ends up seeing. Table-driven over (operation, fault, outcome):
 *   - a finding: its kind, severity and action (published to SNS: email, Slack, subscribers), or
 *   - a thrown error: its class and retryable flag (the invocation fails; Lambda retries the event,
 *     then the DLQ keeps it; the CloudWatch alarms on errors and DLQ depth say so).
 * The KMS and SNS rows run checkKey over the REAL adapters with aws-sdk-client-mock; the last block runs
 * the real SDK retry middleware over a scripted HTTP handler to count attempts.
 */

import { Readable } from 'node:stream';
import { DescribeRuleCommand, EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { ListKeysCommand } from '@aws-sdk/client-kms';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { createKmsClient, createSnsClient } from '../../../src/aws/clients';
import { KmsKeyPolicyStore } from '../../../src/aws/kms-store';
import { EventBridgeRuleHealth } from '../../../src/aws/rule-health';
import { SnsFindingPublisher } from '../../../src/aws/sns-publisher';
import { SecureParameterError, SecureParameterReader } from '../../../src/aws/ssm-secret';
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

import {
  awsCalls,
  awsError,
  DescribeKeyCommand,
  describeKeyResponse,
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

interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
}

function scriptedHandler(answers: HttpAnswer[], contentType: string) {
  const requests: string[] = [];
  return {
    requests,
    handle: async (request: { headers: Record<string, string>; body?: unknown }) => {
      requests.push(request.headers['x-amz-target'] ?? String(request.body ?? ''));
      const answer = answers[Math.min(requests.length - 1, answers.length - 1)] ?? { status: 500, body: {} };
      const errorType =
        typeof answer.body.__type === 'string' ? { 'x-amzn-errortype': answer.body.__type } : {};
      return {
        response: {
          statusCode: answer.status,
          reason: '',
          headers: { 'content-type': contentType, ...errorType },
          body: Readable.from([Buffer.from(JSON.stringify(answer.body))]),
        },
      };
    },
  };
}

const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

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

  /** Settles a promise while advancing the fake clock through the SDK's backoff sleeps. */
  async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown; slept: number }> {
    let done = false;
    let slept = 0;
    const settled = promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    void settled.then(() => {
      done = true;
    });
    for (let step = 0; step < 2_000 && !done; step += 1) {
      await jest.advanceTimersByTimeAsync(50);
      slept += 50;
    }
    return { ...(await settled), slept };
  }

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

/**
 * The KMS adapter: request shapes, pagination, and every SDK exception translated into the guard's
 * typed errors. The retry tests run the real SDK client (retry middleware included) against a fake
 * HTTP handler, so they prove the client configuration from src/aws/clients.ts, not a mock's.
 */
import { Readable } from 'node:stream';
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListAliasesCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
} from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { createKmsClient } from '../../../src/aws/clients';
import { KmsKeyPolicyStore } from '../../../src/aws/kms-store';
import {
  AwsCallError,
  KeyUnavailableError,
  KmsAccessDeniedError,
  PolicyRejectedError,
  RetryableAwsError,
} from '../../../src/guard/errors';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:us-west-2:111122223333:key/${KEY_ID}`;
const kmsMock = mockClient(KMSClient);

function awsError(name: string, fault: 'client' | 'server' = 'client', status = 400): Error {
  return Object.assign(new Error(`${name} message`), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
  });
}

function store(): KmsKeyPolicyStore {
  return new KmsKeyPolicyStore(new KMSClient({ region: 'us-west-2' }));
}

beforeEach(() => {
  kmsMock.reset();
});

describe('KmsKeyPolicyStore requests', () => {
  it('reads the default policy verbatim', async () => {
    // Prepare
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: '{ "Version" : "2012-10-17" }' });

    // Act
    const policy = await store().getKeyPolicy(KEY_ID);

    // Assess
    expect(policy).toBe('{ "Version" : "2012-10-17" }');
    expect(kmsMock.commandCalls(GetKeyPolicyCommand)[0]?.args[0].input).toEqual({
      KeyId: KEY_ID,
      PolicyName: 'default',
    });
  });

  it('writes with the lockout safety check left on', async () => {
    // Prepare
    kmsMock.on(PutKeyPolicyCommand).resolves({});

    // Act
    await store().putKeyPolicy(KEY_ID, '{"Statement":[]}');

    // Assess
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)[0]?.args[0].input).toEqual({
      KeyId: KEY_ID,
      PolicyName: 'default',
      Policy: '{"Statement":[]}',
      BypassPolicyLockoutSafetyCheck: false,
    });
  });

  it('describes a key with one DescribeKey call: state, manager and multi-Region type', async () => {
    // Prepare
    kmsMock.on(DescribeKeyCommand).resolves({
      KeyMetadata: {
        KeyId: KEY_ID,
        Arn: KEY_ARN,
        KeyState: 'Enabled',
        KeyManager: 'CUSTOMER',
        MultiRegion: true,
        MultiRegionConfiguration: { MultiRegionKeyType: 'PRIMARY' },
      },
    });

    // Act
    const description = await store().describeKey(KEY_ID);

    // Assess
    expect(description).toEqual({
      keyId: KEY_ID,
      arn: KEY_ARN,
      state: 'Enabled',
      manager: 'CUSTOMER',
      multiRegion: true,
      multiRegionType: 'PRIMARY',
    });
    expect(kmsMock.calls()).toHaveLength(1);
  });

  it('follows markers through every page of keys, aliases and tags', async () => {
    // Prepare
    kmsMock
      .on(ListKeysCommand)
      .resolvesOnce({ Keys: [{ KeyId: 'k1' }], Truncated: true, NextMarker: 'm1' })
      .resolvesOnce({ Keys: [{ KeyId: 'k2' }], Truncated: false });
    kmsMock
      .on(ListAliasesCommand)
      .resolvesOnce({
        Aliases: [{ AliasName: 'alias/a', TargetKeyId: 'k1' }],
        Truncated: true,
        NextMarker: 'a1',
      })
      .resolvesOnce({
        Aliases: [{ AliasName: 'alias/aws/s3' }, { AliasName: 'alias/b', TargetKeyId: 'k2' }],
      });
    kmsMock
      .on(ListResourceTagsCommand)
      .resolvesOnce({ Tags: [{ TagKey: 'a', TagValue: '1' }], Truncated: true, NextMarker: 't1' })
      .resolvesOnce({ Tags: [{ TagKey: 'b', TagValue: '2' }] });

    // Act
    const keys = await store().listKeyIds();
    const aliases = await store().listAliases();
    const tags = await store().listResourceTags('k1');

    // Assess
    expect(keys).toEqual(['k1', 'k2']);
    expect([...aliases.entries()]).toEqual([
      ['alias/a', 'k1'],
      ['alias/b', 'k2'],
    ]);
    expect(tags).toEqual({ a: '1', b: '2' });
    expect(kmsMock.commandCalls(ListKeysCommand)[1]?.args[0].input).toEqual({ Marker: 'm1' });
  });
});

describe('KmsKeyPolicyStore errors', () => {
  it.each([
    ['AccessDeniedException', KmsAccessDeniedError],
    ['NotFoundException', KeyUnavailableError],
    ['KMSInvalidStateException', KeyUnavailableError],
    ['DisabledException', KeyUnavailableError],
    ['MalformedPolicyDocumentException', PolicyRejectedError],
    ['ThrottlingException', RetryableAwsError],
    ['KMSInternalException', RetryableAwsError],
    ['DependencyTimeoutException', RetryableAwsError],
    ['ValidationException', AwsCallError],
  ])('turns %s into %p with the SDK error as cause', async (name, errorClass) => {
    // Prepare
    const sdkError = awsError(name);
    kmsMock.on(PutKeyPolicyCommand).rejects(sdkError);

    // Act
    const put = store().putKeyPolicy(KEY_ID, '{}');

    // Assess
    const error = await put.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(errorClass);
    expect((error as Error).cause).toBe(sdkError);
    expect((error as Error).message).toContain(`${name} message`);
  });

  it.each([
    ['a network reset', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['a 503 without a known name', awsError('SomethingNew', 'server', 503)],
    ['a timeout', Object.assign(new Error('timed out'), { name: 'TimeoutError' })],
  ])('treats %s as retryable', async (_situation, sdkError) => {
    // Prepare
    kmsMock.on(GetKeyPolicyCommand).rejects(sdkError);

    // Act
    const read = store().getKeyPolicy(KEY_ID);

    // Assess
    await expect(read).rejects.toBeInstanceOf(RetryableAwsError);
  });
});

interface FakeHttpAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** A request handler that answers from a script, so the real client (and its retries) runs without a network. */
function scriptedHandler(answers: FakeHttpAnswer[]) {
  const requests: string[] = [];
  return {
    requests,
    handle: async (request: { headers: Record<string, string> }) => {
      requests.push(request.headers['x-amz-target'] ?? '');
      const answer = answers[Math.min(requests.length - 1, answers.length - 1)] ?? { status: 500, body: {} };
      const errorType =
        typeof answer.body.__type === 'string' ? { 'x-amzn-errortype': answer.body.__type } : {};
      return {
        response: {
          statusCode: answer.status,
          reason: '',
          headers: { 'content-type': 'application/x-amz-json-1.1', ...errorType },
          body: Readable.from([Buffer.from(JSON.stringify(answer.body))]),
        },
      };
    },
  };
}

const THROTTLED: FakeHttpAnswer = {
  status: 400,
  body: { __type: 'ThrottlingException', message: 'Rate exceeded' },
};

describe('createKmsClient retries (real SDK retry middleware, fake HTTP)', () => {
  beforeEach(() => {
    kmsMock.restore();
    // The SDK's backoff and its adaptive rate limiter wait on timers: fake ones keep the test fast
    // without changing what the retry logic decides.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  /** Settles a promise while advancing the fake clock (the SDK sleeps between attempts). */
  async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
    let done = false;
    const settled = promise.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    void settled.then(() => {
      done = true;
    });
    for (let step = 0; step < 1_000 && !done; step += 1) await jest.advanceTimersByTimeAsync(250);
    return settled;
  }

  afterAll(() => {
    kmsMock.restore();
  });

  function realStore(handler: ReturnType<typeof scriptedHandler>): KmsKeyPolicyStore {
    const client = createKmsClient({
      region: 'us-west-2',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      requestHandler: handler,
    });
    return new KmsKeyPolicyStore(client);
  }

  it('retries throttling and returns the policy once KMS answers', async () => {
    // Prepare
    const handler = scriptedHandler([
      THROTTLED,
      THROTTLED,
      { status: 200, body: { Policy: '{"Statement":[]}' } },
    ]);

    // Act
    const { value: policy } = await settle(realStore(handler).getKeyPolicy(KEY_ID));

    // Assess
    expect(policy).toBe('{"Statement":[]}');
    expect(handler.requests).toEqual([
      'TrentService.GetKeyPolicy',
      'TrentService.GetKeyPolicy',
      'TrentService.GetKeyPolicy',
    ]);
  });

  it('gives up after 5 attempts and throws a retryable error', async () => {
    // Prepare
    const handler = scriptedHandler([THROTTLED]);

    // Act
    const { error } = await settle(realStore(handler).getKeyPolicy(KEY_ID));

    // Assess
    expect(error).toBeInstanceOf(RetryableAwsError);
    expect((error as RetryableAwsError).awsErrorCode).toBe('ThrottlingException');
    expect(handler.requests).toHaveLength(5);
  });

  it('does not retry access denied', async () => {
    // Prepare
    const handler = scriptedHandler([
      { status: 400, body: { __type: 'AccessDeniedException', message: 'denied' } },
    ]);

    // Act
    const { error } = await settle(realStore(handler).getKeyPolicy(KEY_ID));

    // Assess
    expect(error).toBeInstanceOf(KmsAccessDeniedError);
    expect(handler.requests).toHaveLength(1);
  });
});

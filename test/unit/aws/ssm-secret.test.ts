import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { SecureParameterError, SecureParameterReader } from '../../../src/aws/ssm-secret';

const PARAMETER = '/kms-policy-guard/slack-webhook-url';
const SECRET = 'https://hooks.slack.com/services/T000/B000/SECRETSECRETSECRET';

describe('SecureParameterReader', () => {
  const ssm = mockClient(SSMClient);
  let nowMs = 1_000_000;
  const now = () => nowMs;

  beforeEach(() => {
    ssm.reset();
    nowMs = 1_000_000;
  });

  function reader(ttlMs = 5 * 60 * 1000): SecureParameterReader {
    return new SecureParameterReader({ client: new SSMClient({}), parameterName: PARAMETER, ttlMs, now });
  }

  it('reads the parameter with decryption', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: PARAMETER, Value: SECRET } });

    // Act
    const value = await reader().get();

    // Assess
    expect(value).toBe(SECRET);
    expect(ssm.commandCalls(GetParameterCommand)[0]?.args[0].input).toEqual({
      Name: PARAMETER,
      WithDecryption: true,
    });
  });

  it('calls GetParameter once for many invocations within the TTL, and again after it', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: SECRET } });
    const secret = reader(60_000);

    // Act
    for (let invocation = 0; invocation < 25; invocation += 1) {
      await secret.get();
      nowMs += 2_000;
    }
    const callsWithinTtl = ssm.commandCalls(GetParameterCommand).length;
    nowMs += 60_000;
    await secret.get();

    // Assess
    expect(callsWithinTtl).toBe(1);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it('shares one GetParameter between concurrent callers on a cold cache', async () => {
    // Prepare
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: SECRET } });
    const secret = reader();

    // Act
    const values = await Promise.all(Array.from({ length: 10 }, () => secret.get()));

    // Assess
    expect(new Set(values)).toEqual(new Set([SECRET]));
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
  });

  it('reads again after invalidate()', async () => {
    // Prepare
    ssm
      .on(GetParameterCommand)
      .resolvesOnce({ Parameter: { Value: SECRET } })
      .resolvesOnce({ Parameter: { Value: `${SECRET}-rotated` } });
    const secret = reader();
    await secret.get();

    // Act
    secret.invalidate();
    const value = await secret.get();

    // Assess
    expect(value).toBe(`${SECRET}-rotated`);
  });

  it.each([
    [
      'an SDK error',
      () =>
        ssm
          .on(GetParameterCommand)
          .rejects(Object.assign(new Error('ParameterNotFound'), { name: 'ParameterNotFound' })),
      /could not read SSM parameter/,
    ],
    [
      'no value',
      () => ssm.on(GetParameterCommand).resolves({ Parameter: { Name: PARAMETER } }),
      /has no value/,
    ],
    [
      'a blank value',
      () => ssm.on(GetParameterCommand).resolves({ Parameter: { Value: '  ' } }),
      /has no value/,
    ],
  ])('throws a SecureParameterError naming the parameter on %s', async (_name, arrange, message) => {
    // Prepare
    arrange();

    // Act
    const error: unknown = await reader()
      .get()
      .catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(SecureParameterError);
    expect(error).toMatchObject({ parameterName: PARAMETER, message: expect.stringMatching(message) });
  });

  it('does not cache a failure: the next call tries SSM again', async () => {
    // Prepare
    ssm
      .on(GetParameterCommand)
      .rejectsOnce(new Error('ThrottlingException'))
      .resolvesOnce({ Parameter: { Value: SECRET } });
    const secret = reader();
    await expect(secret.get()).rejects.toThrow(SecureParameterError);

    // Act
    const value = await secret.get();

    // Assess
    expect(value).toBe(SECRET);
  });

  it('never puts the value or an SDK message that might echo it into the error', async () => {
    // Prepare
    ssm.on(GetParameterCommand).rejects(new Error(`something went wrong with ${SECRET}`));

    // Act
    const error: unknown = await reader()
      .get()
      .catch((caught: unknown) => caught);

    // Assess
    const cause = error instanceof Error ? error.cause : undefined;
    const everything = JSON.stringify({
      message: error instanceof Error ? error.message : '',
      stack: error instanceof Error ? error.stack : '',
      cause: cause instanceof Error ? `${cause.message} ${cause.stack}` : String(cause),
    });
    expect(everything).not.toContain('hooks.slack.com');
    expect(everything).toContain(PARAMETER);
  });
});

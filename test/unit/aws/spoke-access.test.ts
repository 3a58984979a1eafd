/**
 * SpokeAccess over a mocked STS: one AssumeRole per account until five minutes before the credentials
 * expire, the external ID and the guard's session name on every call, the hub's own account never
 * assumed, refusals typed as SpokeAccessError (never cached) and throttling as RetryableAwsError.
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { clientsFor, SpokeAccess } from '../../../src/aws/spoke-access';
import { spokeRoleArn } from '../../../src/core/spoke-names';
import { RetryableAwsError, SpokeAccessError } from '../../../src/guard/errors';

const stsMock = mockClient(STSClient);
const HUB = '999988887777';
const MEMBER = '111122223333';
const T0 = Date.parse('2026-12-01T10:00:00Z');

function credentialsExpiringAt(ms: number) {
  return {
    Credentials: {
      AccessKeyId: 'ASIAEXAMPLE',
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(ms),
    },
  };
}

function access(now: { ms: number }, externalId?: string): SpokeAccess {
  return new SpokeAccess({
    sts: new STSClient({ region: 'us-east-1' }),
    partition: 'aws',
    roleName: 'kms-policy-guard-spoke',
    sessionName: 'kms-policy-guard-hub',
    ownAccountId: HUB,
    now: () => now.ms,
    ...(externalId ? { externalId } : {}),
  });
}

function stsError(name: string, status: number): Error {
  return Object.assign(new Error(`${name} (simulated)`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

beforeEach(() => {
  stsMock.reset();
});

describe('SpokeAccess', () => {
  it('assumes the spoke role once per account with the external ID and the guard session name, and reuses it until 5 minutes before expiry', async () => {
    // Prepare
    const now = { ms: T0 };
    stsMock.on(AssumeRoleCommand).resolves(credentialsExpiringAt(T0 + 3600_000));
    const spokes = access(now, 'kms-policy-guard-7f3a9c');
    const provider = spokes.credentials(MEMBER);

    // Act
    const first = await provider?.();
    await spokes.ensure(MEMBER);
    now.ms = T0 + 54 * 60_000;
    await provider?.();
    const callsBeforeRenewal = stsMock.commandCalls(AssumeRoleCommand).length;
    now.ms = T0 + 56 * 60_000;
    await provider?.();

    // Assess
    expect(first).toMatchObject({ accessKeyId: 'ASIAEXAMPLE', sessionToken: 'token' });
    expect(callsBeforeRenewal).toBe(1);
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(2);
    expect(stsMock.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toEqual({
      RoleArn: 'arn:aws:iam::111122223333:role/kms-policy-guard-spoke',
      RoleSessionName: 'kms-policy-guard-hub',
      DurationSeconds: 3600,
      ExternalId: 'kms-policy-guard-7f3a9c',
    });
  });

  it("uses the function's own credentials in the hub's account: no AssumeRole, no principal of its own", async () => {
    // Prepare
    const spokes = access({ ms: T0 });

    // Act
    await spokes.ensure(HUB);

    // Assess
    expect(spokes.credentials(HUB)).toBeUndefined();
    expect(spokes.principalFor(HUB)).toBeUndefined();
    expect(spokes.principalFor(MEMBER)).toBe(spokeRoleArn('aws', MEMBER, 'kms-policy-guard-spoke'));
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('shares one AssumeRole between concurrent first uses of an account', async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolves(credentialsExpiringAt(T0 + 3600_000));
    const spokes = access({ ms: T0 });

    // Act
    await Promise.all([spokes.ensure(MEMBER), spokes.ensure(MEMBER), spokes.credentials(MEMBER)?.()]);

    // Assess
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(1);
  });

  it.each([
    ['AccessDenied', 403, 'denied'],
    ['RegionDisabledException', 403, 'region-disabled'],
  ])('types %s as a SpokeAccessError (%s) and asks STS again next time', async (name, status, reason) => {
    // Prepare
    stsMock
      .on(AssumeRoleCommand)
      .rejectsOnce(stsError(name, status))
      .resolves(credentialsExpiringAt(T0 + 3600_000));
    const spokes = access({ ms: T0 });

    // Act
    const failure = await spokes.ensure(MEMBER).catch((error: unknown) => error);
    await spokes.ensure(MEMBER);

    // Assess
    expect(failure).toBeInstanceOf(SpokeAccessError);
    expect(failure).toMatchObject({
      accountId: MEMBER,
      reason,
      roleArn: 'arn:aws:iam::111122223333:role/kms-policy-guard-spoke',
      awsErrorCode: name,
    });
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('types throttling and 5xx as RetryableAwsError, so the invocation is retried', async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).rejects(stsError('Throttling', 400));
    const spokes = access({ ms: T0 });

    // Act
    const failure = await spokes.ensure(MEMBER).catch((error: unknown) => error);

    // Assess
    expect(failure).toBeInstanceOf(RetryableAwsError);
    expect(failure).toMatchObject({ operation: 'AssumeRole' });
  });
});

describe('clientsFor', () => {
  it('builds one client per account and Region with that account’s credentials and the base endpoint', () => {
    // Prepare
    const spokes = access({ ms: T0 });
    const made: unknown[] = [];
    const factory = clientsFor(spokes, { endpoint: 'http://127.0.0.1:5000' }, (settings) => {
      made.push(settings);
      return { settings };
    });

    // Act
    const a = factory(MEMBER, 'eu-west-1');
    const b = factory(MEMBER, 'eu-west-1');
    factory(MEMBER, 'us-east-1');
    const own = factory(HUB, 'eu-west-1');

    // Assess
    expect(a).toBe(b);
    expect(made).toHaveLength(3);
    expect(a.settings).toMatchObject({ endpoint: 'http://127.0.0.1:5000', region: 'eu-west-1' });
    expect(typeof a.settings.credentials).toBe('function');
    expect(own.settings.credentials).toBeUndefined();
  });
});

describe('SpokeAccess.create (the STS client imported and built on the first AssumeRole)', () => {
  it('never gets an STS client for the hub own account, and gets one, once, for the members', async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolves(credentialsExpiringAt(T0 + 3600_000));
    let built = 0;
    const spokes = new SpokeAccess({
      sts: async () => {
        built += 1;
        return new STSClient({ region: 'us-east-1' });
      },
      partition: 'aws',
      roleName: 'kms-policy-guard-spoke',
      sessionName: 'kms-policy-guard-hub',
      ownAccountId: HUB,
      now: () => T0,
    });

    // Act
    await spokes.ensure(HUB);
    const beforeMembers = built;
    await Promise.all([spokes.ensure(MEMBER), spokes.ensure('444455556666')]);

    // Assess
    expect(beforeMembers).toBe(0);
    expect(built).toBe(1);
    expect(stsMock.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('assumes a member role through the client it imports (the organization path)', async () => {
    // Prepare
    stsMock.on(AssumeRoleCommand).resolves(credentialsExpiringAt(T0 + 3600_000));
    const spokes = SpokeAccess.create(
      { region: 'us-east-1' },
      {
        partition: 'aws',
        roleName: 'kms-policy-guard-spoke',
        sessionName: 'kms-policy-guard-hub',
        ownAccountId: HUB,
      },
    );

    // Act
    const credentials = await spokes.credentials(MEMBER)?.();

    // Assess
    expect(credentials?.accessKeyId).toBe('ASIAEXAMPLE');
    expect(stsMock.commandCalls(AssumeRoleCommand)[0]?.args[0].input.RoleArn).toBe(
      spokeRoleArn('aws', MEMBER, 'kms-policy-guard-spoke'),
    );
  });
});

/**
 * The guard knows the key's ARN (issue 11, "the guard passes the key ARN"): it gives it, and the
 * key's account, to validatePolicy and comparePolicies, so a live policy that writes its own key
 * ARN (or `key/*` of its account and Region) as Resource is in sync with a desired `"*"`, and the
 * reverse; a statement on another key grants nothing; and the unmanaged-key rules read an `Allow *`
 * on an S3 ARN as no exposure of this key.
 */
import { checkKey } from '../../../src/guard/check-key';
import { withStatement } from '../support/drift';
import {
  awsCalls,
  desiredPolicyAsKmsReturnsIt,
  desiredPolicyText,
  fixtureManifest,
  GetKeyPolicyCommand,
  KEY_ARN,
  kmsMock,
  ListAliasesCommand,
  ListResourceTagsCommand,
  makeHarness,
  manifestWithDesired,
  OTHER_KEY_ARN,
  onlyFinding,
  publishedInputs,
  resetMocks,
} from './harness';

const REQUEST = { keyRef: KEY_ARN, trigger: 'event' as const, eventId: 'event-1' };
const OWN_KEY_PATTERN = 'arn:aws:kms:us-west-2:111122223333:key/*';

/** `policy` with every statement's Resource set to `resource`. */
function withResource(policy: string, resource: string): string {
  const document = JSON.parse(policy) as { Statement: { Resource?: unknown }[] };
  for (const statement of document.Statement) statement.Resource = resource;
  return JSON.stringify(document, null, 2);
}

beforeEach(() => {
  resetMocks();
});

describe('checkKey compares with the key ARN', () => {
  it.each([
    ['alert', "the key's own ARN", KEY_ARN],
    ['alert', "key/* of the key's account and Region", OWN_KEY_PATTERN],
    ['remediate', "the key's own ARN", KEY_ARN],
  ] as const)(
    '%s mode: a live policy writing %s as Resource against a desired "*" is in sync, nothing written',
    async (mode, _what, resource) => {
      // Prepare
      const { deps, logger } = makeHarness(fixtureManifest(mode));
      kmsMock
        .on(GetKeyPolicyCommand)
        .resolves({ Policy: withResource(desiredPolicyAsKmsReturnsIt(), resource) });

      // Act
      const outcome = await checkKey(deps, REQUEST);

      // Assess
      expect(outcome.result).toBe('in-sync');
      expect(awsCalls()).toEqual({ DescribeKey: 1, GetKeyPolicy: 1, ListGrants: 1 });
      expect(publishedInputs()).toHaveLength(0);
      const line = logger.lines.find((entry) => entry.message === 'key_in_sync');
      expect(line?.attributes.cosmetic).toEqual(
        expect.arrayContaining([expect.stringContaining('the key\'s ARN vs "*"')]),
      );
    },
  );

  it('a desired document naming the key as Resource is in sync with a live "*"', async () => {
    // Prepare
    const desired = withResource(desiredPolicyText(), 'arn:{{Partition}}:kms:{{Region}}:{{AccountId}}:key/*');
    const { deps } = makeHarness(manifestWithDesired('remediate', desired));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });

    // Act
    const outcome = await checkKey(deps, REQUEST);

    // Assess
    expect(outcome.result).toBe('in-sync');
    expect(publishedInputs()).toHaveLength(0);
  });

  it('a live statement on another key grants nothing on this one: in sync', async () => {
    // Prepare
    const live = withStatement(desiredPolicyAsKmsReturnsIt(), {
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::999988887777:root' },
      Action: 'kms:Decrypt',
      Resource: OTHER_KEY_ARN,
    });
    const { deps } = makeHarness(fixtureManifest('alert'));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: live });

    // Act
    const outcome = await checkKey(deps, REQUEST);

    // Assess
    expect(outcome.result).toBe('in-sync');
  });

  it('a live Resource naming another key instead of this one is drift: its principals lost access', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    kmsMock
      .on(GetKeyPolicyCommand)
      .resolves({ Policy: withResource(desiredPolicyAsKmsReturnsIt(), OTHER_KEY_ARN) });

    // Act
    const outcome = await checkKey(deps, REQUEST);

    // Assess
    expect(outcome.result).toBe('published');
    const finding = onlyFinding();
    expect(finding.kind).toBe('drift');
    expect(finding.diff?.access.every((change) => change.gained.length === 0)).toBe(true);
    expect(finding.validation?.live.map((item) => item.code)).toContain('KMS104');
  });
});

describe('checkKey judges an unmanaged key with its ARN', () => {
  const CLEAN = desiredPolicyAsKmsReturnsIt('payments-data', OTHER_KEY_ARN);

  it('an Allow to anyone on an S3 ARN exposes nothing of the key: no critical finding', async () => {
    // Prepare
    const live = withStatement(CLEAN, {
      Effect: 'Allow',
      Principal: '*',
      Action: 'kms:Decrypt',
      Resource: 'arn:aws:s3:::public-bucket/*',
    });
    const { deps } = makeHarness(fixtureManifest('alert', { unmanagedKeys: 'report' }));
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: live });

    // Act
    await checkKey(deps, { ...REQUEST, keyRef: OTHER_KEY_ARN });

    // Assess
    const finding = onlyFinding();
    expect(finding).toMatchObject({ kind: 'unmanaged-key', severity: 'low' });
  });

  it("an Allow to anyone on the key's own ARN is the critical exposure it is", async () => {
    // Prepare
    const live = withStatement(CLEAN, {
      Effect: 'Allow',
      Principal: '*',
      Action: 'kms:Decrypt',
      Resource: OTHER_KEY_ARN,
    });
    const { deps } = makeHarness(fixtureManifest('alert', { unmanagedKeys: 'report' }));
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: live });

    // Act
    await checkKey(deps, { ...REQUEST, keyRef: OTHER_KEY_ARN });

    // Assess
    const finding = onlyFinding();
    expect(finding).toMatchObject({ kind: 'unmanaged-key', severity: 'critical' });
    expect(finding.validation?.live.map((item) => item.code)).toContain('KMS116');
  });
});

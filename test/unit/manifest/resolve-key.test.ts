import type { KeyMetadata } from '../../../src/core/key';
import {
  factsOf,
  type LoadedManifest,
  type ManagedKey,
  resolveEntry,
  validationOptionsFor,
} from '../../../src/manifest';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;

function key(overrides: Partial<KeyMetadata> = {}): KeyMetadata {
  return {
    keyId: KEY_ID,
    arn: KEY_ARN,
    state: 'Enabled',
    manager: 'CUSTOMER',
    multiRegion: false,
    aliases: [],
    tags: {},
    ...overrides,
  };
}

function entry(name: string, match: ManagedKey['match']): ManagedKey {
  return {
    name,
    match,
    mode: 'alert',
    policyFile: `${name}.json`,
    policyTemplate: '{}',
    grants: { allowServiceGrants: true, allow: [] },
    state: { enabled: true },
  };
}

function manifest(...keys: ManagedKey[]): LoadedManifest {
  return {
    path: '/policies/manifest.yaml',
    unmanagedKeys: 'report',
    flapping: { maxReapplies: 3, windowMinutes: 60 },
    allowedAccounts: [],
    adminPrincipals: [],
    keys,
  };
}

describe('resolveEntry', () => {
  it.each([
    ['key ID', { keyId: KEY_ID }, key()],
    ['key ARN', { keyArn: KEY_ARN }, key()],
    [
      'alias (any of the key aliases)',
      { alias: 'alias/payments' },
      key({ aliases: ['alias/other', 'alias/payments'] }),
    ],
    ['tag', { tag: { key: 'team', value: 'payments' } }, key({ tags: { env: 'prod', team: 'payments' } })],
  ])('matches by %s', async (_kind, match, metadata) => {
    // Prepare
    const managed = manifest(entry('unrelated', { alias: 'alias/unrelated' }), entry('wanted', match));

    // Act
    const resolved = (await resolveEntry(managed, factsOf(metadata))).entry;

    // Assess
    expect(resolved?.name).toBe('wanted');
  });

  it.each([
    ['another key ID', { keyId: '00000000-0000-0000-0000-000000000000' }, key()],
    ['the same key ID in another region', { keyArn: KEY_ARN.replace('us-east-1', 'eu-west-1') }, key()],
    ['an alias of another key', { alias: 'alias/payments' }, key({ aliases: ['alias/payments-old'] })],
    [
      'a tag with another value',
      { tag: { key: 'team', value: 'payments' } },
      key({ tags: { team: 'Payments' } }),
    ],
    [
      'a tag value under another tag key',
      { tag: { key: 'team', value: 'payments' } },
      key({ tags: { owner: 'payments' } }),
    ],
  ])('does not match %s', async (_case, match, metadata) => {
    // Act
    const resolved = (await resolveEntry(manifest(entry('e', match)), factsOf(metadata))).entry;

    // Assess
    expect(resolved).toBeUndefined();
  });

  it('returns the first matching entry when matchers of different kinds select the same key', async () => {
    // Prepare
    const managed = manifest(
      entry('by-tag', { tag: { key: 'team', value: 'x' } }),
      entry('by-alias', { alias: 'alias/x' }),
    );

    // Act
    const resolved = (
      await resolveEntry(managed, factsOf(key({ aliases: ['alias/x'], tags: { team: 'x' } })))
    ).entry;

    // Assess
    expect(resolved?.name).toBe('by-tag');
  });
});

it('reads aliases and tags only when an entry matches by them, and each at most once', async () => {
  // Prepare
  const calls: string[] = [];
  const facts = {
    keyId: KEY_ID,
    keyArn: KEY_ARN,
    aliases: async () => {
      calls.push('aliases');
      return ['alias/b'];
    },
    tags: async () => {
      calls.push('tags');
      return { team: 'b' };
    },
  };
  const byId = manifest(entry('by-id', { keyId: KEY_ID }), entry('by-alias', { alias: 'alias/b' }));
  const byTag = manifest(
    entry('first-alias', { alias: 'alias/a' }),
    entry('second-alias', { alias: 'alias/c' }),
    entry('tagged', { tag: { key: 'team', value: 'b' } }),
  );

  // Act
  const first = await resolveEntry(byId, facts);
  const callsForId = [...calls];
  const second = await resolveEntry(byTag, facts);

  // Assess
  expect(first.entry?.name).toBe('by-id');
  expect(callsForId).toEqual([]);
  expect(second).toEqual({ entry: byTag.keys[2], aliases: ['alias/b'], tags: { team: 'b' } });
  expect(calls).toEqual(['aliases', 'tags']);
});

describe('validationOptionsFor', () => {
  it('renders admin principals, adds the key account to the allow-list and names the guard role', () => {
    // Prepare
    const managed = {
      ...manifest(),
      allowedAccounts: ['444455556666'],
      adminPrincipals: ['arn:{{Partition}}:iam::{{AccountId}}:role/KMSAdminRole'],
    };

    // Act
    const options = validationOptionsFor(managed, 'remediate', {
      partition: 'aws',
      region: 'eu-west-1',
      accountId: '111122223333',
    });

    // Assess
    expect(options).toEqual({
      allowedAccounts: ['111122223333', '444455556666'],
      adminPrincipals: ['arn:aws:iam::111122223333:role/KMSAdminRole'],
      guardPrincipal: 'arn:aws:iam::111122223333:role/kms-policy-guard-eu-west-1',
      mode: 'remediate',
      partition: 'aws',
    });
  });

  it('keeps the allow-list empty (no check) when the manifest has none', () => {
    // Act
    const options = validationOptionsFor(manifest(), 'alert', {
      partition: 'aws',
      region: 'us-east-1',
      accountId: '111122223333',
    });

    // Assess
    expect(options.allowedAccounts).toEqual([]);
  });
});

import type { KeyMetadata } from '../../../src/core/key';
import {
  type LoadedManifest,
  type ManagedKey,
  resolveKey,
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
  return { name, match, mode: 'alert', policyFile: `${name}.json`, policyTemplate: '{}' };
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

describe('resolveKey', () => {
  it.each([
    ['key ID', { keyId: KEY_ID }, key()],
    ['key ARN', { keyArn: KEY_ARN }, key()],
    [
      'alias (any of the key aliases)',
      { alias: 'alias/payments' },
      key({ aliases: ['alias/other', 'alias/payments'] }),
    ],
    ['tag', { tag: { key: 'team', value: 'payments' } }, key({ tags: { env: 'prod', team: 'payments' } })],
  ])('matches by %s', (_kind, match, metadata) => {
    // Prepare
    const managed = manifest(entry('unrelated', { alias: 'alias/unrelated' }), entry('wanted', match));

    // Act
    const resolved = resolveKey(managed, metadata);

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
  ])('does not match %s', (_case, match, metadata) => {
    // Act
    const resolved = resolveKey(manifest(entry('e', match)), metadata);

    // Assess
    expect(resolved).toBeUndefined();
  });

  it('returns the first matching entry when matchers of different kinds select the same key', () => {
    // Prepare
    const managed = manifest(
      entry('by-tag', { tag: { key: 'team', value: 'x' } }),
      entry('by-alias', { alias: 'alias/x' }),
    );

    // Act
    const resolved = resolveKey(managed, key({ aliases: ['alias/x'], tags: { team: 'x' } }));

    // Assess
    expect(resolved?.name).toBe('by-tag');
  });
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

/**
 * adoptKeys (`kms-guard init`'s use case) over an in-memory KMS: which keys are adopted, skipped or
 * reported, how they are named, what would be refused, and the manifest text it plans.
 */
import { parse as parseYaml } from 'yaml';
import type { KeyGrant } from '../../../src/core/finding';
import type { KeyDescription } from '../../../src/core/key';
import { AdoptionAbortedError, type AdoptionPlan, adoptKeys } from '../../../src/guard/adopt';
import { assignNames, baseName, nameFromAlias } from '../../../src/guard/adopt/naming';
import {
  AwsCallError,
  KeyUnavailableError,
  KmsAccessDeniedError,
  RetryableAwsError,
} from '../../../src/guard/errors';
import type { KeyPolicyStore } from '../../../src/guard/ports';
import { renderPlaceholders } from '../../../src/manifest';
import { NAME_PATTERN } from '../../../src/manifest/schema';
import { comparePolicies } from '../../../src/policy/compare';

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const LOCATION = { partition: 'aws', region: REGION, accountId: ACCOUNT };
const arnOf = (keyId: string) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`;
const id = (n: number) => `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;

const DEFAULT_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Id: 'key-default-1',
  Statement: [
    {
      Sid: 'Enable IAM User Permissions',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: 'kms:*',
      Resource: '*',
    },
  ],
});

/** Nobody may change the policy: KMS305 in every mode. */
const NO_ADMIN_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/App` },
      Action: 'kms:Decrypt',
      Resource: '*',
    },
  ],
});

/** The root may replace the policy but not read it: the guard (through the root) could not, KMS306 in remediate mode. */
const ROOT_WRITE_ONLY_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: ['kms:PutKeyPolicy', 'kms:DescribeKey'],
      Resource: '*',
    },
  ],
});

interface FakeKey {
  keyId: string;
  policy?: string;
  aliases?: string[];
  manager?: 'CUSTOMER' | 'AWS';
  state?: string;
  multiRegionType?: 'PRIMARY' | 'REPLICA';
  /** Thrown by DescribeKey / GetKeyPolicy. */
  describeError?: Error;
  policyError?: Error;
}

class FakeStore implements KeyPolicyStore {
  readonly calls: string[] = [];

  constructor(private readonly keys: FakeKey[]) {}

  async getKeyPolicy(keyId: string): Promise<string> {
    this.calls.push(`GetKeyPolicy ${keyId}`);
    const key = this.find(keyId);
    if (key.policyError) throw key.policyError;
    return key.policy ?? DEFAULT_POLICY;
  }

  async putKeyPolicy(): Promise<void> {
    throw new Error('adoption never writes a key policy');
  }

  async describeKey(keyId: string): Promise<KeyDescription> {
    this.calls.push(`DescribeKey ${keyId}`);
    const key = this.find(keyId);
    if (key.describeError) throw key.describeError;
    const description: KeyDescription = {
      keyId,
      arn: arnOf(keyId),
      state: key.state ?? 'Enabled',
      manager: key.manager ?? 'CUSTOMER',
      multiRegion: key.multiRegionType !== undefined,
    };
    if (key.multiRegionType) description.multiRegionType = key.multiRegionType;
    return description;
  }

  async listResourceTags(): Promise<Record<string, string>> {
    throw new Error('adoption does not need tags');
  }

  async listKeyIds(): Promise<string[]> {
    return this.keys.map((key) => key.keyId);
  }

  async listAliases(): Promise<Map<string, string>> {
    return new Map(
      this.keys.flatMap((key) => (key.aliases ?? []).map((alias) => [alias, key.keyId] as const)),
    );
  }

  // Adoption reads policies; it never lists grants nor changes a key's state.
  async listGrants(): Promise<KeyGrant[]> {
    throw new Error('adoption does not read grants');
  }

  async revokeGrant(): Promise<void> {
    throw new Error('adoption never revokes a grant');
  }

  async cancelKeyDeletion(): Promise<void> {
    throw new Error('adoption never changes key state');
  }

  async enableKey(): Promise<void> {
    throw new Error('adoption never changes key state');
  }

  async disableKey(): Promise<void> {
    throw new Error('adoption never changes key state');
  }

  async getKeyRotationStatus(): Promise<boolean> {
    throw new Error('adoption does not read rotation');
  }

  async setKeyRotation(): Promise<void> {
    throw new Error('adoption never changes key state');
  }

  private find(keyId: string): FakeKey {
    const key = this.keys.find((candidate) => candidate.keyId === keyId);
    if (!key) throw new Error(`no key ${keyId}`);
    return key;
  }
}

function adopt(keys: FakeKey[], mode: 'alert' | 'remediate' | 'dry-run' = 'alert'): Promise<AdoptionPlan> {
  return adoptKeys(new FakeStore(keys), { mode, concurrency: 4 });
}

describe('names of adopted keys', () => {
  it.each([
    ['alias/payments', 'payments'],
    ['alias/team/payments', 'team-payments'],
    ['alias/_internal', 'internal'],
    ['alias/___', ''],
    [`alias/${'a'.repeat(100)}`, 'a'.repeat(64)],
  ])('%s gives the name "%s"', (alias, expected) => {
    expect(nameFromAlias(alias)).toBe(expected);
  });

  it('uses the alphabetically first alias, else the key ID', () => {
    expect(baseName(id(1), ['alias/zeta', 'alias/alpha'])).toBe('alpha');
    expect(baseName(id(1), [])).toBe(id(1));
    expect(baseName(id(1), ['alias/___'])).toBe(id(1));
  });

  it('de-duplicates without regard to case, within 64 characters, every name matching the manifest pattern', () => {
    // Prepare
    const long = `alias/${'b'.repeat(70)}`;
    const keys = [
      { keyId: id(1), aliases: ['alias/Payments'] },
      { keyId: id(2), aliases: ['alias/payments'] },
      { keyId: id(3), aliases: ['alias/payments'] },
      { keyId: id(4), aliases: [long] },
      { keyId: id(5), aliases: [long] },
    ];

    // Act
    const names = assignNames(keys);

    // Assess
    expect(names).toEqual(['Payments', 'payments-2', 'payments-3', 'b'.repeat(64), `${'b'.repeat(62)}-2`]);
    expect(names.every((name) => NAME_PATTERN.test(name))).toBe(true);
  });
});

describe('adoptKeys', () => {
  it('adopts every customer managed key with a template that renders back to its live policy', async () => {
    // Prepare
    const shared = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: 'kms:*',
          Resource: '*',
        },
        {
          Effect: 'Allow',
          Principal: { AWS: ['arn:aws:iam::444455556666:root', ACCOUNT] },
          Action: 'kms:Decrypt',
          Resource: '*',
          Condition: { StringEquals: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } },
        },
      ],
    });
    const keys: FakeKey[] = [
      { keyId: id(1), aliases: ['alias/app'] },
      { keyId: id(2), policy: shared, aliases: ['alias/shared', 'alias/analytics'] },
      { keyId: id(3) },
    ];

    // Act
    const plan = await adopt(keys);

    // Assess
    expect(plan.adopted.map((key) => [key.name, key.policyFile, key.form])).toEqual([
      [id(3), `${id(3)}.json`, 'template'],
      ['analytics', 'analytics.json', 'template'],
      ['app', 'app.json', 'template'],
    ]);
    expect(plan.location).toEqual(LOCATION);
    const analytics = plan.adopted.find((key) => key.name === 'analytics');
    expect(analytics?.placeholders).toBe(3);
    expect(analytics?.document).toContain('"arn:aws:iam::444455556666:root"');
    expect(analytics?.document).toContain('"s3.{{Region}}.amazonaws.com"');
    for (const key of plan.adopted) {
      const live = keys.find((candidate) => candidate.keyId === key.keyId)?.policy ?? DEFAULT_POLICY;
      const rendered = renderPlaceholders(key.document, LOCATION, key.policyFile);
      expect(comparePolicies(rendered, live).status).toBe('equivalent');
      expect(key.equivalent).toBe(true);
      expect(key.refusals).toEqual([]);
    }
  });

  it('gives the plain name to the same key whatever order KMS lists the keys in', async () => {
    // Prepare: two aliases that differ only in case; the key IDs sort the other way round.
    const keys: FakeKey[] = [
      { keyId: id(1), aliases: ['alias/dup'] },
      { keyId: id(2), aliases: ['alias/Dup'] },
    ];

    // Act
    const forward = await adopt(keys);
    const backward = await adopt([...keys].reverse());

    // Assess
    const names = (plan: AdoptionPlan) => plan.adopted.map((key) => [key.keyId, key.name]);
    expect(names(forward)).toEqual([
      [id(2), 'Dup'],
      [id(1), 'dup-2'],
    ]);
    expect(names(backward)).toEqual(names(forward));
  });

  it('skips AWS managed keys, by alias without a DescribeKey and by KeyManager, and counts them', async () => {
    // Prepare
    const store = new FakeStore([
      { keyId: id(1), aliases: ['alias/aws/ebs'] },
      { keyId: id(2), manager: 'AWS' },
      { keyId: id(3) },
    ]);

    // Act
    const plan = await adoptKeys(store, { mode: 'alert', concurrency: 1 });

    // Assess
    expect(plan.awsManagedSkipped).toBe(2);
    expect(plan.adopted.map((key) => key.keyId)).toEqual([id(3)]);
    expect(store.calls).not.toContain(`DescribeKey ${id(1)}`);
    expect(store.calls).not.toContain(`GetKeyPolicy ${id(2)}`);
  });

  it.each([
    ['pending deletion', { state: 'PendingDeletion' }, 'pending-deletion', 'key state PendingDeletion'],
    [
      'a DescribeKey that is denied',
      { describeError: new KmsAccessDeniedError('DescribeKey', id(1), 'no') },
      'access-denied',
      'DescribeKey was denied',
    ],
    [
      'a GetKeyPolicy that is denied',
      { policyError: new KmsAccessDeniedError('GetKeyPolicy', id(1), 'no') },
      'access-denied',
      'GetKeyPolicy was denied',
    ],
    [
      'a key KMS refuses to read',
      {
        policyError: new KeyUnavailableError(
          'GetKeyPolicy',
          id(1),
          'invalid-state',
          'x',
          'KMSInvalidStateException',
        ),
      },
      'unavailable',
      'KMS refused GetKeyPolicy (invalid-state)',
    ],
    [
      'a key deleted while init ran',
      { describeError: new KeyUnavailableError('DescribeKey', id(1), 'not-found', 'x', 'NotFoundException') },
      'not-found',
      'deleted while init ran',
    ],
    [
      'a live policy with {{…}} text',
      { policy: DEFAULT_POLICY.replace('key-default-1', '{{AccountId}}') },
      'placeholder-text',
      'the live policy contains {{AccountId}}, which desired documents reserve for placeholders',
    ],
  ])('reports %s and does not adopt it', async (_case, fault, reason, detail) => {
    // Act
    const plan = await adopt([{ keyId: id(1), aliases: ['alias/x'], ...fault }, { keyId: id(2) }]);

    // Assess
    expect(plan.notAdopted).toEqual([
      expect.objectContaining({ keyId: id(1), aliases: ['alias/x'], reason, detail }),
    ]);
    expect(plan.adopted.map((key) => key.keyId)).toEqual([id(2)]);
  });

  it('adopts a disabled key and a multi-Region replica, with a note each', async () => {
    // Act
    const plan = await adopt([
      { keyId: id(1), aliases: ['alias/disabled'], state: 'Disabled' },
      { keyId: id(2), aliases: ['alias/replica'], multiRegionType: 'REPLICA' },
    ]);

    // Assess
    expect(plan.adopted.map((key) => [key.name, key.notes])).toEqual([
      ['disabled', ['key state Disabled: remediation refuses keys that are not Enabled']],
      [
        'replica',
        ["multi-Region replica: the guard reports drift on it but never writes a replica's policy"],
      ],
    ]);
  });

  it.each([
    ['alert', 'no administrator', ['KMS305'], NO_ADMIN_POLICY],
    ['remediate', 'no administrator', ['KMS305', 'KMS306'], NO_ADMIN_POLICY],
    ['alert', 'a guard that could not read', [], ROOT_WRITE_ONLY_POLICY],
    ['dry-run', 'a guard that could not read', [], ROOT_WRITE_ONLY_POLICY],
    ['remediate', 'a guard that could not read', ['KMS306'], ROOT_WRITE_ONLY_POLICY],
  ] as const)(
    'in %s mode, for a policy with %s, lists the refusals %j',
    async (mode, _case, codes, policy) => {
      // Act
      const plan = await adopt([{ keyId: id(1), policy }], mode);

      // Assess
      expect(plan.adopted[0]?.refusals.map((finding) => finding.code).sort()).toEqual(codes);
      expect(plan.adopted[0]?.document).toBeDefined();
    },
  );

  it('stops without a plan when a call fails in a way that says nothing about one key', async () => {
    // Prepare
    const keys: FakeKey[] = [
      {
        keyId: id(1),
        policyError: new RetryableAwsError('GetKeyPolicy', 'throttled', 'ThrottlingException'),
      },
      { keyId: id(2), describeError: new AwsCallError('DescribeKey', 'boom', 'ValidationException') },
    ];

    // Act
    const plan = adopt(keys);

    // Assess
    await expect(plan).rejects.toBeInstanceOf(AdoptionAbortedError);
    await expect(plan).rejects.toThrow(/00000000-0000-0000-0000-00000000000[12]: /);
  });

  it('writes a policy byte for byte when pretty-printing would change its meaning (a number JSON cannot hold)', async () => {
    // Prepare: as a string condition value, 12345678901234567890 is not 12345678901234567000.
    const live = DEFAULT_POLICY.replace(
      '"Resource":"*"}',
      '"Resource":"*","Condition":{"StringEquals":{"kms:EncryptionContext:order":12345678901234567890}}}',
    );

    // Act
    const plan = await adopt([{ keyId: id(1), policy: live }]);

    // Assess
    expect(plan.adopted[0]).toMatchObject({
      form: 'verbatim',
      document: live,
      equivalent: true,
      placeholders: 0,
    });
    expect(plan.adopted[0]?.notes).toEqual([
      'written byte for byte as KMS returned it: it holds the number 12345678901234567890, which pretty-printing would write differently',
    ]);
  });

  it('says when even the live policy cannot be found in sync (an element KMS does not know)', async () => {
    // Prepare
    const live = DEFAULT_POLICY.replace('"Action"', '"Actoin"');

    // Act
    const plan = await adopt([{ keyId: id(1), policy: live }]);

    // Assess
    expect(plan.adopted[0]).toMatchObject({ form: 'verbatim', equivalent: false });
    expect(plan.adopted[0]?.notes[0]).toMatch(/^the next audit will not find it in sync: \$\.Statement\[0\]/);
  });

  it('plans a manifest binding each key by key ID, with its aliases and notes in comments', async () => {
    // Act
    const plan = await adopt(
      [
        { keyId: id(1), aliases: ['alias/123', 'alias/b'] },
        { keyId: id(2), aliases: ['alias/lockout'], policy: NO_ADMIN_POLICY, state: 'Disabled' },
      ],
      'dry-run',
    );

    // Assess
    const text = plan.manifest ?? '';
    expect(text).toContain(
      [
        '  # aliases: alias/123, alias/b',
        '  - name: "123"',
        `    match: { keyId: ${id(1)} }`,
        '    mode: dry-run',
        '    policy: 123.json',
      ].join('\n'),
    );
    expect(text).toContain(
      [
        '  # aliases: alias/lockout',
        '  # note: key state Disabled: remediation refuses keys that are not Enabled',
        '  # would be refused: KMS305',
        '  - name: lockout',
      ].join('\n'),
    );
    expect(parseYaml(text)).toEqual({
      unmanagedKeys: 'report',
      keys: [
        { name: '123', match: { keyId: id(1) }, mode: 'dry-run', policy: '123.json' },
        { name: 'lockout', match: { keyId: id(2) }, mode: 'dry-run', policy: 'lockout.json' },
      ],
    });
  });

  it('plans no manifest when there is no customer managed key to adopt', async () => {
    // Act
    const plan = await adopt([{ keyId: id(1), manager: 'AWS' }]);

    // Assess
    expect(plan.manifest).toBeUndefined();
    expect(plan).toMatchObject({ listed: 1, adopted: [], awsManagedSkipped: 1 });
  });
});

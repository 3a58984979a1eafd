import { join, resolve } from 'node:path';
import { loadManifest, ManifestError } from '../../../src/manifest';
import { type ManifestDir, makeManifestDir, VALID_POLICY } from './fixtures';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const KEY_ARN = `arn:aws:kms:us-east-1:111122223333:key/${KEY_ID}`;

function entry(name: string, match: string, extra = ''): string {
  return `  - name: ${name}\n    match: ${match}\n    mode: alert\n    policy: ${name}.json\n${extra}`;
}

function manifestWithKeys(...entries: string[]): string {
  return `unmanagedKeys: report\nkeys:\n${entries.join('')}`;
}

function loadError(file: string): ManifestError {
  try {
    loadManifest(file);
  } catch (error) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
  throw new Error('loadManifest accepted an invalid manifest');
}

describe('loadManifest', () => {
  let files: ManifestDir;

  beforeEach(() => {
    files = makeManifestDir();
    for (const name of ['a', 'b', 'c']) files.write(`${name}.json`, VALID_POLICY);
  });

  afterEach(() => files.remove());

  it('loads the shipped policies/manifest.yaml with every document valid', () => {
    // Act
    const manifest = loadManifest('policies/manifest.yaml');

    // Assess
    expect(manifest.path).toBe(resolve('policies/manifest.yaml'));
    expect(manifest.keys.map((key) => [key.name, key.mode])).toEqual([
      ['payments-data', 'remediate'],
      ['app-logs', 'alert'],
      ['shared-with-analytics', 'alert'],
      ['team-abac', 'dry-run'],
    ]);
    expect(manifest.keys.map((key) => key.match)).toEqual([
      { alias: 'alias/payments-data' },
      { tag: { key: 'kms-policy-guard', value: 'app-logs' } },
      { alias: 'alias/shared-with-analytics' },
      { tag: { key: 'kms-policy-guard', value: 'team-abac' } },
    ]);
    expect(manifest.unmanagedKeys).toBe('report');
    expect(manifest.flapping).toEqual({ maxReapplies: 3, windowMinutes: 60 });
    expect(manifest.allowedAccounts).toEqual(['444455556666']);
    expect(manifest.warnings).toEqual([]);
    expect(manifest.keys.find((key) => key.name === 'team-abac')?.policyTemplate).toContain(
      '${aws:PrincipalTag/team}',
    );
  });

  it('every shipped document keeps the guard role able to read and put the key policy', () => {
    // Act
    const manifest = loadManifest('policies/manifest.yaml');

    // Assess
    for (const key of manifest.keys) {
      const document = JSON.parse(key.policyTemplate) as {
        Statement: { Principal?: unknown; Action?: unknown }[];
      };
      const guardStatement = document.Statement.find(
        (statement) => JSON.stringify(statement.Principal) === JSON.stringify({ AWS: '{{GuardPrincipal}}' }),
      );
      expect(guardStatement?.Action).toEqual(
        expect.arrayContaining(['kms:GetKeyPolicy', 'kms:PutKeyPolicy']),
      );
    }
  });

  it('applies the defaults when optional settings are absent', () => {
    // Prepare
    const file = files.write('manifest.yaml', `keys:\n${entry('a', `{ keyId: ${KEY_ID} }`)}`);

    // Act
    const manifest = loadManifest(file);

    // Assess
    expect(manifest).toMatchObject({
      unmanagedKeys: 'report',
      flapping: { maxReapplies: 3, windowMinutes: 60 },
      allowedAccounts: [],
      adminPrincipals: [],
      warnings: [],
    });
    expect(manifest.keys[0]).toEqual({
      name: 'a',
      match: { keyId: KEY_ID },
      grants: { allowServiceGrants: true, allow: [] },
      state: { enabled: true },
      mode: 'alert',
      policyFile: 'a.json',
      policyTemplate: VALID_POLICY,
    });
  });

  it('accepts a JSON manifest and policies in a sub-folder', () => {
    // Prepare
    files.write('docs/a.json', VALID_POLICY);
    const file = files.write(
      'manifest.json',
      JSON.stringify({
        unmanagedKeys: 'ignore',
        flapping: { maxReapplies: 5, windowMinutes: 10 },
        keys: [{ name: 'a', match: { keyArn: KEY_ARN }, mode: 'remediate', policy: 'docs/a.json' }],
      }),
    );

    // Act
    const manifest = loadManifest(file);

    // Assess
    expect(manifest.unmanagedKeys).toBe('ignore');
    expect(manifest.flapping).toEqual({ maxReapplies: 5, windowMinutes: 10 });
    expect(manifest.keys[0]?.policyFile).toBe('docs/a.json');
  });

  it.each([
    [
      'an unknown mode',
      `keys:\n  - name: a\n    match: { keyId: ${KEY_ID} }\n    mode: enforce\n    policy: a.json\n`,
      'keys[0] (a).mode: mode must be one of alert, remediate, dry-run',
    ],
    [
      'two matchers in one entry',
      manifestWithKeys(entry('a', `{ keyId: ${KEY_ID}, alias: alias/a }`)),
      'keys[0] (a).match: match must have exactly one of keyId, keyArn, alias, tag',
    ],
    [
      'an empty matcher',
      manifestWithKeys(entry('a', '{}')),
      'keys[0] (a).match: match must have exactly one of keyId, keyArn, alias, tag',
    ],
    [
      'a misspelt matcher',
      manifestWithKeys(entry('a', '{ aliass: alias/a }')),
      'keys[0] (a).match: Unrecognized key: "aliass"',
    ],
    [
      'a malformed key ID',
      manifestWithKeys(entry('a', '{ keyId: not-a-key }')),
      'keys[0] (a).match.keyId: keyId must be a key ID',
    ],
    [
      'a malformed key ARN',
      manifestWithKeys(entry('a', '{ keyArn: "arn:aws:kms:us-east-1:1:key/x" }')),
      'keys[0] (a).match.keyArn: keyArn must look like arn:aws:kms:<region>:<account>:key/<key-id>',
    ],
    [
      'an alias without the alias/ prefix',
      manifestWithKeys(entry('a', '{ alias: payments }')),
      'keys[0] (a).match.alias: alias must look like alias/<name>',
    ],
    [
      'an AWS-managed alias',
      manifestWithKeys(entry('a', '{ alias: alias/aws/s3 }')),
      'keys[0] (a).match.alias: alias/aws/… names AWS-managed keys',
    ],
    [
      'an unknown top-level setting',
      `unmanagedKey: ignore\nkeys:\n${entry('a', '{ alias: alias/a }')}`,
      '(top level): Unrecognized key: "unmanagedKey"',
    ],
    [
      'an invalid unmanagedKeys value',
      `unmanagedKeys: alert\nkeys:\n${entry('a', '{ alias: alias/a }')}`,
      'unmanagedKeys: unmanagedKeys must be ignore or report',
    ],
    [
      'an unquoted account ID',
      `allowedAccounts: [444455556666]\nkeys:\n${entry('a', '{ alias: alias/a }')}`,
      'allowedAccounts[0]: account IDs must be quoted strings',
    ],
    [
      'a short account ID',
      `allowedAccounts: ["4444"]\nkeys:\n${entry('a', '{ alias: alias/a }')}`,
      'allowedAccounts[0]: account ID must be 12 digits',
    ],
    [
      'a zero flapping limit',
      `flapping: { maxReapplies: 0, windowMinutes: 5 }\nkeys:\n${entry('a', '{ alias: alias/a }')}`,
      'flapping.maxReapplies: maxReapplies must be a whole number from 1 to 100',
    ],
    ['no keys', 'keys: []\n', 'keys: keys must list at least one managed key'],
    ['an empty file', '', '(top level): Invalid input'],
    [
      'a missing name',
      `keys:\n  - match: { alias: alias/a }\n    mode: alert\n    policy: a.json\n`,
      'keys[0].name: ',
    ],
    [
      'duplicate names',
      manifestWithKeys(entry('a', '{ alias: alias/a }'), entry('a', '{ alias: alias/b }')),
      'keys[1].name: duplicate name a (also keys[0])',
    ],
    [
      'two entries with the same alias',
      manifestWithKeys(entry('a', '{ alias: alias/x }'), entry('b', '{ alias: alias/x }')),
      'keys[1] (b).match: can match the same alias alias/x as keys[0] (a)',
    ],
    [
      'two entries with the same key ID',
      manifestWithKeys(entry('a', `{ keyId: ${KEY_ID} }`), entry('b', `{ keyId: ${KEY_ID} }`)),
      `keys[1] (b).match: can match the same key ID ${KEY_ID} as keys[0] (a)`,
    ],
    [
      "a key ID that is the tail of another entry's ARN",
      manifestWithKeys(entry('a', `{ keyArn: "${KEY_ARN}" }`), entry('b', `{ keyId: ${KEY_ID} }`)),
      `keys[1] (b).match: can match the same key ID ${KEY_ID} as keys[0] (a)`,
    ],
    [
      'two entries with the same ARN',
      manifestWithKeys(entry('a', `{ keyArn: "${KEY_ARN}" }`), entry('b', `{ keyArn: "${KEY_ARN}" }`)),
      `keys[1] (b).match: can match the same key ARN ${KEY_ARN} as keys[0] (a)`,
    ],
    [
      'two entries with the same tag',
      manifestWithKeys(
        entry('a', '{ tag: { key: team, value: x } }'),
        entry('b', '{ tag: { key: team, value: x } }'),
      ),
      'keys[1] (b).match: can match the same tag team=x as keys[0] (a)',
    ],
    [
      'a missing policy file',
      manifestWithKeys(entry('missing', '{ alias: alias/a }')),
      'keys[0] (missing).policy: missing.json: file not found',
    ],
    [
      'an unknown placeholder in adminPrincipals',
      `adminPrincipals: ["arn:aws:iam::{{Account}}:root"]\nkeys:\n${entry('a', '{ alias: alias/a }')}`,
      'adminPrincipals[0]: unknown placeholder {{Account}}',
    ],
    ['a YAML syntax error', 'keys: [\n', 'manifest is not valid YAML'],
    [
      'a duplicate YAML key',
      `keys: []\nkeys:\n${entry('a', '{ alias: alias/a }')}`,
      'Map keys must be unique',
    ],
  ])('rejects %s with a message naming the place', (_case, manifestText, expected) => {
    // Prepare
    const file = files.write('manifest.yaml', manifestText);

    // Act
    const error = loadError(file);

    // Assess
    expect(error.message).toContain(file);
    expect(error.message).toContain(expected);
  });

  it('rejects a policy path outside the manifest directory', () => {
    // Prepare
    const file = files.write(
      'sub/manifest.yaml',
      `keys:\n  - name: a\n    match: { alias: alias/a }\n    mode: alert\n    policy: ../a.json\n`,
    );

    // Act
    const error = loadError(file);

    // Assess
    expect(error.message).toContain("keys[0] (a).policy: ../a.json is outside the manifest's directory");
  });

  it('rejects an unknown placeholder in a document, naming the file and the placeholder', () => {
    // Prepare
    const policy = files.write('a.json', VALID_POLICY.replace('{{AccountId}}:root', '{{Account}}:root'));
    const file = files.write('manifest.yaml', `keys:\n${entry('a', '{ alias: alias/a }')}`);

    // Act
    const error = loadError(file);

    // Assess
    expect(error.problems).toEqual([
      `${policy}: unknown placeholder {{Account}} (known: {{Partition}}, {{Region}}, {{AccountId}}, {{GuardPrincipal}})`,
    ]);
  });

  it('rejects a document that is not JSON, with code, path and message', () => {
    // Prepare
    const policy = files.write('a.json', '{ "Version": "2012-10-17", ');
    const file = files.write('manifest.yaml', `keys:\n${entry('a', '{ alias: alias/a }')}`);

    // Act
    const error = loadError(file);

    // Assess
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(new RegExp(`^${escapeRegExp(policy)}: KMS001 \\$: `));
    expect(error.problems[0]).toContain('(keys[0] (a).policy)');
  });

  it('lists every problem of every document at once', () => {
    // Prepare
    const file = files.write(
      'manifest.yaml',
      manifestWithKeys(entry('missing1', '{ alias: alias/a }'), entry('missing2', '{ alias: alias/b }')),
    );

    // Act
    const error = loadError(file);

    // Assess
    expect(error.problems).toHaveLength(2);
    expect(error.message).toContain('2 problem(s)');
  });

  it('lists entry problems and document problems together', () => {
    // Prepare
    const policy = files.write('b.json', VALID_POLICY.replace('{{Region}}', '{{Zone}}'));
    const file = files.write(
      'manifest.yaml',
      manifestWithKeys(entry('a', '{ alias: alias/x }'), entry('b', '{ alias: alias/x }')),
    );

    // Act
    const error = loadError(file);

    // Assess
    expect(error.problems).toEqual([
      `${file}: keys[1] (b).match: can match the same alias alias/x as keys[0] (a)`,
      `${policy}: unknown placeholder {{Zone}} (known: {{Partition}}, {{Region}}, {{AccountId}}, {{GuardPrincipal}})`,
    ]);
  });

  it('reports a missing manifest with the cause attached', () => {
    // Prepare
    const file = join(files.dir, 'nope.yaml');

    // Act
    const error = loadError(file);

    // Assess
    expect(error.message).toBe(`${file}: cannot read manifest: file not found`);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });
});

describe('loadManifest validation of desired documents', () => {
  let files: ManifestDir;

  beforeEach(() => {
    files = makeManifestDir();
  });

  afterEach(() => files.remove());

  function policyWith(
    mutate: (document: { Version?: string; Statement: Record<string, unknown>[] }) => void,
  ) {
    const document = JSON.parse(VALID_POLICY) as { Version?: string; Statement: Record<string, unknown>[] };
    mutate(document);
    return JSON.stringify(document, null, 2);
  }

  it('rejects a document with a validation error, listing code, path and message', () => {
    // Prepare
    const policy = files.write(
      'a.json',
      policyWith((document) => {
        document.Statement.push({
          Effect: 'Allow',
          Principal: { AWS: 'arn:{{Partition}}:iam::{{AccountId}}:role/app' },
          Action: ['kms:Decrpyt'],
          Resource: '*',
        });
      }),
    );
    const file = files.write('manifest.yaml', `keys:\n${entry('a', '{ alias: alias/a }')}`);

    // Act
    const error = loadError(file);

    // Assess
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(
      new RegExp(`^${escapeRegExp(policy)}: KMS201 \\$\\.Statement\\[2\\]\\.Action(\\[0\\])?: .*kms:Decrpyt`),
    );
  });

  it('keeps warnings (missing Version) available on the loaded manifest', () => {
    // Prepare
    files.write(
      'a.json',
      policyWith((document) => {
        delete document.Version;
      }),
    );
    const file = files.write('manifest.yaml', `keys:\n${entry('a', '{ alias: alias/a }')}`);

    // Act
    const manifest = loadManifest(file);

    // Assess
    expect(manifest.warnings).toEqual([
      {
        key: 'a',
        policyFile: 'a.json',
        finding: expect.objectContaining({ code: 'KMS102', level: 'warning' }),
      },
    ]);
  });

  it('warns about a principal from an account outside allowedAccounts, not about one inside it', () => {
    // Prepare
    files.write(
      'a.json',
      policyWith((document) => {
        document.Statement.push({
          Effect: 'Allow',
          Principal: { AWS: 'arn:{{Partition}}:iam::444455556666:root' },
          Action: 'kms:Decrypt',
          Resource: '*',
        });
      }),
    );
    const outside = files.write(
      'outside.yaml',
      `allowedAccounts: ["999988887777"]\nkeys:\n${entry('a', '{ alias: alias/a }')}`,
    );
    const inside = files.write(
      'inside.yaml',
      `allowedAccounts: ["444455556666"]\nkeys:\n${entry('a', '{ alias: alias/a }')}`,
    );

    // Act
    const outsideWarnings = loadManifest(outside).warnings ?? [];
    const insideWarnings = loadManifest(inside).warnings ?? [];

    // Assess
    expect(outsideWarnings.map((warning) => warning.finding.code)).toEqual(['KMS302']);
    expect(insideWarnings).toEqual([]);
  });

  it.each([
    ['remediate', true],
    ['alert', false],
    ['dry-run', false],
  ])('in %s mode, a document that locks the guard out fails the load: %s', (mode, fails) => {
    // Prepare: only an administrator role can manage the key; neither the root nor the guard role is named.
    files.write(
      'a.json',
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: 'arn:{{Partition}}:iam::{{AccountId}}:role/KMSAdminRole' },
            Action: 'kms:*',
            Resource: '*',
          },
        ],
      }),
    );
    const file = files.write(
      'manifest.yaml',
      `adminPrincipals: ["arn:{{Partition}}:iam::{{AccountId}}:role/KMSAdminRole"]\nkeys:\n  - name: a\n    match: { alias: alias/a }\n    mode: ${mode}\n    policy: a.json\n`,
    );

    // Act
    const load = () => loadManifest(file);

    // Assess
    if (fails) {
      expect(load).toThrow(
        /KMS306 \$\.Statement: In remediate mode the guard \(arn:aws:iam::111122223333:role\/kms-policy-guard-us-east-1\)/,
      );
    } else {
      // Alert and dry-run never write, so the guard keeping PutKeyPolicy does not matter there.
      expect(load().keys).toHaveLength(1);
    }
  });

  it.each(['alert', 'dry-run', 'remediate'])(
    'in %s mode, a document no administrator could change any more (KMS305) fails the load, as validate refuses it',
    (mode) => {
      // Prepare: the key's users may encrypt and decrypt, but nobody may call kms:PutKeyPolicy.
      files.write(
        'a.json',
        JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: 'arn:{{Partition}}:iam::{{AccountId}}:role/App' },
              Action: ['kms:Encrypt', 'kms:Decrypt'],
              Resource: '*',
            },
          ],
        }),
      );
      const file = files.write(
        'manifest.yaml',
        `keys:\n  - name: a\n    match: { alias: alias/a }\n    mode: ${mode}\n    policy: a.json\n`,
      );

      // Act
      const error = loadError(file);

      // Assess
      expect(error.problems).toContainEqual(
        expect.stringMatching(
          /a\.json: KMS305 \$\.Statement: Lockout risk: .* — refused: the guard never applies a policy that could lock out its administrators or itself \(keys\[0\] \(a\)\.policy\)$/,
        ),
      );
    },
  );

  describe("lockout refusals are on the key's known account (issue 11.1)", () => {
    const PARTNER_ROOT = 'arn:aws:iam::444455556666:root';
    /** Literal accounts only: the key's owner 999988887777 is named once, the partner three times. */
    const sharedKey = (owner: string) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: `arn:aws:iam::${owner}:root` },
            Action: 'kms:*',
            Resource: '*',
          },
          {
            Effect: 'Allow',
            Principal: {
              AWS: [PARTNER_ROOT, 'arn:aws:iam::444455556666:role/Etl', 'arn:aws:iam::444455556666:role/Bi'],
            },
            Action: ['kms:Decrypt', 'kms:DescribeKey'],
            Resource: '*',
          },
        ],
      });

    it('a key matched by ARN is validated for the account of its ARN', () => {
      // Prepare
      files.write('a.json', sharedKey('999988887777'));
      const file = files.write(
        'manifest.yaml',
        'keys:\n  - name: a\n    match: { keyArn: "arn:aws:kms:eu-west-1:999988887777:key/1234abcd-12ab-34cd-56ef-1234567890ab" }\n    mode: alert\n    policy: a.json\n',
      );
      // Act
      const loaded = loadManifest(file);
      // Assess: no KMS303/KMS304 against the owner either
      expect(loaded.keys).toHaveLength(1);
      expect(loaded.warnings).toEqual([]);
    });

    it('a key matched by ARN whose document leaves its own account no administrator is refused', () => {
      // Prepare: the owner named in the document is not the account of the key's ARN
      files.write('a.json', sharedKey('999988887777'));
      const file = files.write(
        'manifest.yaml',
        'keys:\n  - name: a\n    match: { keyArn: "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab" }\n    mode: alert\n    policy: a.json\n',
      );
      // Act
      const error = loadError(file);
      // Assess
      expect(error.problems).toContainEqual(
        expect.stringContaining(
          'KMS305 $.Statement: Lockout risk: no Allow statement keeps the account root or a named administrator (arn:aws:iam::123456789012:root)',
        ),
      );
    });

    it('a literal document matched by alias loads: its key account is inferred, never guessed into a refusal', () => {
      // Prepare
      files.write('a.json', sharedKey('999988887777'));
      const file = files.write(
        'manifest.yaml',
        'keys:\n  - name: a\n    match: { alias: alias/a }\n    mode: alert\n    policy: a.json\n',
      );
      // Act
      const loaded = loadManifest(file);
      // Assess
      expect(loaded.keys).toHaveLength(1);
      expect(loaded.warnings).toEqual([]);
    });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

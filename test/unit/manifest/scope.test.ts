/**
 * Manifest scope (docs/manifest.md#scope): entries limited to accounts (IDs or OUs) and Regions, validated
 * with clear errors; two entries may share a matcher only when their scopes cannot meet; a key sees only
 * the entries whose scope holds its account and Region, OUs looked up only when an entry names one.
 */
import { inScope, loadManifest, ManifestError, scopedManifest } from '../../../src/manifest';
import { type ManifestDir, makeManifestDir, VALID_POLICY } from './fixtures';

const A = '111122223333';
const B = '444455556666';
const OU = 'ou-ab12-prod0001';

function problemsOf(file: string): readonly string[] {
  try {
    loadManifest(file);
  } catch (error) {
    if (error instanceof ManifestError) return error.problems;
    throw error;
  }
  throw new Error('loadManifest accepted an invalid manifest');
}

describe('inScope', () => {
  it.each([
    ['no scope', {}, { accountId: A, region: 'eu-west-1' }, [], true],
    ['its account', { accounts: [A] }, { accountId: A, region: 'eu-west-1' }, [], true],
    ['another account', { accounts: [A] }, { accountId: B, region: 'eu-west-1' }, [], false],
    ['an account in its OU', { accounts: [OU] }, { accountId: B, region: 'eu-west-1' }, [OU], true],
    [
      'an account outside its OU',
      { accounts: [OU] },
      { accountId: B, region: 'eu-west-1' },
      ['ou-ab12-other001'],
      false,
    ],
    ['its Region', { regions: ['eu-west-1'] }, { accountId: A, region: 'eu-west-1' }, [], true],
    ['another Region', { regions: ['eu-west-1'] }, { accountId: A, region: 'us-east-1' }, [], false],
    [
      'its account in another Region',
      { accounts: [A], regions: ['eu-west-1'] },
      { accountId: A, region: 'us-east-1' },
      [],
      false,
    ],
  ])('%s → %s', (_, entry, location, ous, expected) => {
    // Act
    const verdict = inScope(entry, location, ous);

    // Assess
    expect(verdict).toBe(expected);
  });
});

describe('scope in the manifest', () => {
  let files: ManifestDir;

  beforeEach(() => {
    files = makeManifestDir();
    files.write('a.json', VALID_POLICY);
    files.write('b.json', VALID_POLICY);
  });

  afterEach(() => files.remove());

  it('rejects account values that are neither an account ID nor an OU ID, unquoted IDs, bad Regions and empty lists', () => {
    // Prepare
    const file = files.write(
      'manifest.yaml',
      [
        'keys:',
        '  - { name: a, match: { alias: alias/a }, mode: alert, policy: a.json, accounts: ["12345", 111122223333, "ou-x"], regions: ["Ireland"] }',
        '  - { name: b, match: { alias: alias/b }, mode: alert, policy: b.json, accounts: [], regions: [] }',
      ].join('\n'),
    );

    // Act
    const problems = problemsOf(file);

    // Assess
    expect(problems.map((problem) => problem.slice(file.length + 2))).toEqual([
      'keys[0] (a).accounts[0]: accounts: "12345" is neither a 12-digit account ID nor an OU ID (ou-ab12-34cd56ef)',
      'keys[0] (a).accounts[1]: accounts must be quoted strings (YAML would turn 012345678901 into a number)',
      'keys[0] (a).accounts[2]: accounts: "ou-x" is neither a 12-digit account ID nor an OU ID (ou-ab12-34cd56ef)',
      'keys[0] (a).regions[0]: regions: "Ireland" is not a Region name (eu-west-1)',
      'keys[1] (b).accounts: accounts must list at least one account ID or OU ID (leave it out to mean every account)',
      'keys[1] (b).regions: regions must list at least one Region (leave it out to mean every guarded Region)',
    ]);
  });

  it('lets two entries share an alias when their accounts or Regions cannot meet, and refuses it when they can', () => {
    // Prepare
    const disjoint = files.write(
      'disjoint.yaml',
      [
        'keys:',
        `  - { name: a, match: { alias: alias/x }, mode: alert, policy: a.json, accounts: ["${A}"] }`,
        `  - { name: b, match: { alias: alias/x }, mode: alert, policy: b.json, accounts: ["${B}"] }`,
      ].join('\n'),
    );
    const overlapping = files.write(
      'overlapping.yaml',
      [
        'keys:',
        `  - { name: a, match: { alias: alias/x }, mode: alert, policy: a.json, accounts: ["${A}"] }`,
        `  - { name: b, match: { alias: alias/x }, mode: alert, policy: b.json, accounts: ["${OU}"] }`,
      ].join('\n'),
    );

    // Act
    const loaded = loadManifest(disjoint);
    const problems = problemsOf(overlapping);

    // Assess
    expect(loaded.keys.map((key) => [key.name, key.accounts])).toEqual([
      ['a', [A]],
      ['b', [B]],
    ]);
    expect(problems).toEqual([
      `${overlapping}: keys[1] (b).match: can match the same alias alias/x as keys[0] (a)`,
    ]);
  });

  it('gives each key only the entries whose scope holds it, asking for OUs only when an entry names one', async () => {
    // Prepare
    const file = files.write(
      'manifest.yaml',
      [
        'keys:',
        `  - { name: a, match: { alias: alias/x }, mode: alert, policy: a.json, accounts: ["${OU}"], regions: [eu-west-1] }`,
        `  - { name: b, match: { alias: alias/x }, mode: alert, policy: b.json, regions: [us-east-1] }`,
      ].join('\n'),
    );
    const manifest = loadManifest(file);
    const asked: string[] = [];
    const ousOf = async (accountId: string) => {
      asked.push(accountId);
      return accountId === A ? [OU] : [];
    };

    // Act
    const inOu = await scopedManifest(manifest, { accountId: A, region: 'eu-west-1' }, ousOf);
    const outsideOu = await scopedManifest(manifest, { accountId: B, region: 'eu-west-1' }, ousOf);
    const otherRegion = await scopedManifest(manifest, { accountId: B, region: 'us-east-1' }, ousOf);
    const noLookup = await scopedManifest(manifest, { accountId: A, region: 'eu-west-1' }).catch(
      (error: unknown) => error,
    );

    // Assess
    expect(inOu.keys.map((key) => key.name)).toEqual(['a']);
    expect(outsideOu.keys.map((key) => key.name)).toEqual([]);
    expect(otherRegion.keys.map((key) => key.name)).toEqual(['b']);
    expect(asked).toEqual([A, B, B]);
    expect(noLookup).toBeInstanceOf(ManifestError);
  });
});

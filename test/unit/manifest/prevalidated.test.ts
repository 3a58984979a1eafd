/**
 * The manifest validated at package time (docs/architecture.md#the-manifest-validated-at-package-time): the
 * package's result is used only for files byte for byte as validated; anything else is validated in full at init.
 */
import { ManifestError } from '../../../src/manifest';
import { loadManifest } from '../../../src/manifest/load';
import { prevalidateManifest } from '../../../src/manifest/prevalidate';
import { loadManifestPrevalidated } from '../../../src/manifest/prevalidated';
import { type ManifestDir, makeManifestDir, VALID_POLICY } from './fixtures';

const MANIFEST = [
  'unmanagedKeys: ignore',
  'keys:',
  '  - name: a',
  '    match: { alias: alias/a }',
  '    mode: alert',
  '    policy: a.json',
  '  - name: b',
  '    match: { alias: alias/b }',
  '    mode: remediate',
  '    policy: docs/b.json',
  '  - name: c',
  '    match: { alias: alias/c }',
  '    mode: alert',
  '    policy: a.json',
  '',
].join('\n');

/** A desired document with a statement the validator refuses (an error, not a warning). */
const INVALID_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Maybe', Principal: '*', Action: 'kms:*', Resource: '*' }],
});

async function loadError(load: () => unknown): Promise<ManifestError> {
  try {
    await load();
  } catch (error) {
    if (error instanceof ManifestError) return error;
    throw error;
  }
  throw new Error('the manifest was accepted');
}

describe('the manifest validated at package time', () => {
  let files: ManifestDir;
  let manifestFile: string;

  beforeEach(() => {
    files = makeManifestDir();
    files.write('a.json', VALID_POLICY);
    files.write('docs/b.json', VALID_POLICY);
    manifestFile = files.write('manifest.yaml', MANIFEST);
  });

  afterEach(() => files.remove());

  it('records what loadManifest returns, and the SHA-256 of the manifest and of each document once', async () => {
    // Act
    const validated = prevalidateManifest(manifestFile);

    // Assess
    const { path: _path, ...loaded } = loadManifest(manifestFile);
    expect(validated.manifest).toEqual(loaded);
    expect(validated.manifestSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(validated.documents.map((document) => document.file)).toEqual(['a.json', 'docs/b.json']);
    expect(JSON.parse(JSON.stringify(validated))).toEqual(validated);
  });

  it('refuses an invalid manifest as loadManifest does (the package step fails on it)', async () => {
    // Prepare
    files.write('docs/b.json', INVALID_POLICY);

    // Act
    const error = await loadError(() => prevalidateManifest(manifestFile));

    // Assess
    expect(error.message).toContain('manifest is invalid');
    expect(error.problems.join('\n')).toContain('docs/b.json');
  });

  it('uses the recorded result for unchanged files, with the path where the function finds them', async () => {
    // Prepare
    const packaged = [prevalidateManifest(manifestFile)];

    // Act
    const manifest = await loadManifestPrevalidated(manifestFile, packaged);

    // Assess
    expect(manifest).toEqual(loadManifest(manifestFile));
  });

  it('returns the recorded result itself while the files are unchanged (nothing is parsed or validated)', async () => {
    // Prepare: a recorded result told apart from what loadManifest would return
    const recorded = prevalidateManifest(manifestFile);
    recorded.manifest.flapping = { maxReapplies: 9, windowMinutes: 9 };

    // Act
    const manifest = await loadManifestPrevalidated(manifestFile, [recorded]);

    // Assess
    expect(manifest.flapping).toEqual({ maxReapplies: 9, windowMinutes: 9 });
    expect(manifest.path).toBe(loadManifest(manifestFile).path);
  });

  it('validates in full when a document changed after packaging, and fails on an invalid one', async () => {
    // Prepare
    const packaged = [prevalidateManifest(manifestFile)];
    files.write('docs/b.json', INVALID_POLICY);

    // Act
    const error = await loadError(() => loadManifestPrevalidated(manifestFile, packaged));

    // Assess
    expect(error.problems.join('\n')).toContain('docs/b.json');
  });

  it('validates in full when the manifest changed after packaging, and fails on an invalid one', async () => {
    // Prepare
    const packaged = [prevalidateManifest(manifestFile)];
    files.write('manifest.yaml', MANIFEST.replace('mode: alert', 'mode: sometimes'));

    // Act
    const error = await loadError(() => loadManifestPrevalidated(manifestFile, packaged));

    // Assess
    expect(error.message).toContain('manifest is invalid');
  });

  it('takes a valid changed manifest as loadManifest does, never the recorded result', async () => {
    // Prepare
    const packaged = [prevalidateManifest(manifestFile)];
    files.write('manifest.yaml', MANIFEST.replace('unmanagedKeys: ignore', 'unmanagedKeys: report'));

    // Act
    const manifest = await loadManifestPrevalidated(manifestFile, packaged);

    // Assess
    expect(manifest.unmanagedKeys).toBe('report');
    expect(manifest).toEqual(loadManifest(manifestFile));
  });

  it('validates in full when a document is missing, and fails', async () => {
    // Prepare
    const packaged = [prevalidateManifest(manifestFile)];
    files.remove();

    // Act
    const error = await loadError(() => loadManifestPrevalidated(manifestFile, packaged));

    // Assess
    expect(error.message).toContain('cannot read manifest');
  });

  it('validates in full without a packaged result (tests, CLI, demo: src/manifest/packaged.ts is empty)', async () => {
    // Act
    const manifest = await loadManifestPrevalidated(manifestFile);

    // Assess
    expect(manifest).toEqual(loadManifest(manifestFile));
  });
});

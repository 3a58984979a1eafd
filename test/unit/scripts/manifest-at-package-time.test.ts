/**
 * scripts/esbuild-plugins.cjs manifest-validated-at-package-time (docs/architecture.md#the-manifest-validated-at-package-time):
 * the package step validates the manifest the functions load, fails on an invalid one, and puts the validated
 * result in the bundle in place of src/manifest/packaged.ts. Run in a child process, as serverless-esbuild runs it.
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { type ManifestDir, makeManifestDir, VALID_POLICY } from '../manifest/fixtures';

const ROOT = resolve(__dirname, '../../..');

/** Bundles src/manifest/packaged.ts with the plugins as serverless-esbuild would for a function loading `manifest`. */
const BUILD = `
const esbuild = require('esbuild');
const plugins = require('./scripts/esbuild-plugins.cjs')({
  serviceDir: process.cwd(),
  service: { functions: { drift: { environment: { MANIFEST_PATH: process.argv[1] } } } },
});
esbuild
  .build({ entryPoints: ['src/manifest/packaged.ts'], bundle: true, write: false, format: 'cjs', platform: 'node',
    logLevel: 'silent', plugins: plugins.filter((plugin) => plugin.name === 'manifest-validated-at-package-time') })
  .then((result) => process.stdout.write(result.outputFiles[0].text), (error) => {
    process.stderr.write(error.message);
    process.exit(3);
  });
`;

function bundle(manifest: string): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, ['-e', BUILD, manifest], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, KMS_GUARD_PACKAGE_MANIFESTS: '' },
    });
    return { code: 0, stdout, stderr: '' };
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string };
    return { code: failed.status, stdout: failed.stdout, stderr: failed.stderr };
  }
}

describe('the manifest validated at package time (esbuild plugin)', () => {
  let files: ManifestDir;
  let manifestFile: string;

  beforeEach(() => {
    files = makeManifestDir();
    files.write('a.json', VALID_POLICY);
    manifestFile = files.write(
      'manifest.yaml',
      'keys:\n  - name: a\n    match: { alias: alias/a }\n    mode: alert\n    policy: a.json\n',
    );
  });

  afterEach(() => files.remove());

  it('puts the validated manifest and its digests in the bundle', () => {
    // Act
    const built = bundle(manifestFile);

    // Assess
    expect(built.code).toBe(0);
    expect(built.stdout).toContain('manifestSha256');
    expect(built.stdout).toContain('"name": "a"');
    expect(built.stdout).toContain('"file": "a.json"');
  });

  it('fails the package on an invalid manifest, naming the problem', () => {
    // Prepare
    files.write('a.json', JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Maybe' }] }));

    // Act
    const built = bundle(manifestFile);

    // Assess
    expect(built.code).toBe(3);
    expect(built.stderr).toContain('the manifest is invalid, nothing packaged');
    expect(built.stderr).toContain('a.json');
  });

  it('fails the package when the manifest is missing', () => {
    // Act
    const built = bundle(`${manifestFile}.missing`);

    // Assess
    expect(built.code).toBe(3);
    expect(built.stderr).toContain('cannot read manifest');
  });
});

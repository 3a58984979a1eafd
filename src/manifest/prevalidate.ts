/**
 * The package step's half of the manifest validated at package time
 * (docs/architecture.md#the-manifest-validated-at-package-time): scripts/esbuild-plugins.cjs calls
 * prevalidateManifest and puts its result in the bundles (src/manifest/packaged.ts); ./prevalidated.ts uses it at init.
 */
import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { ManifestError } from './errors';
import { loadManifest } from './load';
import { type PrevalidatedManifest, sha256Of } from './prevalidated';

function sha256OfText(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** loadManifest (throws its ManifestError on an invalid manifest), with the digests of what it read. */
export function prevalidateManifest(path: string): PrevalidatedManifest {
  const file = resolve(path);
  const before = sha256Of(file);
  const { path: _path, ...manifest } = loadManifest(file);
  // The manifest must not change while it is validated, so that its digest describes what loadManifest read;
  // a document's digest is that of the very text loadManifest validated (policyTemplate).
  if (before === undefined || sha256Of(file) !== before) {
    throw new ManifestError(`${file}: changed while it was validated; package again`);
  }
  const documents = new Map<string, string>();
  for (const key of manifest.keys) documents.set(key.policyFile, sha256OfText(key.policyTemplate));
  return {
    manifestSha256: before,
    documents: [...documents].map(([documentFile, sha256]) => ({ file: documentFile, sha256 })),
    manifest,
  };
}

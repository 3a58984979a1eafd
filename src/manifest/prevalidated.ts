/**
 * A manifest validated once, when the Lambda package is built, instead of at every cold start
 * (docs/architecture.md#the-manifest-validated-at-package-time).
 *
 * prevalidateManifest runs the full loadManifest (YAML, schema, matchers, every desired document) and records
 * its result with the SHA-256 of the manifest file and of every desired document it names. At init,
 * loadManifestPrevalidated hashes the files at MANIFEST_PATH: when the manifest and every document are byte for
 * byte what was validated, the recorded result is the result loadManifest would return (it depends on nothing
 * else: same files, same code, no environment), so it is used as is. Any difference (a file edited in the zip, a
 * manifest the package step never saw, a missing file) and the manifest is loaded and validated in full, exactly
 * as before: an invalid one still fails the function's init.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ManifestError } from './errors';
import { loadManifest } from './load';
import { PACKAGED_MANIFESTS } from './packaged';
import type { LoadedManifest } from './types';

export interface PrevalidatedManifest {
  /** SHA-256 (hex) of the manifest file's bytes. */
  manifestSha256: string;
  /** Every desired document the manifest names: its path as written (relative to the manifest), its SHA-256. */
  documents: { file: string; sha256: string }[];
  /** What loadManifest returned, but its path (wherever the function finds the manifest). */
  manifest: Omit<LoadedManifest, 'path'>;
}

function sha256Of(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

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

/** Whether the files at `file` are byte for byte the ones `candidate` was validated from. */
function unchanged(file: string, candidate: PrevalidatedManifest): boolean {
  if (sha256Of(file) !== candidate.manifestSha256) return false;
  const dir = dirname(file);
  return candidate.documents.every((document) => sha256Of(resolve(dir, document.file)) === document.sha256);
}

/**
 * The Lambda functions' manifest load: the package's validated result when the files are unchanged, else the
 * full loadManifest (which throws ManifestError on an invalid manifest, failing init).
 */
export function loadManifestPrevalidated(
  path: string,
  packaged: readonly PrevalidatedManifest[] = PACKAGED_MANIFESTS,
): LoadedManifest {
  const file = resolve(path);
  const validated = packaged.find((candidate) => unchanged(file, candidate));
  if (validated) return { ...structuredClone(validated.manifest), path: file };
  return loadManifest(file);
}

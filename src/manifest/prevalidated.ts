/**
 * A manifest validated once, when the Lambda package is built, instead of at every cold start
 * (docs/architecture.md#the-manifest-validated-at-package-time).
 *
 * prevalidateManifest (./prevalidate.ts, the package step) runs the full loadManifest (YAML, schema, matchers, every desired document) and records
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

export function sha256Of(file: string): string | undefined {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return undefined;
  }
}

/** Whether the files at `file` are byte for byte the ones `candidate` was validated from. */
function unchanged(file: string, candidate: PrevalidatedManifest): boolean {
  if (sha256Of(file) !== candidate.manifestSha256) return false;
  const dir = dirname(file);
  return candidate.documents.every((document) => sha256Of(resolve(dir, document.file)) === document.sha256);
}

/**
 * The Lambda functions' manifest load: the package's validated result when the files are unchanged, else the
 * full loadManifest (which throws ManifestError on an invalid manifest, failing init). The loader (YAML parser,
 * manifest schema) is imported only then: with the bundles' code splitting, a chunk compiled on that path only.
 */
export async function loadManifestPrevalidated(
  path: string,
  packaged: readonly PrevalidatedManifest[] = PACKAGED_MANIFESTS,
): Promise<LoadedManifest> {
  const file = resolve(path);
  const validated = packaged.find((candidate) => unchanged(file, candidate));
  if (validated) return { ...structuredClone(validated.manifest), path: file };
  const { loadManifest } = await import('./load');
  return loadManifest(file);
}

/**
 * The manifests validated when the Lambda package was built (docs/architecture.md#the-manifest-validated-at-package-time).
 * Empty as written here, so the tests, the CLI and the demo always validate at load. In each Lambda bundle,
 * scripts/esbuild-plugins.cjs (manifest-validated-at-package-time) replaces this module with the outcome of
 * prevalidateManifest (./prevalidate.ts) on the manifest the functions load, and fails the package when that
 * manifest is invalid. loadManifestPrevalidated uses an entry only when the files the function finds are byte for
 * byte the ones validated.
 */
import type { PrevalidatedManifest } from './prevalidated';

export const PACKAGED_MANIFESTS: readonly PrevalidatedManifest[] = [];

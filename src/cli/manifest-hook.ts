/**
 * The one place the CLI reaches into src/manifest. It is loaded on demand, so `validate` keeps
 * working for policy files even where manifest support is missing or broken, and it is checked
 * at runtime rather than trusted (it is another module's contract).
 */
import { basename } from 'node:path';
import type { ValidationFinding } from '../policy/types';

const MANIFEST_NAMES = new Set(['manifest.yaml', 'manifest.yml', 'manifest.json']);

export interface ManifestWarningView {
  key: string;
  policyFile: string;
  finding: ValidationFinding;
}

export type ManifestCheck =
  | { status: 'valid'; keys: number; warnings: ManifestWarningView[] }
  | { status: 'invalid'; message: string; problems: string[] }
  | { status: 'unavailable'; message: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A manifest by name, or a JSON/YAML document with a top-level `keys` list. */
export async function looksLikeManifest(path: string, text: string): Promise<boolean> {
  if (MANIFEST_NAMES.has(basename(path).toLowerCase())) return true;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    if (!/\.ya?ml$/i.test(path)) return false;
    try {
      const { parse } = await import('yaml');
      parsed = parse(text);
    } catch {
      return false;
    }
  }
  return isRecord(parsed) && Array.isArray(parsed.keys);
}

function loadManifestModule(): Record<string, unknown> | undefined {
  // require (not import): resolved relative to this file by tsx and Jest alike, and a missing
  // module is a normal outcome here, not a build error.
  const specifier = '../manifest/index';
  try {
    const loaded: unknown = require(specifier);
    return isRecord(loaded) ? loaded : undefined;
  } catch {
    return undefined;
  }
}

function warningsOf(loaded: unknown): ManifestWarningView[] {
  if (!isRecord(loaded) || !Array.isArray(loaded.warnings)) return [];
  return loaded.warnings.filter(
    (warning): warning is ManifestWarningView =>
      isRecord(warning) && typeof warning.key === 'string' && isRecord(warning.finding),
  );
}

/** Loads and validates a manifest (and every desired document it names) through src/manifest. */
export async function checkManifest(path: string): Promise<ManifestCheck> {
  const loadManifest = loadManifestModule()?.loadManifest;
  if (typeof loadManifest !== 'function') {
    return { status: 'unavailable', message: 'manifest support not available' };
  }
  try {
    const loaded: unknown = await loadManifest(path);
    const keys = isRecord(loaded) && Array.isArray(loaded.keys) ? loaded.keys.length : 0;
    return { status: 'valid', keys, warnings: warningsOf(loaded) };
  } catch (error) {
    if (!(error instanceof Error)) return { status: 'invalid', message: String(error), problems: [] };
    const problems = Reflect.get(error, 'problems');
    const list = Array.isArray(problems) ? problems.filter((p): p is string => typeof p === 'string') : [];
    const firstLine = error.message.split('\n')[0] ?? error.message;
    return { status: 'invalid', message: firstLine, problems: list };
  }
}

/** Builds throwaway manifests in a temp directory for the manifest tests. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ACCOUNT_ROOT_STATEMENT,
  GUARD_READ_AND_RESTORE_STATEMENT,
  policyTemplate,
} from '../support/policy-templates';

/** A small valid key policy with the guard statement, as the shipped documents have it. */
export const VALID_POLICY = JSON.stringify(
  policyTemplate(ACCOUNT_ROOT_STATEMENT, GUARD_READ_AND_RESTORE_STATEMENT),
  null,
  2,
);

export interface ManifestDir {
  dir: string;
  /** Writes a file relative to the directory (creating folders) and returns its absolute path. */
  write(name: string, text: string): string;
  remove(): void;
}

export function makeManifestDir(): ManifestDir {
  const dir = mkdtempSync(join(tmpdir(), 'kms-guard-manifest-'));
  return {
    dir,
    write(name, text) {
      const file = join(dir, name);
      mkdirSync(join(file, '..'), { recursive: true });
      writeFileSync(file, text);
      return file;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

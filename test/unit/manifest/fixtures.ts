/** Builds throwaway manifests in a temp directory for the manifest tests. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A small valid key policy with the guard statement, as the shipped documents have it. */
export const VALID_POLICY = JSON.stringify(
  {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Enable IAM policies',
        Effect: 'Allow',
        Principal: { AWS: 'arn:{{Partition}}:iam::{{AccountId}}:root' },
        Action: 'kms:*',
        Resource: '*',
      },
      {
        Sid: 'Allow kms-policy-guard to read and restore this policy',
        Effect: 'Allow',
        Principal: { AWS: 'arn:{{Partition}}:iam::{{AccountId}}:role/kms-policy-guard-{{Region}}' },
        Action: ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:PutKeyPolicy'],
        Resource: '*',
      },
    ],
  },
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

/**
 * A small KMS account behind aws-sdk-client-mock for the CLI's audit and apply tests: every KMS client
 * the CLI builds is mocked (class-level), and the mocks answer from a map that PutKeyPolicy changes,
 * so a restore is read back as written. Also: running the CLI with a chosen stderr terminal flag.
 */
import { join } from 'node:path';
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
} from '@aws-sdk/client-kms';
import { SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { run } from '../../../src/cli/main';
import { capturingIo } from '../../../src/cli/output';
import { withCrossAccountDecrypt } from '../support/drift';

export const kms = mockClient(KMSClient);
export const sns = mockClient(SNSClient);

export const ACCOUNT = '111122223333';
export const REGION = 'us-west-2';
export const GUARD_FIXTURES = join(__dirname, '..', 'guard', 'fixtures');
export const FIXTURE_MANIFEST = join(GUARD_FIXTURES, 'manifest.yaml');
export const arnOf = (keyId: string): string => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`;

export interface AccountKey {
  keyId: string;
  policy: string;
  tags?: Record<string, string>;
  aliases?: string[];
  manager?: 'CUSTOMER' | 'AWS';
  state?: string;
  grants?: { GrantId: string; GranteePrincipal: string; Operations: string[] }[];
}

/** Mocks KMS as an account holding `keys`; returns the live map (PutKeyPolicy writes into it). */
export function mockAccount(keys: AccountKey[]): Map<string, AccountKey> {
  const byId = new Map(keys.map((key) => [key.keyId, { ...key }]));
  const find = (keyId: string | undefined): AccountKey => {
    const id = keyId?.startsWith('arn:') ? keyId.slice(keyId.lastIndexOf('/') + 1) : keyId;
    const key = id === undefined ? undefined : byId.get(id);
    if (!key) {
      throw Object.assign(new Error(`Key '${keyId}' does not exist`), {
        name: 'NotFoundException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400 },
      });
    }
    return key;
  };
  kms.on(ListKeysCommand).callsFake(() => ({
    Keys: [...byId.keys()].map((keyId) => ({ KeyId: keyId, KeyArn: arnOf(keyId) })),
    Truncated: false,
  }));
  kms.on(ListAliasesCommand).callsFake(() => ({
    Aliases: [...byId.values()].flatMap((key) =>
      (key.aliases ?? []).map((alias) => ({ AliasName: alias, TargetKeyId: key.keyId })),
    ),
    Truncated: false,
  }));
  kms.on(ListResourceTagsCommand).callsFake((input: { KeyId?: string }) => ({
    Tags: Object.entries(find(input.KeyId).tags ?? {}).map(([TagKey, TagValue]) => ({ TagKey, TagValue })),
    Truncated: false,
  }));
  kms.on(DescribeKeyCommand).callsFake((input: { KeyId?: string }) => {
    const key = find(input.KeyId);
    return {
      KeyMetadata: {
        KeyId: key.keyId,
        Arn: arnOf(key.keyId),
        KeyState: key.state ?? 'Enabled',
        KeyManager: key.manager ?? 'CUSTOMER',
        MultiRegion: false,
      },
    };
  });
  kms
    .on(GetKeyPolicyCommand)
    .callsFake((input: { KeyId?: string }) => ({ Policy: find(input.KeyId).policy }));
  kms.on(ListGrantsCommand).callsFake((input: { KeyId?: string }) => ({
    Grants: find(input.KeyId).grants ?? [],
    Truncated: false,
  }));
  kms.on(PutKeyPolicyCommand).callsFake((input: { KeyId?: string; Policy?: string }) => {
    find(input.KeyId).policy = input.Policy ?? '';
    return {};
  });
  return byId;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kms-guard in-process; not a terminal on stdout; stderr a terminal only when asked. */
export async function runKmsGuard(argv: string[], settings: { stderrIsTTY?: boolean } = {}): Promise<CliRun> {
  const { io, captured } = capturingIo({
    env: { AWS_REGION: REGION },
    stdoutIsTTY: false,
    stderrIsTTY: settings.stderrIsTTY ?? false,
  });
  const code = await run(argv, io);
  return { code, ...captured };
}

export function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

/** A drifted live policy: `policy` plus a cross-account decrypt statement. */
export const drifted = withCrossAccountDecrypt;

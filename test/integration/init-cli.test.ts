/**
 * `kms-guard init` end to end against moto (issue 11, deliverable 7): an account of 50 keys (aliases,
 * tags, shared keys, one AWS managed key, one pending deletion) adopted, then `kms-guard audit` on
 * what init wrote finds every key in sync. The CLI runs in-process.
 *
 * init adopts every key of an account and Region, and other test files share this moto server (in
 * us-east-1 and eu-west-1): this file keeps its keys in a Region of its own, so it sees exactly them.
 * moto cannot create an AWS managed key; DescribeKey on a reserved alias (`alias/aws/ebs`) makes moto
 * create a key carrying that alias, which is how the guard recognises AWS managed keys cheaply.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListAliasesCommand,
  ScheduleKeyDeletionCommand,
  type Tag,
} from '@aws-sdk/client-kms';
import { run } from '../../src/cli/main';
import { capturingIo } from '../../src/cli/output';
import type { AuditJson } from '../../src/cli/report/audit-json';
import { loadManifest, renderDesiredPolicy } from '../../src/manifest';
import { comparePolicies } from '../../src/policy/compare';
import { MOTO_ACCOUNT_ID, motoEndpoint } from './moto-env';

const REGION = 'ap-southeast-2';
const ACCOUNT = MOTO_ACCOUNT_ID;
const OTHER_ACCOUNT = '444455556666';
const LOCATION = { partition: 'aws', region: REGION, accountId: ACCOUNT };
const CUSTOMER_KEYS = 48;

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

async function kmsGuard(argv: string[]): Promise<CliRun> {
  const { io, captured } = capturingIo({ env: {}, stdoutIsTTY: false, stderrIsTTY: false });
  const code = await run(argv, io);
  return { code, ...captured };
}

const root = (account: string) => `arn:aws:iam::${account}:root`;

/** A key shared with another account, with every kind of value init must keep literal or template. */
function sharedPolicy(n: number): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: `shared-${n}`,
    Statement: [
      {
        Sid: 'Enable IAM policies',
        Effect: 'Allow',
        Principal: { AWS: root(ACCOUNT) },
        Action: 'kms:*',
        Resource: '*',
      },
      {
        Sid: 'Analytics account may decrypt through S3',
        Effect: 'Allow',
        Principal: { AWS: [root(OTHER_ACCOUNT), `arn:aws:iam::${OTHER_ACCOUNT}:role/Analytics`] },
        Action: ['kms:Decrypt', 'kms:DescribeKey'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:ViaService': `s3.${REGION}.amazonaws.com` } },
      },
      {
        Sid: 'Own users, own account only',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/\${aws:username}` },
        Action: 'kms:Encrypt',
        Resource: '*',
        Condition: {
          StringEquals: { 'kms:CallerAccount': ACCOUNT, 'kms:EncryptionContext:ledger': ACCOUNT },
        },
      },
      {
        Sid: 'CloudWatch Logs of this account',
        Effect: 'Allow',
        Principal: { Service: `logs.${REGION}.amazonaws.com` },
        Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:GenerateDataKey*'],
        Resource: '*',
        Condition: {
          ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:*` },
        },
      },
    ],
  });
}

/** Key administrators and the guard role, as the shipped documents have them. */
function administeredPolicy(): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: root(ACCOUNT) }, Action: 'kms:*', Resource: '*' },
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/KMSAdminRole` },
        Action: 'kms:*',
        Resource: '*',
      },
      {
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/kms-policy-guard-${REGION}` },
        Action: ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:PutKeyPolicy'],
        Resource: '*',
      },
    ],
  });
}

function aliasesFor(n: number): string[] {
  if (n === 45) return ['alias/team/payments'];
  if (n === 46) return ['alias/Dup-name'];
  if (n === 47) return ['alias/dup-name'];
  if (n % 3 === 0) return [`alias/init-${n}`];
  if (n % 3 === 1) return [`alias/zz-init-${n}`, `alias/init-${n}`];
  return [];
}

describe('kms-guard init against moto', () => {
  const kms = new KMSClient({
    endpoint: motoEndpoint(),
    region: REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  });
  const out = join(mkdtempSync(join(tmpdir(), 'kms-guard-init-')), 'policies');
  const common = () => ['--endpoint-url', motoEndpoint(), '--region', REGION];
  const shared = new Set<string>();
  let awsManagedKeyId = '';
  let retiredKeyId = '';

  beforeAll(async () => {
    for (let n = 0; n < CUSTOMER_KEYS; n++) {
      const policy = n % 4 === 1 ? sharedPolicy(n) : n % 4 === 2 ? administeredPolicy() : undefined;
      const tags: Tag[] | undefined =
        n % 2 === 0
          ? [
              { TagKey: 'team', TagValue: `team-${n % 5}` },
              { TagKey: 'cost-center', TagValue: String(n) },
            ]
          : undefined;
      const created = await kms.send(
        new CreateKeyCommand({ Policy: policy, Tags: tags, Description: `init ${n}` }),
      );
      const keyId = created.KeyMetadata?.KeyId ?? '';
      if (n % 4 === 1) shared.add(keyId);
      for (const alias of aliasesFor(n)) {
        await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
      }
    }
    awsManagedKeyId =
      (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/aws/ebs' }))).KeyMetadata?.KeyId ?? '';
    const retired = await kms.send(new CreateKeyCommand({ Description: 'init retired' }));
    retiredKeyId = retired.KeyMetadata?.KeyId ?? '';
    await kms.send(new CreateAliasCommand({ AliasName: 'alias/retired', TargetKeyId: retiredKeyId }));
    await kms.send(new ScheduleKeyDeletionCommand({ KeyId: retiredKeyId, PendingWindowInDays: 7 }));
  });

  afterAll(() => kms.destroy());

  it('adopts 48 of 50 keys, each document rendering back to its live policy, and audit then exits 0', async () => {
    // Prepare: the simulated AWS managed key is a real key with a reserved alias.
    const aliases = (await kms.send(new ListAliasesCommand({}))).Aliases ?? [];
    expect(aliases.find((alias) => alias.AliasName === 'alias/aws/ebs')?.TargetKeyId).toBe(awsManagedKeyId);

    // Act
    const init = await kmsGuard(['init', ...common(), '--out', out]);
    const audit = await kmsGuard(['audit', ...common(), '--manifest', join(out, 'manifest.yaml'), '--json']);

    // Assess: init
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    expect(init.stdout).toContain(
      '50 listed, 48 adopted, 1 AWS managed skipped, 1 not adopted (1 pending deletion), 0 would be refused',
    );
    expect(init.stdout).toMatch(
      new RegExp(`pending deletion +${retiredKeyId} +alias/retired +key state PendingDeletion`),
    );
    const manifest = loadManifest(join(out, 'manifest.yaml'));
    expect(manifest.keys).toHaveLength(CUSTOMER_KEYS);
    expect(manifest.unmanagedKeys).toBe('report');
    for (const entry of manifest.keys) {
      const keyId = entry.match.keyId ?? '';
      const live =
        (await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }))).Policy ?? '';
      expect({ keyId, status: comparePolicies(renderDesiredPolicy(entry, LOCATION), live).status }).toEqual({
        keyId,
        status: 'equivalent',
      });
      expect(entry.policyTemplate).not.toContain(REGION);
    }
    const names = manifest.keys.map((entry) => entry.name);
    expect(names).toEqual(
      expect.arrayContaining(['Dup-name', 'dup-name-2', 'team-payments', 'init-0', 'init-1']),
    );
    expect(names).not.toContain('zz-init-1');

    // Assess: a shared key keeps the other account and every value that only looks like its own
    const sharedEntry = manifest.keys.find((entry) => shared.has(entry.match.keyId ?? ''));
    const text = sharedEntry?.policyTemplate ?? '';
    expect(text).toContain(`"${root(OTHER_ACCOUNT)}"`);
    expect(text).toContain(`"arn:aws:iam::${OTHER_ACCOUNT}:role/Analytics"`);
    expect(text).toContain('"arn:{{Partition}}:iam::{{AccountId}}:root"');
    expect(text).toContain('"arn:{{Partition}}:iam::{{AccountId}}:user/${aws:username}"');
    expect(text).toContain('"kms:CallerAccount": "{{AccountId}}"');
    expect(text).toContain(`"kms:EncryptionContext:ledger": "${ACCOUNT}"`);
    expect(text).toContain('"s3.{{Region}}.amazonaws.com"');
    expect(text).toContain('"logs.{{Region}}.amazonaws.com"');
    expect(text).toContain('"arn:{{Partition}}:logs:{{Region}}:{{AccountId}}:log-group:*"');
    const manifestText = readFileSync(join(out, 'manifest.yaml'), 'utf8');
    expect(manifestText).toContain(`  # aliases: alias/init-1, alias/zz-init-1\n  - name: init-1\n`);

    // Assess: audit
    expect(audit.stderr).toBe('');
    expect(audit.code).toBe(0);
    const report = JSON.parse(audit.stdout) as AuditJson;
    expect(report.complete).toBe(true);
    expect(report.summary).toMatchObject({ inSync: CUSTOMER_KEYS, drift: 0, failed: 0, notChecked: 0 });
    expect(report.awsManagedSkipped).toBe(1);
  });

  it('refuses a second run without --force; with --force writes the same files again', async () => {
    // Prepare
    const before = readFileSync(join(out, 'manifest.yaml'), 'utf8');

    // Act
    const refused = await kmsGuard(['init', ...common(), '--out', out]);
    const forced = await kmsGuard(['init', ...common(), '--out', out, '--force']);

    // Assess
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `${join(out, 'manifest.yaml')}; nothing was written (pass --force to overwrite them)`,
    );
    expect(forced.code).toBe(0);
    expect(readFileSync(join(out, 'manifest.yaml'), 'utf8')).toBe(before);
  });
});

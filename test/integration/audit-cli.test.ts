/**
 * `kms-guard audit` and `kms-guard apply` end to end against moto: real KMS protocol, real adapters,
 * the CLI in-process. Keys get aliases and tags unique to this run, because other test files share
 * the same moto server (its other keys must neither appear nor break anything here).
 */

import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  GetKeyPolicyCommand,
  KMSClient,
  PutKeyPolicyCommand,
} from '@aws-sdk/client-kms';
import { run } from '../../src/cli/main';
import { capturingIo } from '../../src/cli/output';
import type { AuditJson } from '../../src/cli/report/audit-json';
import type { SarifLog } from '../../src/cli/report/sarif';
import { loadManifest, renderDesiredPolicy } from '../../src/manifest';
import { comparePolicies } from '../../src/policy/compare';
import { MOTO_ACCOUNT_ID, motoClientConfig, motoEndpoint } from './moto-env';

const REPO_POLICIES = join(__dirname, '..', '..', 'policies');
const RUN = randomBytes(4).toString('hex');
/** This file's own Region: its audits list every key there, and no other file creates keys in it. */
const REGION = 'ca-central-1';
const VALUES = { partition: 'aws', region: REGION, accountId: MOTO_ACCOUNT_ID };

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

/** A manifest like the shipped one, with this run's own aliases and tag values. */
function writeManifest(): string {
  const dir = mkdtempSync(join(tmpdir(), 'kms-guard-audit-cli-'));
  for (const file of ['payments-data.json', 'app-logs.json', 'shared-with-analytics.json']) {
    copyFileSync(join(REPO_POLICIES, file), join(dir, file));
  }
  const manifest = [
    'unmanagedKeys: report',
    'flapping: { maxReapplies: 3, windowMinutes: 60 }',
    'allowedAccounts: ["444455556666"]',
    'adminPrincipals: ["arn:{{Partition}}:iam::{{AccountId}}:role/KMSAdminRole"]',
    'keys:',
    '  - name: payments-data',
    `    match: { alias: alias/audit-cli-${RUN}-payments }`,
    '    mode: remediate',
    '    policy: payments-data.json',
    '  - name: app-logs',
    `    match: { tag: { key: kms-policy-guard, value: audit-cli-${RUN}-logs } }`,
    '    mode: alert',
    '    policy: app-logs.json',
    '  - name: shared-with-analytics',
    `    match: { alias: alias/audit-cli-${RUN}-shared }`,
    '    mode: alert',
    '    policy: shared-with-analytics.json',
  ].join('\n');
  const path = join(dir, 'manifest.yaml');
  writeFileSync(path, manifest);
  return path;
}

function tampered(policy: string): string {
  const document = JSON.parse(policy) as { Statement: unknown[] };
  document.Statement.push({
    Sid: 'Quick fix for the analytics team',
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::999988887777:root' },
    Action: ['kms:Decrypt', 'kms:DescribeKey'],
    Resource: '*',
  });
  return JSON.stringify(document, null, 2);
}

describe('kms-guard audit and apply against moto', () => {
  const kms = new KMSClient(motoClientConfig(REGION));
  let manifestPath = '';
  const keyIds: Record<string, string> = {};
  const desired: Record<string, string> = {};
  const common = () => ['--endpoint-url', motoEndpoint(), '--region', REGION, '--manifest', manifestPath];

  beforeAll(async () => {
    manifestPath = writeManifest();
    const manifest = loadManifest(manifestPath);
    for (const entry of manifest.keys) {
      desired[entry.name] = renderDesiredPolicy(entry, VALUES);
      const tags = entry.match.tag ? [{ TagKey: entry.match.tag.key, TagValue: entry.match.tag.value }] : [];
      const created = await kms.send(
        new CreateKeyCommand({ Policy: desired[entry.name], Tags: tags, Description: `audit-cli ${RUN}` }),
      );
      const keyId = created.KeyMetadata?.KeyId;
      if (!keyId) throw new Error('moto returned no key ID');
      keyIds[entry.name] = keyId;
      if (entry.match.alias) {
        await kms.send(new CreateAliasCommand({ AliasName: entry.match.alias, TargetKeyId: keyId }));
      }
    }
    // Someone "fixes" access for another account by hand.
    await kms.send(
      new PutKeyPolicyCommand({
        KeyId: keyIds['shared-with-analytics'],
        PolicyName: 'default',
        Policy: tampered(desired['shared-with-analytics'] ?? ''),
      }),
    );
  });

  afterAll(() => kms.destroy());

  it('audit --json finds the tampered key and reports the others in sync', async () => {
    // Act
    const result = await kmsGuard(['audit', ...common(), '--json', '--no-unmanaged']);

    // Assess
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout) as AuditJson;
    expect(json.complete).toBe(true);
    expect(json.summary).toEqual({ checked: 3, inSync: 2, drift: 1, failed: 0, notChecked: 0, unmanaged: 0 });
    const byName = Object.fromEntries(json.keys.map((key) => [key.name, key]));
    expect(byName['shared-with-analytics']).toMatchObject({
      keyId: keyIds['shared-with-analytics'],
      keyArn: `arn:aws:kms:${REGION}:${MOTO_ACCOUNT_ID}:key/${keyIds['shared-with-analytics']}`,
      aliases: [`alias/audit-cli-${RUN}-shared`],
      result: 'drift',
      severity: 'critical',
    });
    expect(byName['payments-data']).toMatchObject({ result: 'in-sync', mode: 'remediate' });
    expect(byName['app-logs']).toMatchObject({ result: 'in-sync', mode: 'alert' });
  });

  it('audit --format sarif is a SARIF 2.1.0 log with the drift located in its policy file', async () => {
    // Act
    const result = await kmsGuard(['audit', ...common(), '--format', 'sarif', '--no-unmanaged']);

    // Assess
    const log = JSON.parse(result.stdout) as SarifLog;
    expect(log.version).toBe('2.1.0');
    const drift = log.runs[0]?.results.find((item) => item.ruleId === 'drift');
    expect(drift?.locations[0]?.physicalLocation?.artifactLocation.uri).toMatch(
      /shared-with-analytics\.json$/,
    );
  });

  it('audit reports a missing drift rule as the guard being disabled', async () => {
    // Act
    const result = await kmsGuard([
      'audit',
      ...common(),
      '--json',
      '--no-unmanaged',
      '--drift-rule',
      `audit-cli-${RUN}-none`,
    ]);

    // Assess
    const json = JSON.parse(result.stdout) as AuditJson;
    expect(json.guard).toEqual({
      driftRule: `audit-cli-${RUN}-none`,
      state: 'missing',
      delivering: false,
      error: null,
    });
    expect(json.findings.map((finding) => finding.kind)).toContain('guard-disabled');
  });

  it('apply --key alias/… without --yes changes nothing; with --yes restores the key; the next audit is clean', async () => {
    // Prepare
    const alias = `alias/audit-cli-${RUN}-shared`;
    const keyId = keyIds['shared-with-analytics'] ?? '';
    const liveBefore = (await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })))
      .Policy;

    // Act
    const dryRun = await kmsGuard(['apply', ...common(), '--key', alias]);
    const liveAfterDryRun = (await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' })))
      .Policy;
    const applied = await kmsGuard(['apply', ...common(), '--key', alias, '--yes']);
    const liveAfter =
      (await kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default' }))).Policy ?? '';
    const audit = await kmsGuard(['audit', ...common(), '--json', '--no-unmanaged']);

    // Assess
    expect(dryRun.code).toBe(0);
    expect(dryRun.stdout).toContain('DRY RUN');
    expect(liveAfterDryRun).toBe(liveBefore);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('✔ Applied: the desired policy was written and confirmed.');
    expect(comparePolicies(desired['shared-with-analytics'] ?? '', liveAfter).status).toBe('equivalent');
    expect(audit.code).toBe(0);
    expect((JSON.parse(audit.stdout) as AuditJson).summary).toMatchObject({
      checked: 3,
      inSync: 3,
      drift: 0,
    });
  });

  it('exits 2 with one line when the endpoint does not answer', async () => {
    // Act
    const result = await kmsGuard([
      'audit',
      '--endpoint-url',
      'http://127.0.0.1:9',
      '--region',
      REGION,
      '--manifest',
      manifestPath,
    ]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^kms-guard: audit incomplete .*ECONNREFUSED.*is http:\/\/127\.0\.0\.1:9 right/,
    );
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });
});

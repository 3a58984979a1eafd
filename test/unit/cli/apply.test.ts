/**
 * `kms-guard apply` in-process over a mocked KMS account: a dry run never calls PutKeyPolicy, `--yes`
 * writes once through the remediation safety path, and every exit code.
 */
import { join } from 'node:path';
import { GetKeyPolicyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import type { ApplyOutcome } from '../../../src/guard/apply-desired';
import { loadManifest, renderDesiredPolicy } from '../../../src/manifest';
import { GUARD_READ_ONLY_TEMPLATE, LOCKOUT_TEMPLATE } from '../support/policy-templates';
import {
  ACCOUNT,
  arnOf,
  awsError,
  drifted,
  FIXTURE_MANIFEST,
  kms,
  mockAccount,
  REGION,
  runKmsGuard,
} from './aws-fakes';
import { tempFiles } from './helpers';

const REPORTS = '00000000-0000-0000-0000-000000000101';
const SANDBOX = '00000000-0000-0000-0000-000000000103';

const manifest = loadManifest(FIXTURE_MANIFEST);
const reportsEntry = manifest.keys.find((key) => key.name === 'reports');
if (!reportsEntry) throw new Error('no reports entry in the fixture manifest');
const DESIRED = renderDesiredPolicy(reportsEntry, { partition: 'aws', region: REGION, accountId: ACCOUNT });

function driftedAccount() {
  return mockAccount([
    { keyId: REPORTS, policy: drifted(DESIRED), aliases: ['alias/reports'] },
    { keyId: SANDBOX, policy: '{}', aliases: ['alias/sandbox'] },
  ]);
}

const BASE = ['apply', '--manifest', FIXTURE_MANIFEST];

beforeEach(() => kms.reset());

describe('kms-guard apply without --yes', () => {
  it('shows the diff and what it would do, exits 0, and never calls PutKeyPolicy', async () => {
    // Prepare
    driftedAccount();

    // Act
    const result = await runKmsGuard([...BASE, '--key', 'alias/reports']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Key: ${arnOf(REPORTS)} (reports, alias/reports)`);
    expect(result.stdout).toContain('Desired policy: test/unit/guard/fixtures/reports.json');
    expect(result.stdout).toMatch(
      /arn:aws:iam::999988887777:root \(cross-account\)\n\s+gained: kms:Decrypt, kms:DescribeKey/,
    );
    expect(result.stdout).toContain('DRY RUN: the desired policy would be written.');
    expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });
});

describe('kms-guard apply --yes', () => {
  it('writes the desired policy once, confirms it, prints the overwritten one, and exits 0', async () => {
    // Prepare
    const live = driftedAccount();

    // Act
    const result = await runKmsGuard([...BASE, '--key', 'alias/reports', '--yes']);

    // Assess
    expect(result.code).toBe(0);
    const puts = kms.commandCalls(PutKeyPolicyCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0]?.args[0].input).toMatchObject({
      KeyId: REPORTS,
      PolicyName: 'default',
      BypassPolicyLockoutSafetyCheck: false,
    });
    expect(live.get(REPORTS)?.policy).toBe(DESIRED);
    expect(result.stdout).toContain('✔ Applied: the desired policy was written and confirmed.');
    expect(result.stdout).toContain('The overwritten live policy (to undo by hand;');
    expect(result.stdout).toContain('Quick fix for the analytics team');
  });

  it('exits 0 without writing when the key is already in sync', async () => {
    // Prepare
    mockAccount([{ keyId: REPORTS, policy: DESIRED, aliases: ['alias/reports'] }]);

    // Act
    const result = await runKmsGuard([...BASE, '--key', arnOf(REPORTS), '--yes']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✔ In sync');
    expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });

  it('refuses a desired policy that would lock the guard out (KMS306 when applied), exits 1 and never writes', async () => {
    // Prepare: an alert-mode entry (valid to alert with) whose document lets the guard only read; apply writes in remediate mode.
    const dir = tempFiles({
      'manifest.yaml': [
        'adminPrincipals: ["arn:{{Partition}}:iam::{{AccountId}}:role/KMSAdminRole"]',
        'keys:',
        '  - name: reports',
        '    match: { alias: alias/reports }',
        '    mode: alert',
        '    policy: guard-read-only.json',
      ].join('\n'),
      'guard-read-only.json': GUARD_READ_ONLY_TEMPLATE,
    });
    driftedAccount();

    // Act
    const dryRun = await runKmsGuard([
      'apply',
      '--manifest',
      join(dir, 'manifest.yaml'),
      '--key',
      'alias/reports',
    ]);
    const confirmed = await runKmsGuard([
      'apply',
      '--manifest',
      join(dir, 'manifest.yaml'),
      '--key',
      'alias/reports',
      '--yes',
    ]);

    // Assess
    expect(dryRun.code).toBe(1);
    expect(dryRun.stdout).toContain('remediation would REFUSE');
    expect(confirmed.code).toBe(1);
    expect(confirmed.stdout).toContain('✖ Refused: the desired policy was NOT written.');
    expect(confirmed.stdout).toContain('KMS306');
    expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });

  it('exits 2 before calling KMS when a desired document leaves no administrator (KMS305 fails the manifest)', async () => {
    // Prepare: a manifest whose desired policy leaves no administrator and no guard.
    const dir = tempFiles({
      'manifest.yaml': [
        'keys:',
        '  - name: reports',
        '    match: { alias: alias/reports }',
        '    mode: alert',
        '    policy: lockout.json',
      ].join('\n'),
      'lockout.json': LOCKOUT_TEMPLATE,
    });
    driftedAccount();

    // Act
    const result = await runKmsGuard([
      'apply',
      '--manifest',
      join(dir, 'manifest.yaml'),
      '--key',
      'alias/reports',
      '--yes',
    ]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/lockout\.json: KMS305 \$\.Statement: Lockout risk: .* — refused/);
    expect(kms.calls()).toHaveLength(0);
  });

  it('prints the outcome as JSON with --json', async () => {
    // Prepare
    driftedAccount();

    // Act
    const result = await runKmsGuard([...BASE, '--key', 'alias/reports', '--yes', '--json']);

    // Assess
    const outcome = JSON.parse(result.stdout) as ApplyOutcome;
    expect(outcome).toMatchObject({
      status: 'applied',
      keyArn: arnOf(REPORTS),
      mode: 'remediate',
      finding: { kind: 'remediated', trigger: 'cli' },
    });
  });
});

describe('kms-guard apply: usage and AWS errors exit 2', () => {
  it.each([
    ['a key the manifest does not manage', ['--key', 'alias/sandbox', '--yes'], 'No manifest entry matches'],
    [
      'an alias that does not exist',
      ['--key', 'alias/nope'],
      'Cannot resolve key reference alias/nope: no such alias',
    ],
    ['no --key', [], "required option '--key <id|arn|alias>' not specified"],
  ])('%s', async (_what, extra, message) => {
    // Prepare
    driftedAccount();

    // Act
    const result = await runKmsGuard([...BASE, ...extra]);

    // Assess
    expect(result.code).toBe(2);
    expect(`${result.stdout}${result.stderr}`).toContain(message);
    expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });

  it('prints one line, not a stack trace, when AWS fails after retries', async () => {
    // Prepare
    driftedAccount();
    kms
      .on(GetKeyPolicyCommand)
      .rejects(
        Object.assign(awsError('ThrottlingException', 'Rate exceeded'), { $retryable: { throttling: true } }),
      );

    // Act
    const result = await runKmsGuard([...BASE, '--key', arnOf(REPORTS), '--yes']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('kms-guard: GetKeyPolicy failed after retries: Rate exceeded\n');
    expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });
});

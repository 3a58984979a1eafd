/**
 * Lockout safety (issue point 6): `kms-guard validate` REFUSES a desired policy that leaves no
 * administrator able to change it (KMS305, always) or, in remediate mode, takes kms:GetKeyPolicy or
 * kms:PutKeyPolicy from the guard (KMS306). Both are warnings in the rule catalogue (a live policy may
 * be like that) but refusals for validate and for the guard's remediation; the last test proves the
 * guard refuses the very same document without sending PutKeyPolicy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkKey } from '../../../src/guard/check-key';
import {
  awsCalls,
  driftedPolicyText,
  fixtureManifest,
  GetKeyPolicyCommand,
  KEY_ARN,
  kmsMock,
  makeHarness,
  onlyFinding,
  PutKeyPolicyCommand,
  resetMocks,
} from '../guard/harness';
import { GUARD_READ_ONLY_TEMPLATE } from '../support/policy-templates';
import { fixture, runCli, tempFiles } from './helpers';

const EXAMPLE = fixture('example-key-policy.json');
const LOCKOUT = fixture('lockout-risk.json');
const OUTSIDE_GUARD = 'arn:aws:iam::999999999999:role/guard';
const GUARD_IN_KEY_ACCOUNT = 'arn:aws:iam::111122223333:role/kms-policy-guard-us-west-2';

beforeEach(() => {
  resetMocks();
});

describe('kms-guard validate refuses lockout risks', () => {
  it('refuses a policy no administrator could change any more (KMS305), naming the missing statement', async () => {
    // Act
    const result = await runCli(['validate', LOCKOUT]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`✖ ${LOCKOUT}`);
    expect(result.stdout).toContain(
      "  error  KMS305  $.Statement  Lockout risk: no Allow statement keeps the account root or a named administrator (arn:aws:iam::111122223333:root) able to call kms:PutKeyPolicy; the key could become unmanageable; no other account the policy names keeps it either (the key's account 111122223333 was inferred from the policy; state it with --key-account or ValidateOptions.keyAccount) — refused",
    );
    expect(result.stdout).toContain('1 file checked, 0 valid, 1 invalid (1 error, 0 warnings)');
  });

  it('refuses KMS305 on a stated --key-account without the inferred-account note', async () => {
    // Act
    const result = await runCli(['validate', '--key-account', '111122223333', LOCKOUT]);
    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '  error  KMS305  $.Statement  Lockout risk: no Allow statement keeps the account root or a named administrator (arn:aws:iam::111122223333:root) able to call kms:PutKeyPolicy; the key could become unmanageable — refused',
    );
  });

  it('refuses KMS305 in every mode, and accepts the policy once an --admin keeps kms:PutKeyPolicy', async () => {
    // Prepare: the lockout fixture grants ExampleRole only use and grant actions
    const modes = [[], ['--mode', 'alert'], ['--mode', 'dry-run']];
    // Act
    const refused = await Promise.all(modes.map((mode) => runCli(['validate', LOCKOUT, ...mode])));
    const withAdmin = await runCli([
      'validate',
      EXAMPLE,
      '--admin',
      'arn:aws:iam::111122223333:role/KMSAdminRole',
    ]);
    // Assess
    expect(refused.map((result) => result.code)).toEqual([1, 1, 1]);
    expect(withAdmin.code).toBe(0);
  });

  it('refuses a remediate-mode policy that takes Get/PutKeyPolicy from the guard (KMS306), naming both actions', async () => {
    // Act
    const remediate = await runCli([
      'validate',
      EXAMPLE,
      '--mode',
      'remediate',
      '--guard-principal',
      OUTSIDE_GUARD,
    ]);
    const alert = await runCli(['validate', EXAMPLE, '--mode', 'alert', '--guard-principal', OUTSIDE_GUARD]);
    const guardThroughRoot = await runCli([
      'validate',
      EXAMPLE,
      '--mode',
      'remediate',
      '--guard-principal',
      GUARD_IN_KEY_ACCOUNT,
    ]);

    // Assess
    expect(remediate.code).toBe(1);
    expect(remediate.stdout).toContain(
      `  error  KMS306  $.Statement  In remediate mode the guard (${OUTSIDE_GUARD}) must be able to call kms:GetKeyPolicy and kms:PutKeyPolicy, but this policy does not allow it (directly or through its account root) — refused`,
    );
    expect(alert.code).toBe(0);
    expect(guardThroughRoot.code).toBe(0);
  });

  it('reports the refusal in --json as an error finding with valid false', async () => {
    // Act
    const result = await runCli(['validate', '--json', LOCKOUT]);

    // Assess
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({
      valid: false,
      files: [
        expect.objectContaining({
          valid: false,
          findings: [expect.objectContaining({ code: 'KMS305', level: 'error', path: '$.Statement' })],
        }),
      ],
    });
  });

  it('refuses a manifest whose remediate-mode entry would lock the guard out, but not the same entry in alert mode', async () => {
    // Prepare
    const manifest = (mode: string, policy: string) =>
      JSON.stringify({
        adminPrincipals: ['arn:{{Partition}}:iam::{{AccountId}}:role/KMSAdminRole'],
        keys: [{ name: 'payments', match: { alias: 'alias/payments' }, mode, policy }],
      });
    const dir = tempFiles({
      'remediate.json': manifest('remediate', 'payments.json'),
      'alert.json': manifest('alert', 'payments.json'),
      'no-admin.json': manifest('alert', 'lockout.json'),
      'payments.json': GUARD_READ_ONLY_TEMPLATE,
      'lockout.json': readFileSync(LOCKOUT, 'utf8').replaceAll('111122223333', '{{AccountId}}'),
    });

    // Act
    const remediate = await runCli(['validate', join(dir, 'remediate.json')]);
    const alert = await runCli(['validate', join(dir, 'alert.json')]);
    const noAdmin = await runCli(['validate', join(dir, 'no-admin.json')]);

    // Assess
    expect(remediate.code).toBe(1);
    expect(remediate.stdout).toMatch(
      /error {2}.*payments\.json: KMS306 \$\.Statement: In remediate mode the guard \(arn:aws:iam::\d{12}:role\/kms-policy-guard-[a-z0-9-]+\) must be able to call kms:PutKeyPolicy/,
    );
    expect(alert.stdout).toContain(`✔ ${join(dir, 'alert.json')} (manifest, 1 key)`);
    expect(alert.code).toBe(0);
    expect(noAdmin.code).toBe(1);
    expect(noAdmin.stdout).toMatch(
      /error {2}.*lockout\.json: KMS305 \$\.Statement: Lockout risk: .* — refused: .* \(keys\[0\] \(payments\)\.policy\)/,
    );
  });
});

describe('the guard refuses the same documents at remediation time', () => {
  it.each([
    ['no administrator (KMS305)', readFileSync(LOCKOUT, 'utf8'), 'KMS305'],
    ['the guard may only read (KMS306)', GUARD_READ_ONLY_TEMPLATE, 'KMS306'],
  ])('%s: a critical lockout-risk finding and no PutKeyPolicy', async (_case, policyTemplate, code) => {
    // Prepare
    const manifest = fixtureManifest('remediate');
    const { deps } = makeHarness({
      ...manifest,
      keys: manifest.keys.map((key) => (key.name === 'payments-data' ? { ...key, policyTemplate } : key)),
    });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

    // Act
    await checkKey(deps, { keyRef: KEY_ARN, trigger: 'event', eventId: 'event-1' });

    // Assess
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
    expect(awsCalls()).toEqual({ DescribeKey: 1, GetKeyPolicy: 1, ListGrants: 1, Publish: 1 });
    const finding = onlyFinding();
    expect(finding).toMatchObject({ kind: 'lockout-risk', severity: 'critical', action: 'failed' });
    expect(finding.details.join('\n')).toContain(code);
  });
});

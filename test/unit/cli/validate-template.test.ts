/**
 * `kms-guard validate` on desired-policy templates from policies/: placeholders are filled in (sample
 * values, or --partition/--region/--key-account) and the result is validated as the guard would apply it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, tempFiles } from './helpers';

const REPO = join(__dirname, '..', '..', '..');
const PAYMENTS_TEMPLATE = readFileSync(join(REPO, 'policies', 'payments-data.json'), 'utf8');

describe('kms-guard validate on desired-policy templates', () => {
  it('validates every shipped template with the sample values and says which values it used', async () => {
    // Act
    const files = ['app-logs', 'payments-data', 'shared-with-analytics', 'team-abac'].map((name) =>
      join(REPO, 'policies', `${name}.json`),
    );
    const result = await runCli(['validate', ...files]);
    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'template: validated with {{Partition}}=aws {{Region}}=us-east-1 {{AccountId}}=111122223333',
    );
    expect(result.stdout).toContain('4 files checked, 4 valid, 0 invalid (0 errors, 0 warnings)');
  });

  it('fills in --partition, --region and --key-account, and reports them in --json', async () => {
    const file = join(REPO, 'policies', 'payments-data.json');
    const result = await runCli([
      'validate',
      file,
      '--json',
      '--partition',
      'aws-us-gov',
      '--region',
      'us-gov-west-1',
      '--key-account',
      '444455556666',
    ]);
    const report = JSON.parse(result.stdout) as { files: { placeholders?: unknown; valid: boolean }[] };
    expect(result.code).toBe(0);
    expect(report.files[0]?.placeholders).toEqual({
      partition: 'aws-us-gov',
      region: 'us-gov-west-1',
      accountId: '444455556666',
    });
  });

  it('exits 1 and names an unknown placeholder instead of validating a half-filled document', async () => {
    const dir = tempFiles({ 'typo.json': PAYMENTS_TEMPLATE.replace('{{AccountId}}', '{{Account}}') });
    const result = await runCli(['validate', join(dir, 'typo.json')]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('unknown placeholder {{Account}}');
    expect(result.stdout).toContain('(1 error, 0 warnings)');
  });

  it('in remediate mode refuses a template that drops the deployed guard role (derived, no --guard-principal needed)', async () => {
    // Prepare: without the guard's statement and without the account root (which would let the guard in
    // through IAM); KMSAdminRole stays the administrator.
    const document = JSON.parse(PAYMENTS_TEMPLATE) as { Statement: { Principal?: unknown }[] };
    document.Statement = document.Statement.filter((statement) => {
      const principal = JSON.stringify(statement.Principal ?? '');
      return !principal.includes('GuardPrincipal') && !principal.endsWith(':root"}');
    });
    const dir = tempFiles({ 'no-guard.json': JSON.stringify(document) });
    const admin = ['--admin', 'arn:aws:iam::111122223333:role/KMSAdminRole'];
    // Act
    const alert = await runCli(['validate', join(dir, 'no-guard.json'), ...admin]);
    const remediate = await runCli(['validate', join(dir, 'no-guard.json'), ...admin, '--mode', 'remediate']);
    // Assess
    expect(alert.code).toBe(0);
    expect(alert.stdout).not.toContain('KMS306');
    expect(remediate.code).toBe(1);
    expect(remediate.stdout).toContain(
      'KMS306  $.Statement  In remediate mode the guard (arn:aws:iam::111122223333:role/kms-policy-guard-us-east-1)',
    );
  });
});

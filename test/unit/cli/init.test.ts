/**
 * `kms-guard init` in-process over a mocked KMS account: what it writes, that it never overwrites
 * without --force, what it refuses, its exit codes, --json, and the progress bar on a terminal.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetKeyPolicyCommand, ListKeysCommand } from '@aws-sdk/client-kms';
import { loadManifest, renderDesiredPolicy } from '../../../src/manifest';
import { comparePolicies } from '../../../src/policy/compare';
import { ACCOUNT, arnOf, awsError, kms, mockAccount, REGION, runKmsGuard } from './aws-fakes';

const APP = '00000000-0000-0000-0000-000000000201';
const SHARED = '00000000-0000-0000-0000-000000000202';
const LOCKED = '00000000-0000-0000-0000-000000000203';
const EBS = '00000000-0000-0000-0000-000000000204';
const OLD = '00000000-0000-0000-0000-000000000205';

const ROOT_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
  ],
});
const SHARED_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'kms:*', Resource: '*' },
    {
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::444455556666:root' },
      Action: 'kms:Decrypt',
      Resource: '*',
    },
  ],
});
/** Nobody may change the policy any more (KMS305): adopted, but refused. */
const NO_ADMIN_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/App` },
      Action: 'kms:Decrypt',
      Resource: '*',
    },
  ],
});

function account() {
  return mockAccount([
    { keyId: APP, policy: ROOT_POLICY, aliases: ['alias/app'], tags: { team: 'a' } },
    { keyId: SHARED, policy: SHARED_POLICY, aliases: ['alias/shared'] },
    { keyId: EBS, policy: ROOT_POLICY, aliases: ['alias/aws/ebs'] },
    { keyId: OLD, policy: ROOT_POLICY, aliases: ['alias/old'], state: 'PendingDeletion' },
  ]);
}

function outDir(): string {
  return join(mkdtempSync(join(tmpdir(), 'kms-guard-init-')), 'policies');
}

beforeEach(() => kms.reset());

describe('kms-guard init', () => {
  it('writes one document per customer managed key and a manifest that loads; audit then finds every key in sync', async () => {
    // Prepare
    const keys = account();
    const out = outDir();

    // Act
    const init = await runKmsGuard(['init', '--out', out]);
    const audit = await runKmsGuard(['audit', '--manifest', join(out, 'manifest.yaml'), '--json']);

    // Assess
    expect(init.code).toBe(0);
    expect(init.stderr).toBe('');
    expect(readdirSync(out).sort()).toEqual(['app.json', 'manifest.yaml', 'shared.json']);
    expect(init.stdout).toContain(`✔ ${join(out, 'manifest.yaml')} loads: 2 keys, 0 warnings`);
    expect(init.stdout).toContain(
      '4 listed, 2 adopted, 1 AWS managed skipped, 1 not adopted (1 pending deletion), 0 would be refused',
    );
    expect(init.stdout).toMatch(new RegExp(`pending deletion +${OLD} +alias/old +key state PendingDeletion`));
    const manifest = loadManifest(join(out, 'manifest.yaml'));
    expect(manifest.keys.map((key) => [key.name, key.match, key.mode])).toEqual([
      ['app', { keyId: APP }, 'alert'],
      ['shared', { keyId: SHARED }, 'alert'],
    ]);
    for (const key of manifest.keys) {
      const live = keys.get(key.match.keyId ?? '')?.policy ?? '';
      const rendered = renderDesiredPolicy(key, { partition: 'aws', region: REGION, accountId: ACCOUNT });
      expect(comparePolicies(rendered, live).status).toBe('equivalent');
    }
    expect(readFileSync(join(out, 'shared.json'), 'utf8')).toContain('"arn:aws:iam::444455556666:root"');
    expect(audit.code).toBe(0);
    expect(JSON.parse(audit.stdout).summary).toMatchObject({ inSync: 2, drift: 0, failed: 0 });
  });

  it('refuses to overwrite an existing manifest before any AWS call, naming it', async () => {
    // Prepare
    account();
    const out = outDir();
    await runKmsGuard(['init', '--out', out]);
    kms.resetHistory();

    // Act
    const again = await runKmsGuard(['init', '--out', out]);

    // Assess
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(
      `kms-guard: 1 file(s) already exist: ${join(out, 'manifest.yaml')}; nothing was written (pass --force to overwrite them)\n`,
    );
    expect(kms.calls()).toHaveLength(0);
  });

  it('refuses to overwrite an existing document, writing nothing at all, and overwrites with --force', async () => {
    // Prepare
    account();
    const out = outDir();
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'app.json'), 'mine');

    // Act
    const refused = await runKmsGuard(['init', '--out', out]);
    const afterRefusal = readdirSync(out);
    const forced = await runKmsGuard(['init', '--out', out, '--force']);

    // Assess
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(
      `1 file(s) already exist: ${join(out, 'app.json')}; nothing was written`,
    );
    expect(afterRefusal).toEqual(['app.json']);
    expect(forced.code).toBe(0);
    expect(readFileSync(join(out, 'app.json'), 'utf8')).toContain(
      '"arn:{{Partition}}:iam::{{AccountId}}:root"',
    );
    expect(readdirSync(out).filter((file) => file.includes('.tmp'))).toEqual([]);
  });

  it('writes a document that would be refused, lists why, and exits 1', async () => {
    // Prepare
    mockAccount([
      { keyId: APP, policy: ROOT_POLICY, aliases: ['alias/app'] },
      { keyId: LOCKED, policy: NO_ADMIN_POLICY, aliases: ['alias/locked'] },
    ]);
    const out = outDir();

    // Act
    const result = await runKmsGuard(['init', '--out', out]);

    // Assess
    expect(result.code).toBe(1);
    expect(existsSync(join(out, 'locked.json'))).toBe(true);
    expect(result.stdout).toMatch(/locked +0000.*203 +alias\/locked +1 +REFUSED KMS305/);
    expect(result.stdout).toContain(
      'Would be refused (written anyway; the manifest does not load until they are fixed):\n  locked (locked.json): KMS305 $.Statement: Lockout risk',
    );
    expect(result.stdout).toContain(
      `✖ ${join(out, 'manifest.yaml')} does not load until the documents above are fixed (kms-guard validate ${join(out, 'manifest.yaml')} lists 1 problem).`,
    );
    expect(readFileSync(join(out, 'manifest.yaml'), 'utf8')).toContain(
      '  # would be refused: KMS305\n  - name: locked',
    );
  });

  it('shows refusals in --json as kms-guard validate does: level error, the reason in the message', async () => {
    // Prepare
    mockAccount([{ keyId: LOCKED, policy: NO_ADMIN_POLICY, aliases: ['alias/locked'] }]);

    // Act
    const result = await runKmsGuard(['init', '--out', outDir(), '--json']);

    // Assess
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).keys[0].refusals).toEqual([
      {
        code: 'KMS305',
        level: 'error',
        path: '$.Statement',
        message: expect.stringMatching(/^Lockout risk: .* — refused: the guard never applies a policy/),
      },
    ]);
  });

  it('says why the manifest it wrote does not load when no refusal explains it, and exits 1', async () => {
    // Prepare: a key ID the manifest's keyId matcher does not accept.
    mockAccount([{ keyId: 'not-a-key-id', policy: ROOT_POLICY, aliases: ['alias/odd'] }]);
    const out = outDir();

    // Act
    const result = await runKmsGuard(['init', '--out', out]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `✖ ${join(out, 'manifest.yaml')} does not load (kms-guard validate ${join(out, 'manifest.yaml')} lists 1 problem):\n  - `,
    );
    expect(result.stdout).toContain('keyId must be a key ID such as 1234abcd-12ab-34cd-56ef-1234567890ab');
  });

  it('reports a key whose policy it may not read, adopts the others, and exits 1', async () => {
    // Prepare
    account();
    kms.on(GetKeyPolicyCommand, { KeyId: SHARED }).rejects(awsError('AccessDeniedException', 'not allowed'));
    const out = outDir();

    // Act
    const result = await runKmsGuard(['init', '--out', out]);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      new RegExp(`access denied +${SHARED} +alias/shared +GetKeyPolicy was denied`),
    );
    expect(readdirSync(out).sort()).toEqual(['app.json', 'manifest.yaml']);
  });

  it('exits 2 and writes nothing when an AWS call fails for another reason', async () => {
    // Prepare
    account();
    kms.on(GetKeyPolicyCommand, { KeyId: SHARED }).rejects(awsError('ValidationException', 'bad request'));
    const out = outDir();

    // Act
    const result = await runKmsGuard(['init', '--out', out]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^kms-guard: init stopped, nothing was written: .*bad request/);
    expect(existsSync(out)).toBe(false);
  });

  it('exits 2 when the keys cannot be listed', async () => {
    // Prepare
    account();
    kms.on(ListKeysCommand).rejects(awsError('AccessDeniedException', 'no ListKeys'));

    // Act
    const result = await runKmsGuard(['init', '--out', outDir()]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^kms-guard: init stopped, nothing was written: listing the keys failed: .*no ListKeys/,
    );
  });

  it('prints the outcome as JSON with --json, in the mode asked for', async () => {
    // Prepare
    account();
    const out = outDir();

    // Act
    const result = await runKmsGuard(['init', '--out', out, '--mode', 'dry-run', '--json']);

    // Assess
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({
      out,
      mode: 'dry-run',
      location: { partition: 'aws', region: REGION, accountId: ACCOUNT },
      manifest: join(out, 'manifest.yaml'),
      written: [join(out, 'app.json'), join(out, 'shared.json'), join(out, 'manifest.yaml')],
      manifestLoads: true,
      problems: [],
      summary: { listed: 4, adopted: 2, awsManagedSkipped: 1, notAdopted: 1, refused: 0, warnings: 0 },
      notAdopted: [{ keyId: OLD, keyArn: arnOf(OLD), aliases: ['alias/old'], reason: 'pending-deletion' }],
    });
    expect(json.keys[0]).toEqual({
      name: 'app',
      keyId: APP,
      keyArn: arnOf(APP),
      aliases: ['alias/app'],
      policyFile: 'app.json',
      form: 'template',
      placeholders: 1,
      equivalent: true,
      notes: [],
      refusals: [],
      warnings: [],
    });
    expect(loadManifest(join(out, 'manifest.yaml')).keys.every((key) => key.mode === 'dry-run')).toBe(true);
  });

  it('draws a progress bar on stderr only when stderr is a terminal', async () => {
    // Prepare
    account();

    // Act
    const terminal = await runKmsGuard(['init', '--out', outDir()], { stderrIsTTY: true });
    const pipe = await runKmsGuard(['init', '--out', outDir()]);

    // Assess
    expect(terminal.stderr).toContain('Adopting [########################] 4/4 keys 100%');
    expect(terminal.stderr.endsWith('\r\u001b[K')).toBe(true);
    expect(pipe.stderr).toBe('');
  });

  it('rejects an unknown --mode as a usage error', async () => {
    // Act
    const result = await runKmsGuard(['init', '--mode', 'fix']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("option '--mode <mode>' argument 'fix' is invalid");
  });
});

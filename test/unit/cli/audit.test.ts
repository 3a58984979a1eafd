/**
 * `kms-guard audit` in-process over a mocked KMS account: exit codes, the table, the documented
 * --json shape, SARIF, the progress bar rules, publishing only on --publish, and one-line AWS errors.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { GetKeyPolicyCommand, ListAliasesCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import {
  BatchImportFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { PublishCommand } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import type { AuditJson } from '../../../src/cli/report/audit-json';
import type { SarifLog } from '../../../src/cli/report/sarif';
import { KMS_POLICY_CHANGE_EVENT_PATTERN } from '../../../src/guard/event-pattern';
import { loadManifest, renderDesiredPolicy } from '../../../src/manifest';
import {
  ACCOUNT,
  type AccountKey,
  arnOf,
  awsError,
  drifted,
  FIXTURE_MANIFEST,
  GUARD_FIXTURES,
  kms,
  mockAccount,
  REGION,
  runKmsGuard,
  sns,
} from './aws-fakes';
import { tempFiles } from './helpers';

const eventBridge = mockClient(EventBridgeClient);
const securityHub = mockClient(SecurityHubClient);

const PAYMENTS = '1234abcd-12ab-34cd-56ef-1234567890ab';
const REPORTS = '00000000-0000-0000-0000-000000000101';
const APP_LOGS = '00000000-0000-0000-0000-000000000102';
const SANDBOX = '00000000-0000-0000-0000-000000000103';

const manifest = loadManifest(FIXTURE_MANIFEST);
function desired(name: string): string {
  const entry = manifest.keys.find((key) => key.name === name);
  if (!entry) throw new Error(`no ${name} in the fixture manifest`);
  return renderDesiredPolicy(entry, { partition: 'aws', region: REGION, accountId: ACCOUNT });
}

/** The fixture manifest's three keys in sync, and one key it does not manage. */
function account(changes: { reportsPolicy?: string } = {}): AccountKey[] {
  return [
    { keyId: PAYMENTS, policy: desired('payments-data') },
    {
      keyId: REPORTS,
      policy: changes.reportsPolicy ?? desired('reports'),
      aliases: ['alias/reports'],
    },
    { keyId: APP_LOGS, policy: desired('app-logs'), tags: { 'kms-policy-guard': 'app-logs' } },
    // A clean policy (its statements are reports'): judged by the security rules and found fine.
    { keyId: SANDBOX, policy: desired('reports').replaceAll(REPORTS, SANDBOX), aliases: ['alias/sandbox'] },
  ];
}

const BASE = ['audit', '--manifest', FIXTURE_MANIFEST];

beforeEach(() => {
  kms.reset();
  sns.reset();
  eventBridge.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'message-1' });
});

describe('kms-guard audit: exit codes and the table', () => {
  it('exits 0 when every managed key is in sync (an unmanaged key is listed, not a failure)', async () => {
    // Prepare
    mockAccount(account());

    // Act
    const result = await runKmsGuard(BASE);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/^NAME\s+KEY\s+ALIAS\s+MODE\s+RESULT\s+SEVERITY\s+CHANGE$/m);
    expect(result.stdout).toMatch(
      new RegExp(`^reports\\s+${REPORTS}\\s+alias/reports\\s+alert\\s+in sync`, 'm'),
    );
    expect(result.stdout).toMatch(
      new RegExp(`^-\\s+${SANDBOX}\\s+alias/sandbox\\s+-\\s+unmanaged\\s+low`, 'm'),
    );
    expect(result.stdout).toContain('4 checked, 3 in sync, 0 drift, 0 failed, 1 unmanaged, 0 not checked');
  });

  it('exits 1 on drift and says in a few words what changed', async () => {
    // Prepare
    mockAccount(account({ reportsPolicy: drifted(desired('reports')) }));

    // Act
    const result = await runKmsGuard(BASE);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(
      /^reports\s+\S+\s+alias\/reports\s+alert\s+DRIFT\s+critical\s+arn:aws:iam::999988887777:root gained kms:Decrypt \+1$/m,
    );
  });

  it('never writes, even for a key in remediate mode (the CLI audit is read-only)', async () => {
    // Prepare
    const dir = tempFiles({
      'manifest.yaml': [
        'unmanagedKeys: ignore',
        'keys:',
        '  - name: reports',
        '    match: { alias: alias/reports }',
        '    mode: remediate',
        '    policy: reports.json',
      ].join('\n'),
      'reports.json': readFileSync(join(GUARD_FIXTURES, 'reports.json'), 'utf8'),
    });
    mockAccount(account({ reportsPolicy: drifted(desired('reports')) }));

    // Act
    const result = await runKmsGuard(['audit', '--manifest', join(dir, 'manifest.yaml'), '--json']);

    // Assess
    expect(result.code).toBe(1);
    expect(kms.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
    const json = JSON.parse(result.stdout) as AuditJson;
    expect(json.keys).toEqual([
      expect.objectContaining({
        name: 'reports',
        mode: 'remediate',
        result: 'drift',
        finding: expect.objectContaining({ kind: 'would-remediate' }),
      }),
    ]);
  });

  it('exits 1 and says so when the drift rule is disabled', async () => {
    // Prepare
    mockAccount(account());
    eventBridge.on(DescribeRuleCommand).resolves({ State: 'DISABLED' });

    // Act
    const result = await runKmsGuard([...BASE, '--drift-rule', 'kms-policy-guard-dev-drift']);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      'Drift rule kms-policy-guard-dev-drift: DISABLED — the real-time guard is blind',
    );
  });

  it('exits 1 and names the gap when the drift rule is enabled but no longer matches PutKeyPolicy', async () => {
    // Prepare
    mockAccount(account());
    eventBridge.on(DescribeRuleCommand).resolves({
      State: 'ENABLED',
      EventPattern: JSON.stringify({
        ...KMS_POLICY_CHANGE_EVENT_PATTERN,
        detail: { eventName: ['CreateKey'] },
      }),
    });
    eventBridge
      .on(ListTargetsByRuleCommand)
      .resolves({ Targets: [{ Id: 'drift', Arn: 'arn:aws:lambda:x' }] });

    // Act
    const result = await runKmsGuard([...BASE, '--drift-rule', 'kms-policy-guard-dev-drift']);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('Drift rule kms-policy-guard-dev-drift: ENABLED\n');
    expect(result.stdout).toContain(
      "Guard degraded: drift rule pattern: the event pattern of rule kms-policy-guard-dev-drift is not the guard's",
    );
    expect(eventBridge.commandCalls(ListTargetsByRuleCommand)).toHaveLength(1);
  });

  it.each([
    [['--concurrency', '0'], '--concurrency: "0" must be an integer from 1 to 64'],
    [['--concurrency', '65'], '--concurrency: "65" must be an integer from 1 to 64'],
    [['--json', '--format', 'sarif'], '--json and --format sarif contradict each other'],
    [['--json', '--format', 'html'], '--json and --format html contradict each other'],
    [['--publish'], '--publish needs --topic-arn <SNS topic ARN>, --security-hub, or both'],
    [['--publish', '--topic-arn', 'findings'], '--topic-arn needs an SNS topic ARN'],
    [
      ['--endpoint-url', 'localhost:5000'],
      '--endpoint-url: "localhost:5000" must start with http:// or https://',
    ],
    [['--region', 'moon-1'], '--region: "moon-1" is not an AWS Region'],
    [['--manifest', '/nonexistent/manifest.yaml'], '/nonexistent/manifest.yaml'],
  ])('exits 2 on the usage error %j with one line', async (extra, message) => {
    // Act
    const result = await runKmsGuard([...BASE, ...extra]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
    expect(kms.calls()).toHaveLength(0);
  });

  it('exits 2 with a clear one-line message (no stack trace) when credentials are missing', async () => {
    // Prepare
    kms
      .on(ListAliasesCommand)
      .rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));

    // Act
    const result = await runKmsGuard(BASE);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.trim().split('\n')).toEqual([
      'kms-guard: audit incomplete (3 key(s) not checked): the key inventory failed: ListAliases failed: Could not load credentials from any providers (check the credentials: --profile, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)',
    ]);
  });

  it('exits 2 when a key could not be checked, and lists it as not checked', async () => {
    // Prepare
    mockAccount(account());
    kms
      .on(ListAliasesCommand)
      .resolves({ Aliases: [{ AliasName: 'alias/reports', TargetKeyId: REPORTS }] })
      .on(GetKeyPolicyCommand, { KeyId: REPORTS })
      .rejects(
        Object.assign(awsError('ThrottlingException', 'Rate exceeded'), { $retryable: { throttling: true } }),
      );

    // Act
    const result = await runKmsGuard(BASE);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(new RegExp(`^reports\\s+${REPORTS}\\s+-\\s+-\\s+NOT CHECKED`, 'm'));
    expect(result.stderr).toContain(
      'kms-guard: audit incomplete (1 key(s) not checked): GetKeyPolicy failed after retries',
    );
  });
});

describe('kms-guard audit --json', () => {
  it('prints the documented shape', async () => {
    // Prepare
    mockAccount(account({ reportsPolicy: drifted(desired('reports')) }));

    // Act
    const result = await runKmsGuard([...BASE, '--json']);

    // Assess
    const json = JSON.parse(result.stdout) as AuditJson;
    expect(Object.keys(json)).toEqual([
      'runId',
      'startedAt',
      'durationMs',
      'complete',
      'summary',
      'guard',
      'keys',
      'findings',
      'awsManagedSkipped',
      'notes',
      'problems',
    ]);
    expect(json.runId).toMatch(/^cli-\d{4}-\d\d-\d\dT/);
    expect(json.summary).toEqual({ checked: 4, inSync: 2, drift: 1, failed: 0, notChecked: 0, unmanaged: 1 });
    const reports = json.keys.find((key) => key.keyId === REPORTS);
    expect(reports).toEqual({
      keyArn: arnOf(REPORTS),
      account: ACCOUNT,
      region: REGION,
      keyId: REPORTS,
      aliases: ['alias/reports'],
      name: 'reports',
      mode: 'alert',
      result: 'drift',
      severity: 'critical',
      finding: {
        id: `${json.runId}:${REPORTS}:drift`,
        kind: 'drift',
        severity: 'critical',
        title: '[CRITICAL] Key policy drift: reports',
      },
      reason: null,
    });
    expect(json.findings.map((finding) => finding.kind)).toEqual(['drift', 'unmanaged-key', 'audit-summary']);
    expect(json.findings[0]?.trigger).toBe('cli');
    expect(json.guard).toEqual({ driftRule: null, state: null, delivering: null, error: null });
  });

  it('publishes nothing by default, and every finding with --publish --topic-arn', async () => {
    // Prepare
    mockAccount(account({ reportsPolicy: drifted(desired('reports')) }));
    const topic = `arn:aws:sns:${REGION}:${ACCOUNT}:kms-policy-guard-findings`;

    // Act
    await runKmsGuard([...BASE, '--json']);
    const printed = sns.commandCalls(PublishCommand).length;
    await runKmsGuard([...BASE, '--json', '--publish', '--topic-arn', topic]);

    // Assess
    expect(printed).toBe(0);
    const published = sns.commandCalls(PublishCommand).map((call) => call.args[0].input);
    expect(published).toHaveLength(3);
    expect(published.every((input) => input.TopicArn === topic)).toBe(true);
  });

  it('--no-unmanaged leaves the unmanaged key out', async () => {
    // Prepare
    mockAccount(account());

    // Act
    const result = await runKmsGuard([...BASE, '--json', '--no-unmanaged']);

    // Assess
    const json = JSON.parse(result.stdout) as AuditJson;
    expect(json.summary).toMatchObject({ checked: 3, unmanaged: 0 });
    expect(json.keys.map((key) => key.keyId)).not.toContain(SANDBOX);
  });
});

describe('kms-guard audit --security-hub', () => {
  beforeEach(() => {
    securityHub.reset();
    securityHub.on(BatchImportFindingsCommand).callsFake((input: { Findings?: unknown[] }) => ({
      SuccessCount: input.Findings?.length ?? 0,
      FailedCount: 0,
      FailedFindings: [],
    }));
    securityHub.on(GetFindingsCommand).resolves({ Findings: [] });
  });

  it('makes no Security Hub call without the option', async () => {
    // Prepare
    mockAccount(account({ reportsPolicy: drifted(desired('reports')) }));

    // Act
    await runKmsGuard([...BASE, '--json']);

    // Assess
    expect(securityHub.calls()).toHaveLength(0);
  });

  it.each([[['--security-hub']], [['--publish', '--security-hub']]])(
    "%j sends the audit's findings to Security Hub in the key's account and Region, and exits as without it",
    async (flags) => {
      // Prepare
      mockAccount(account({ reportsPolicy: drifted(desired('reports')) }));

      // Act
      const result = await runKmsGuard([...BASE, '--json', ...flags]);

      // Assess
      expect(result.code).toBe(1);
      const imported = securityHub
        .commandCalls(BatchImportFindingsCommand)
        .flatMap((call) => call.args[0].input.Findings ?? []);
      const sent = imported.map((finding) => [finding.Id, finding.Compliance?.Status, finding.ProductArn]);
      expect(sent.sort()).toEqual([
        [
          `kms-policy-guard/${arnOf(REPORTS)}/key-policy`,
          'FAILED',
          `arn:aws:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default`,
        ],
        [
          `kms-policy-guard/${arnOf(SANDBOX)}/key-policy`,
          'FAILED',
          `arn:aws:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default`,
        ],
      ]);
      expect(securityHub.commandCalls(BatchImportFindingsCommand)).toHaveLength(1);
      expect(securityHub.commandCalls(GetFindingsCommand)).toHaveLength(1);
      expect(result.stderr).toBe('');
    },
  );

  it('exits 2 and says how to fix it when Security Hub is not enabled in the account', async () => {
    // Prepare
    mockAccount(account());
    const notSubscribed = awsError(
      'InvalidAccessException',
      `Account ${ACCOUNT} is not subscribed to AWS Security Hub`,
    );
    securityHub.on(GetFindingsCommand).rejects(notSubscribed);
    securityHub.on(BatchImportFindingsCommand).rejects(notSubscribed);

    // Act
    const result = await runKmsGuard([...BASE, '--security-hub']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      `kms-guard: AWS Security Hub: GetFindings: InvalidAccessException: Account ${ACCOUNT} is not subscribed to AWS Security Hub`,
    );
    expect(result.stderr).toContain(`aws securityhub enable-security-hub --region ${REGION}`);
    expect(result.stdout).toContain('payments-data');
  });
});

describe('kms-guard audit --format sarif', () => {
  it('prints a SARIF 2.1.0 log locating the drift in its policy file', async () => {
    // Prepare
    mockAccount(account({ reportsPolicy: drifted(desired('reports')) }));

    // Act
    const result = await runKmsGuard([...BASE, '--format', 'sarif']);

    // Assess
    expect(result.code).toBe(1);
    const log = JSON.parse(result.stdout) as SarifLog;
    expect(log.version).toBe('2.1.0');
    const drift = log.runs[0]?.results.find((item) => item.ruleId === 'drift');
    expect(drift?.locations[0]?.physicalLocation?.artifactLocation.uri).toBe(
      'test/unit/guard/fixtures/reports.json',
    );
    expect(drift?.properties.keyArn).toBe(arnOf(REPORTS));
    expect(log.runs[0]?.results.map((item) => item.ruleId)).not.toContain('audit-summary');
  });
});

describe('kms-guard audit --format html', () => {
  it.each([
    ['every key is in sync', {}, 0, 'Every checked key is in sync.'],
    ['a key drifted', { reportsPolicy: drifted(desired('reports')) }, 1, '1 key drifted.'],
  ])(
    'exits as the other formats do when %s, and prints one HTML page',
    async (_case, changes, code, verdict) => {
      // Prepare
      mockAccount(account(changes));

      // Act
      const result = await runKmsGuard([...BASE, '--format', 'html']);

      // Assess
      expect(result.code).toBe(code);
      expect(result.stderr).toBe('');
      expect(result.stdout.startsWith('<!DOCTYPE html>')).toBe(true);
      expect(result.stdout.trimEnd().endsWith('</html>')).toBe(true);
      expect(result.stdout).toContain(verdict);
    },
  );

  it('still prints the page when a key could not be checked, listing it as not checked (exit 2)', async () => {
    // Prepare
    mockAccount(account());
    kms
      .on(GetKeyPolicyCommand, { KeyId: REPORTS })
      .rejects(
        Object.assign(awsError('ThrottlingException', 'Rate exceeded'), { $retryable: { throttling: true } }),
      );

    // Act
    const result = await runKmsGuard([...BASE, '--format', 'html']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('Audit incomplete: 1 key not checked.');
    expect(result.stdout).toMatch(new RegExp(`<code>${REPORTS}</code>.*Not checked`));
  });
});

describe('kms-guard audit progress bar', () => {
  it('draws on stderr only when stderr is a terminal, and erases itself before the report', async () => {
    // Prepare
    mockAccount(account());

    // Act
    const terminal = await runKmsGuard(BASE, { stderrIsTTY: true });
    const piped = await runKmsGuard(BASE, { stderrIsTTY: false });

    // Assess
    expect(terminal.stderr).toContain('Auditing [########################] 4/4 keys 100%');
    expect(terminal.stderr.endsWith('\r\u001b[K')).toBe(true);
    expect(piped.stderr).toBe('');
    expect(terminal.stdout.replace(/cli-\S+|\(\d+ ms\)/g, '')).toBe(
      piped.stdout.replace(/cli-\S+|\(\d+ ms\)/g, ''),
    );
  });
});

describe('kms-guard audit with an invalid manifest', () => {
  it('exits 2 and lists every problem', async () => {
    // Prepare
    const dir = tempFiles({ 'manifest.yaml': 'keys:\n  - name: x\n    mode: sometimes\n' });
    writeFileSync(join(dir, 'x.json'), '{}');

    // Act
    const result = await runKmsGuard(['audit', '--manifest', join(dir, 'manifest.yaml')]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('manifest is invalid');
    expect(result.stderr).toMatch(/\n {2}- .*mode/);
  });
});

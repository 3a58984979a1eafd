/**
 * auditKeys over port fakes (an in-memory KMS that counts calls and keys in flight, a collecting
 * publisher, a scripted health probe) and, for pagination, over the real KMS adapter with
 * aws-sdk-client-mock. Each test asserts what the audit reports and publishes, and what it spent.
 */

import { KMSClient, ListKeysCommand } from '@aws-sdk/client-kms';
import { buildGuard } from '../../../src/app/guard-deps';
import { KmsKeyPolicyStore } from '../../../src/aws/kms-store';
import type { Finding } from '../../../src/core/finding';
import { type AuditOptions, type AuditReport, auditKeys } from '../../../src/guard/audit-keys';
import { CachingKeyStore } from '../../../src/guard/caching-store';
import type { CheckKeyDeps } from '../../../src/guard/check-key';
import { runPool } from '../../../src/guard/concurrency';
import { RetryableAwsError } from '../../../src/guard/errors';
import type { GuardHealth, GuardHealthProbe, HealthCheck, RuleHealth } from '../../../src/guard/health';

import { InMemoryRemediationLedger } from '../../../src/guard/memory-ledger';
import type { FindingPublisher } from '../../../src/guard/ports';
import type { LoadedManifest } from '../../../src/manifest/types';
import { type InMemoryKey, InMemoryKms } from '../support/in-memory-kms';
import {
  DescribeKeyCommand,
  desiredPolicyText,
  fixtureManifest,
  GetKeyPolicyCommand,
  InstantClock,
  kmsMock,
  ListAliasesCommand,
  ListResourceTagsCommand,
  REPO_ROOT,
  RecordingLogger,
  resetMocks,
} from './harness';

const ACCOUNT = '111122223333';
const REGION = 'us-west-2';
const LOCATION = { partition: 'aws', region: REGION, accountId: ACCOUNT };
const arnOf = (keyId: string): string => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${keyId}`;
const keyId = (n: number): string => `00000000-0000-0000-0000-${String(n).padStart(12, '0')}`;

/** The fixture manifest's key IDs: payments-data by ID, reports by alias, app-logs by tag. */
const PAYMENTS = '1234abcd-12ab-34cd-56ef-1234567890ab';
const REPORTS = keyId(101);
const APP_LOGS = keyId(102);
const UNMANAGED = keyId(103);
const AWS_MANAGED = keyId(104);

function drifted(text: string): string {
  const document = JSON.parse(text) as { Statement: unknown[] };
  document.Statement.push({
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::999988887777:root' },
    Action: 'kms:Decrypt',
    Resource: '*',
  });
  return JSON.stringify(document);
}

type FakeKey = InMemoryKey;

class FakeKms extends InMemoryKms {
  constructor(keys: Map<string, FakeKey>, aliases: Map<string, string>) {
    super(LOCATION, keys, aliases);
    this.readDelayMs = 1;
  }
}

class CollectingPublisher implements FindingPublisher {
  readonly findings: Finding[] = [];
  async publish(finding: Finding): Promise<void> {
    this.findings.push(finding);
  }
  kinds(): string[] {
    return this.findings.map((finding) => finding.kind);
  }
}

class ScriptedHealth implements GuardHealthProbe {
  calls = 0;
  constructor(
    private readonly answer: RuleHealth | Error,
    private readonly checks: HealthCheck[] = [],
  ) {}
  async checkHealth(): Promise<GuardHealth> {
    this.calls += 1;
    if (this.answer instanceof Error) throw this.answer;
    return { driftRule: this.answer, checks: this.checks };
  }
}

const desired = (name: string, id: string): string =>
  desiredPolicyText(name === 'payments-data' ? 'payments-data' : 'reports', arnOf(id));

/** The fixture account: three managed keys in sync, one unmanaged, one AWS managed (by its alias). */
function fixtureKms(): FakeKms {
  const keys = new Map<string, FakeKey>([
    [PAYMENTS, { policy: desired('payments-data', PAYMENTS) }],
    [REPORTS, { policy: desired('reports', REPORTS) }],
    [APP_LOGS, { policy: desired('app-logs', APP_LOGS), tags: { 'kms-policy-guard': 'app-logs' } }],
    [UNMANAGED, { policy: desired('reports', UNMANAGED), tags: { team: 'growth' } }],
    [AWS_MANAGED, { policy: '{}', manager: 'AWS' }],
  ]);
  const aliases = new Map([
    ['alias/reports', REPORTS],
    ['alias/aws/ebs', AWS_MANAGED],
    ['alias/growth', UNMANAGED],
  ]);
  return new FakeKms(keys, aliases);
}

interface Setup {
  deps: CheckKeyDeps & { health?: GuardHealthProbe };
  kms: FakeKms;
  publisher: CollectingPublisher;
  logger: RecordingLogger;
}

function setup(kms: FakeKms = fixtureKms(), manifest: LoadedManifest = fixtureManifest('alert')): Setup {
  const publisher = new CollectingPublisher();
  const logger = new RecordingLogger();
  const { deps } = buildGuard({
    manifest,
    aws: { region: REGION },
    logger,
    repoRoot: REPO_ROOT,
    store: kms,
    publisher: () => publisher,
    ledger: new InMemoryRemediationLedger(manifest.flapping),
    clock: new InstantClock(),
  });
  return { deps, kms, publisher, logger };
}

/** Only the fixture's tag entry (app-logs): every listed key with the tag is managed. */
function tagOnlyManifest(): LoadedManifest {
  const manifest = fixtureManifest('alert');
  return { ...manifest, keys: manifest.keys.filter((key) => key.match.tag !== undefined) };
}

const OPTIONS: AuditOptions = {
  runId: 'run-1',
  concurrency: 4,
  reportUnmanaged: true,
  location: LOCATION,
};

function resultsByKey(report: AuditReport): Record<string, string> {
  return Object.fromEntries(report.keys.map((key) => [key.keyId, key.result]));
}

describe('auditKeys: which keys it checks', () => {
  it('checks every managed key (by ID, alias and tag), reports the unmanaged one and skips the AWS managed one', async () => {
    // Prepare
    const { deps, kms, publisher } = setup();

    // Act
    const report = await auditKeys(deps, OPTIONS);

    // Assess
    expect(resultsByKey(report)).toEqual({
      [PAYMENTS]: 'in-sync',
      [REPORTS]: 'in-sync',
      [APP_LOGS]: 'in-sync',
      [UNMANAGED]: 'unmanaged',
    });
    expect(report.summary).toEqual({
      checked: 4,
      inSync: 3,
      drift: 0,
      failed: 0,
      notChecked: 0,
      unmanaged: 1,
    });
    expect(report.complete).toBe(true);
    expect(report.awsManagedSkipped).toBe(1);
    expect(publisher.kinds()).toEqual(['unmanaged-key', 'audit-summary']);
    expect(report.keys.find((key) => key.keyId === REPORTS)).toMatchObject({
      name: 'reports',
      mode: 'alert',
      aliases: ['alias/reports'],
    });
    // Tags only for keys the walk reaches the tag entry with; the AWS managed key (known by its alias)
    // costs nothing; every other key is described, its policy read, and a managed key's grants listed.
    expect(kms.calls).toEqual({
      ListAliases: 1,
      ListKeys: 1,
      ListResourceTags: 2,
      DescribeKey: 4,
      GetKeyPolicy: 4,
      ListGrants: 3,
    });
  });

  it('publishes one finding per drifted key with the run ID, and counts it as drift', async () => {
    // Prepare
    const { deps, kms, publisher } = setup();
    const reports = kms.keys.get(REPORTS);
    if (reports) reports.policy = drifted(reports.policy);

    // Act
    const report = await auditKeys(deps, OPTIONS);

    // Assess
    expect(report.summary).toMatchObject({ checked: 4, inSync: 2, drift: 1 });
    const finding = publisher.findings.find((candidate) => candidate.kind === 'drift');
    expect(finding).toMatchObject({
      id: `run-1:${REPORTS}:drift`,
      trigger: 'audit',
      keyArn: arnOf(REPORTS),
      keyName: 'reports',
      severity: 'critical',
    });
    expect(report.keys.find((key) => key.keyId === REPORTS)?.finding?.id).toBe(finding?.id);
    expect(report.findings.map((candidate) => candidate.kind)).toEqual([
      'drift',
      'unmanaged-key',
      'audit-summary',
    ]);
  });

  it('skips a key without an AWS alias once DescribeKey says AWS manages it', async () => {
    // Prepare
    const kms = fixtureKms();
    kms.aliases.delete('alias/aws/ebs');
    const { deps, publisher } = setup(kms);

    // Act
    const report = await auditKeys(deps, OPTIONS);

    // Assess
    expect(report.awsManagedSkipped).toBe(1);
    expect(report.keys.map((key) => key.keyId)).not.toContain(AWS_MANAGED);
    expect(publisher.findings.filter((finding) => finding.kind === 'unmanaged-key')).toHaveLength(1);
    expect(kms.calls.DescribeKey).toBe(5);
    expect(kms.calls.GetKeyPolicy).toBe(4);
  });

  it.each([
    ['the option is off', false, 'report' as const],
    ["the manifest says 'ignore'", true, 'ignore' as const],
  ])('does not report unmanaged keys with a clean policy when %s', async (_why, report, unmanagedKeys) => {
    // Prepare
    const { deps, publisher } = setup(fixtureKms(), fixtureManifest('alert', { unmanagedKeys }));

    // Act
    const result = await auditKeys(deps, { ...OPTIONS, reportUnmanaged: report });

    // Assess
    expect(result.summary).toMatchObject({ checked: 3, inSync: 3, unmanaged: 0 });
    expect(publisher.kinds()).toEqual(['audit-summary']);
  });

  it('lists no keys at all when nothing needs the listing (no tag matcher, unmanaged keys not reported)', async () => {
    // Prepare
    const manifest = fixtureManifest('alert');
    const { deps, kms } = setup(fixtureKms(), {
      ...manifest,
      keys: manifest.keys.filter((key) => key.match.tag === undefined),
    });

    // Act
    const report = await auditKeys(deps, { ...OPTIONS, reportUnmanaged: false });

    // Assess
    expect(report.summary).toMatchObject({ checked: 2, inSync: 2 });
    expect(kms.calls).toEqual({ ListAliases: 1, DescribeKey: 2, GetKeyPolicy: 2, ListGrants: 2 });
  });

  it('learns the account and Region with one DescribeKey when no location is given', async () => {
    // Prepare
    const { deps, kms } = setup();

    // Act
    const report = await auditKeys(deps, { ...OPTIONS, location: undefined, reportUnmanaged: false });

    // Assess
    expect(report.location).toEqual(LOCATION);
    expect(report.keys.map((key) => key.keyArn).sort()).toEqual(
      [PAYMENTS, REPORTS, APP_LOGS].map(arnOf).sort(),
    );
    // One DescribeKey to learn the location, then one per key checked (four listed, the clean unmanaged one ignored).
    expect(kms.calls.DescribeKey).toBe(5);
  });

  it('leaves out a key named by an ARN in another Region (the guard there audits it)', async () => {
    // Prepare
    const manifest = fixtureManifest('alert');
    const elsewhere = 'arn:aws:kms:eu-west-1:111122223333:key/99999999-0000-0000-0000-000000000000';
    const entry = manifest.keys[0];
    if (!entry) throw new Error('fixture manifest has no keys');
    const { deps, kms } = setup(fixtureKms(), {
      ...manifest,
      keys: [{ ...entry, name: 'elsewhere', match: { keyArn: elsewhere } }, ...manifest.keys.slice(1)],
    });

    // Act
    const report = await auditKeys(deps, { ...OPTIONS, reportUnmanaged: false });

    // Assess
    expect(report.keys.map((key) => key.keyArn)).not.toContain(elsewhere);
    expect(report.complete).toBe(true);
    // The listed keys of this Region only: reports, app-logs, and two no entry manages (judged, not reported).
    expect(kms.calls.GetKeyPolicy).toBe(4);
  });

  it('notes a manifest alias this account does not have, without failing the audit', async () => {
    // Prepare
    const kms = fixtureKms();
    kms.aliases.delete('alias/reports');
    const { deps, publisher } = setup(kms);

    // Act
    const report = await auditKeys(deps, { ...OPTIONS, reportUnmanaged: false });

    // Assess
    expect(report.complete).toBe(true);
    expect(report.notes).toEqual(['manifest entry reports: no key has alias alias/reports here']);
    expect(publisher.findings.at(-1)?.details).toContain(
      'manifest entry reports: no key has alias alias/reports here',
    );
  });
});

describe('auditKeys: manifest entries that match no key', () => {
  it('notes a tag entry whose tag no key carries any more (a mis-tagged key protects nothing)', async () => {
    // Prepare: someone re-tagged the app-logs key.
    const kms = fixtureKms();
    const appLogs = kms.keys.get(APP_LOGS);
    if (appLogs) appLogs.tags = { 'kms-policy-guard': 'app-log' };
    const { deps, publisher } = setup(kms);

    // Act
    const report = await auditKeys(deps, { ...OPTIONS, reportUnmanaged: false });

    // Assess
    const note = 'manifest entry app-logs: no key has tag kms-policy-guard=app-logs here';
    expect(report.notes).toEqual([note]);
    expect(report.keys.map((key) => key.name)).not.toContain('app-logs');
    expect(publisher.findings.at(-1)?.kind).toBe('audit-summary');
    expect(publisher.findings.at(-1)?.details).toContain(note);
  });

  it('adds no note when every entry found its key', async () => {
    const { deps } = setup(fixtureKms());
    const report = await auditKeys(deps, { ...OPTIONS, reportUnmanaged: false });
    expect(report.notes).toEqual([]);
  });
});

describe('auditKeys: bounded concurrency', () => {
  it.each([1, 4, 16])('never has more than %i keys in flight', async (limit) => {
    // Prepare: 40 managed keys matched by tag, all in sync.
    const keys = new Map<string, FakeKey>();
    for (let n = 0; n < 40; n += 1) {
      keys.set(keyId(n), { policy: desired('app-logs', keyId(n)), tags: { 'kms-policy-guard': 'app-logs' } });
    }
    const { deps, kms } = setup(new FakeKms(keys, new Map()), tagOnlyManifest());

    // Act
    const report = await auditKeys(deps, { ...OPTIONS, concurrency: limit });

    // Assess
    expect(report.summary).toMatchObject({ checked: 40, inSync: 40 });
    expect(kms.maxInFlight).toBe(limit);
  });

  it('runPool rejects a limit that is not a positive integer', async () => {
    await expect(runPool([1], 0, async () => {})).rejects.toThrow('positive integer');
  });

  it('runPool keeps going when a worker throws', async () => {
    // Prepare
    const seen: number[] = [];

    // Act
    const result = await runPool([1, 2, 3], 2, async (item) => {
      seen.push(item);
      if (item === 1) throw new Error('boom');
    });

    // Assess
    expect(result.started).toBe(3);
    expect(seen.sort()).toEqual([1, 2, 3]);
  });
});

describe('auditKeys: guard health', () => {
  it.each([
    ['DISABLED', 'is DISABLED', 'aws events enable-rule --name kms-policy-guard-drift'],
    ['missing', 'is missing', 'Redeploy the stack'],
  ])(
    'publishes a critical guard-disabled finding when the drift rule is %s',
    async (state, headline, fix) => {
      // Prepare
      const { deps, publisher } = setup();
      const health = new ScriptedHealth({ ruleName: 'kms-policy-guard-drift', state });

      // Act
      const report = await auditKeys({ ...deps, health }, OPTIONS);

      // Assess
      const finding = publisher.findings.find((candidate) => candidate.kind === 'guard-disabled');
      expect(finding).toMatchObject({ severity: 'critical', keyId: '*', account: ACCOUNT, region: REGION });
      expect(finding?.title).toBe(`[CRITICAL] Guard disabled: drift rule kms-policy-guard-drift ${headline}`);
      expect(finding?.details.join('\n')).toContain(fix);
      expect(report.complete).toBe(true);
    },
  );

  it.each(['ENABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS'])(
    'publishes no guard finding when the rule is %s, and names its state in the summary',
    async (state) => {
      // Prepare
      const { deps, publisher } = setup();

      // Act
      await auditKeys({ ...deps, health: new ScriptedHealth({ ruleName: 'drift', state }) }, OPTIONS);

      // Assess
      expect(publisher.kinds()).not.toContain('guard-disabled');
      expect(publisher.findings.at(-1)?.details).toContain(`Drift rule drift: ${state}.`);
    },
  );

  it('marks the audit incomplete when DescribeRule fails, and still checks every key', async () => {
    // Prepare
    const { deps, publisher } = setup();
    const health = new ScriptedHealth(
      new RetryableAwsError('DescribeRule', 'Rate exceeded', 'ThrottlingException'),
    );

    // Act
    const report = await auditKeys({ ...deps, health }, OPTIONS);

    // Assess
    expect(report.complete).toBe(false);
    expect(report.summary.checked).toBe(4);
    expect(report.healthError).toContain('Rate exceeded');
    expect(publisher.kinds()).toEqual(['unmanaged-key', 'audit-incomplete', 'audit-summary']);
  });
});

const PATTERN_GAP: HealthCheck = {
  check: 'drift rule pattern',
  ok: false,
  problem:
    'the event pattern of rule kms-policy-guard-drift is not the guard\'s: detail.eventName lacks "PutKeyPolicy"',
  fix: 'Redeploy the stack (serverless deploy), which restores it.',
};
const TRAIL_GAP: HealthCheck = {
  check: 'CloudTrail trail',
  ok: false,
  problem:
    "no CloudTrail trail delivers us-west-2's KMS management write events: trail arn:aws:cloudtrail:us-west-2:111122223333:trail/main is not logging",
  fix: 'Start it: aws cloudtrail start-logging --name arn:aws:cloudtrail:us-west-2:111122223333:trail/main',
};
const PASSED: HealthCheck[] = [
  { check: 'drift rule target', ok: true },
  { check: 'audit schedule', ok: true },
  { check: 'findings topic subscriptions', ok: true },
];

describe('auditKeys: guard-degraded', () => {
  it('publishes one critical guard-degraded finding naming every gap, how to fix it, and what passed', async () => {
    // Prepare
    const { deps, publisher } = setup();
    const health = new ScriptedHealth({ ruleName: 'kms-policy-guard-drift', state: 'ENABLED' }, [
      PATTERN_GAP,
      ...PASSED,
      TRAIL_GAP,
    ]);

    // Act
    const report = await auditKeys({ ...deps, health }, OPTIONS);

    // Assess
    expect(health.calls).toBe(1);
    expect(report.complete).toBe(true);
    expect(report.guardChecks).toEqual([PATTERN_GAP, ...PASSED, TRAIL_GAP]);
    expect(publisher.kinds()).toEqual(['unmanaged-key', 'guard-degraded', 'audit-summary']);
    const finding = publisher.findings.find((candidate) => candidate.kind === 'guard-degraded');
    expect(finding).toMatchObject({
      id: 'run-1:*:guard-degraded',
      severity: 'critical',
      title: '[CRITICAL] Guard degraded: 2 gaps: drift rule pattern, CloudTrail trail',
      keyArn: `arn:aws:kms:${REGION}:${ACCOUNT}:key/*`,
      keyId: '*',
      account: ACCOUNT,
      region: REGION,
      action: 'none',
      trigger: 'audit',
    });
    expect(finding?.details).toEqual([
      'The guard is deployed, but part of what feeds, runs or hears it has a gap: key policy changes may go unseen or unreported until it is closed.',
      `1. drift rule pattern: ${PATTERN_GAP.problem}`,
      `   Fix: ${PATTERN_GAP.fix}`,
      `2. CloudTrail trail: ${TRAIL_GAP.problem}`,
      `   Fix: ${TRAIL_GAP.fix}`,
      'Passed: drift rule target, audit schedule, findings topic subscriptions.',
      'Every audit checks again; this finding repeats until every gap is closed.',
    ]);
    expect(publisher.findings.at(-1)?.details).toContain(
      'Guard health: 5 checks, 2 failed (drift rule pattern, CloudTrail trail).',
    );
  });

  it('publishes no guard-degraded finding when every check passed, and says so in the summary', async () => {
    // Prepare
    const { deps, publisher } = setup();
    const health = new ScriptedHealth({ ruleName: 'kms-policy-guard-drift', state: 'ENABLED' }, PASSED);

    // Act
    await auditKeys({ ...deps, health }, OPTIONS);

    // Assess
    expect(publisher.kinds()).toEqual(['unmanaged-key', 'audit-summary']);
    expect(publisher.findings.at(-1)?.details).toContain('Guard health: 3 checks, all passed.');
  });

  it('publishes guard-disabled and guard-degraded side by side, disabled first', async () => {
    // Prepare
    const { deps, publisher } = setup();
    const health = new ScriptedHealth({ ruleName: 'kms-policy-guard-drift', state: 'DISABLED' }, [TRAIL_GAP]);

    // Act
    await auditKeys({ ...deps, health }, OPTIONS);

    // Assess
    expect(publisher.kinds()).toEqual(['unmanaged-key', 'guard-disabled', 'guard-degraded', 'audit-summary']);
    expect(publisher.findings.find((finding) => finding.kind === 'guard-degraded')?.title).toBe(
      '[CRITICAL] Guard degraded: 1 gap: CloudTrail trail',
    );
  });

  it('logs the gaps as an error, so a topic without subscribers still leaves a trace', async () => {
    // Prepare
    const { deps, logger } = setup();
    const health = new ScriptedHealth({ ruleName: 'kms-policy-guard-drift', state: 'ENABLED' }, [TRAIL_GAP]);

    // Act
    await auditKeys({ ...deps, health }, OPTIONS);

    // Assess
    expect(logger.lines.filter((line) => line.message === 'audit_guard_degraded')).toEqual([
      expect.objectContaining({ level: 'error', attributes: expect.objectContaining({ gaps: [TRAIL_GAP] }) }),
    ]);
  });
});

describe('auditKeys: an audit that fails part-way', () => {
  it.each([
    [
      'a retryable AWS error after the SDK retries',
      new RetryableAwsError('GetKeyPolicy', 'Rate exceeded', 'ThrottlingException'),
    ],
    ['an unexpected error', new TypeError("Cannot read properties of undefined (reading 'Statement')")],
  ])('lists the key as not checked, never in sync, after %s', async (_what, error) => {
    // Prepare
    const { deps, kms, publisher } = setup();
    kms.failures.set(`GetKeyPolicy:${REPORTS}`, error);

    // Act
    const report = await auditKeys(deps, OPTIONS);

    // Assess
    expect(report.complete).toBe(false);
    expect(report.summary).toEqual({
      checked: 3,
      inSync: 2,
      drift: 0,
      failed: 0,
      notChecked: 1,
      unmanaged: 1,
    });
    expect(report.keys.map((key) => key.keyId)).not.toContain(REPORTS);
    expect(report.notChecked).toEqual([
      { keyRef: arnOf(REPORTS), keyId: REPORTS, name: 'reports', reason: error.message },
    ]);
    const incomplete = publisher.findings.find((finding) => finding.kind === 'audit-incomplete');
    expect(incomplete?.severity).toBe('high');
    expect(incomplete?.details.join('\n')).toContain(`reports ${arnOf(REPORTS)}: ${error.message}`);
    const summary = publisher.findings.at(-1);
    expect(summary?.kind).toBe('audit-summary');
    expect(summary?.title).toContain('2 in sync, 0 drift, 0 failed, 1 not checked');
  });

  it('stops starting keys after maxFailedKeys failures and lists the rest as not started', async () => {
    // Prepare: 20 tag-managed keys, every GetKeyPolicy throttled.
    const keys = new Map<string, FakeKey>();
    for (let n = 0; n < 20; n += 1) {
      keys.set(keyId(n), { policy: '{}', tags: { 'kms-policy-guard': 'app-logs' } });
    }
    const { deps, kms } = setup(new FakeKms(keys, new Map()), tagOnlyManifest());
    kms.failures.set(
      'GetKeyPolicy:*',
      new RetryableAwsError('GetKeyPolicy', 'Rate exceeded', 'ThrottlingException'),
    );

    // Act
    const report = await auditKeys(deps, { ...OPTIONS, concurrency: 1, maxFailedKeys: 3 });

    // Assess
    expect(kms.calls.GetKeyPolicy).toBe(3);
    expect(report.summary).toMatchObject({ checked: 0, inSync: 0, notChecked: 20 });
    expect(
      report.notChecked.filter((key) => key.reason.startsWith('not started: the audit stopped after 3 keys')),
    ).toHaveLength(17);
    expect(report.findings.find((finding) => finding.kind === 'audit-incomplete')?.severity).toBe('critical');
  });

  it('starts no key when the invocation is about to time out', async () => {
    // Prepare
    const { deps, kms } = setup();

    // Act
    const report = await auditKeys(deps, { ...OPTIONS, timeLeftMs: () => 5_000 });

    // Assess
    expect(kms.calls.GetKeyPolicy).toBeUndefined();
    expect(report.summary.inSync).toBe(0);
    expect(report.notChecked[0]?.reason).toBe('not started: less than 20 s of the invocation were left');
  });

  it('reports every manifest entry as not checked when the key inventory fails', async () => {
    // Prepare
    const { deps, kms, publisher } = setup();
    kms.failures.set(
      'ListAliases:*',
      new RetryableAwsError('ListAliases', 'Service unavailable', 'KMSInternalException'),
    );

    // Act
    const report = await auditKeys(deps, OPTIONS);

    // Assess
    expect(report.complete).toBe(false);
    expect(report.notChecked.map((key) => key.name)).toEqual(['payments-data', 'reports', 'app-logs']);
    const incomplete = publisher.findings.find((finding) => finding.kind === 'audit-incomplete');
    expect(incomplete?.severity).toBe('critical');
    expect(incomplete?.details.join('\n')).toContain(
      'the key inventory failed: ListAliases failed after retries',
    );
  });

  it('reports a key that vanished as failed (key-unavailable), not as not checked', async () => {
    // Prepare
    const kms = fixtureKms();
    kms.keys.delete(PAYMENTS);
    const { deps } = setup(kms);

    // Act
    const report = await auditKeys(deps, OPTIONS);

    // Assess
    expect(report.complete).toBe(true);
    expect(report.keys.find((key) => key.keyId === PAYMENTS)).toMatchObject({
      result: 'failed',
      finding: { kind: 'key-unavailable' },
    });
  });

  it('still publishes the summary when publishing the incomplete finding fails, and says so', async () => {
    // Prepare
    const { deps, kms } = setup();
    kms.failures.set(`GetKeyPolicy:${REPORTS}`, new Error('socket hang up'));
    const published: string[] = [];
    const publisher: FindingPublisher = {
      publish: async (finding) => {
        if (finding.kind === 'audit-incomplete') throw new Error('SNS is down');
        published.push(finding.kind);
      },
    };

    // Act
    const report = await auditKeys({ ...deps, publisher }, OPTIONS);

    // Assess
    expect(published).toEqual(['unmanaged-key', 'audit-summary']);
    expect(report.problems).toEqual(['publishing audit-incomplete failed: SNS is down']);
    expect(report.complete).toBe(false);
  });
});

describe('auditKeys: the outbox sweep (docs/architecture.md#outbox)', () => {
  /** A restore whose every Publish failed in its drift invocation: held, "not yet confirmed". */
  const HELD: Finding = {
    id: `8d2f4c1a-6b7e-4f0d-9c3a-2e5b7a9d1f30:${REPORTS}:remediated`,
    kind: 'remediated',
    severity: 'critical',
    title: '[CRITICAL] Key policy restored: reports by user/Alice (not yet confirmed)',
    keyArn: arnOf(REPORTS),
    keyId: REPORTS,
    aliases: ['alias/reports'],
    region: REGION,
    account: ACCOUNT,
    mode: 'remediate',
    action: 'remediated',
    trigger: 'event',
    details: [
      'The guard began restoring the desired policy, but the check stopped before it confirmed the restore.',
    ],
    time: '2026-03-02T09:58:00.000Z',
  };

  it('delivers a finding an earlier invocation held, releases it, and stays complete', async () => {
    // Prepare
    const { deps, publisher } = setup();
    await deps.outbox.hold(HELD);

    // Act
    const report = await auditKeys(deps, OPTIONS);

    // Assess
    expect(publisher.findings.filter((finding) => finding.id === HELD.id)).toEqual([HELD]);
    expect(await deps.outbox.pending(LOCATION)).toEqual([]);
    expect(report.complete).toBe(true);
    expect(report.problems).toEqual([]);
    expect(publisher.kinds()).not.toContain('audit-incomplete');
  });

  it('reports a held finding SNS still refuses as an audit problem: not clean, the finding stays held', async () => {
    // Prepare
    const { deps } = setup();
    await deps.outbox.hold(HELD);
    const published: Finding[] = [];
    const publisher: FindingPublisher = {
      publish: async (finding) => {
        if (finding.id === HELD.id) throw new Error('SNS is down');
        published.push(finding);
      },
    };

    // Act
    const report = await auditKeys({ ...deps, publisher }, OPTIONS);

    // Assess
    expect(report.complete).toBe(false);
    expect(report.problems).toEqual([`held finding ${HELD.id} still not delivered: SNS is down`]);
    expect((await deps.outbox.pending(LOCATION)).map((finding) => finding.id)).toEqual([HELD.id]);
    const incomplete = published.find((finding) => finding.kind === 'audit-incomplete');
    expect(incomplete?.details).toContain(`held finding ${HELD.id} still not delivered: SNS is down`);
    expect(report.summary).toMatchObject({ checked: 4, inSync: 3, notChecked: 0 });
  });
});

describe('auditKeys: progress', () => {
  it('announces the plan and every finished key', async () => {
    // Prepare
    const { deps } = setup();
    const events: string[] = [];

    // Act
    await auditKeys(deps, {
      ...OPTIONS,
      concurrency: 1,
      progress: {
        planned: (total) => events.push(`planned ${total}`),
        keyDone: (done, total, key) => events.push(`${done}/${total} ${key.result}`),
      },
    });

    // Assess: five listed keys (the AWS managed one is skipped, but still counted as done).
    expect(events[0]).toBe('planned 5');
    expect(events.slice(1)).toHaveLength(5);
    expect(events.at(-1)).toMatch(/^5\/5 /);
    expect(events.filter((event) => event.endsWith('skipped'))).toHaveLength(1);
  });
});

describe('auditKeys over the real KMS adapter (aws-sdk-client-mock)', () => {
  beforeEach(() => resetMocks());

  it('follows every page of ListKeys and ListAliases', async () => {
    // Prepare: 3 pages of keys, 3 pages of aliases; the unmanaged key is on the last page.
    const page = (ids: string[], next?: string) => ({
      Keys: ids.map((id) => ({ KeyId: id, KeyArn: arnOf(id) })),
      Truncated: next !== undefined,
      NextMarker: next,
    });
    kmsMock
      .on(ListKeysCommand, { Marker: undefined })
      .resolves(page([PAYMENTS], 'k2'))
      .on(ListKeysCommand, { Marker: 'k2' })
      .resolves(page([REPORTS, AWS_MANAGED], 'k3'))
      .on(ListKeysCommand, { Marker: 'k3' })
      .resolves(page([UNMANAGED]));
    kmsMock
      .on(ListAliasesCommand, { Marker: undefined })
      .resolves({
        Aliases: [{ AliasName: 'alias/reports', TargetKeyId: REPORTS }],
        Truncated: true,
        NextMarker: 'a2',
      })
      .on(ListAliasesCommand, { Marker: 'a2' })
      .resolves({
        Aliases: [{ AliasName: 'alias/aws/ebs', TargetKeyId: AWS_MANAGED }],
        Truncated: true,
        NextMarker: 'a3',
      })
      .on(ListAliasesCommand, { Marker: 'a3' })
      .resolves({ Aliases: [{ AliasName: 'alias/aws/rds' }], Truncated: false });
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [], Truncated: false });
    kmsMock
      .on(GetKeyPolicyCommand, { KeyId: PAYMENTS })
      .resolves({ Policy: desired('payments-data', PAYMENTS) });
    kmsMock
      .on(GetKeyPolicyCommand, { KeyId: REPORTS })
      .resolves({ Policy: drifted(desired('reports', REPORTS)) });
    kmsMock.on(GetKeyPolicyCommand, { KeyId: UNMANAGED }).resolves({ Policy: desired('reports', UNMANAGED) });
    kmsMock.on(DescribeKeyCommand).callsFake((input: { KeyId: string }) => ({
      KeyMetadata: {
        KeyId: input.KeyId,
        Arn: arnOf(input.KeyId),
        KeyState: 'Enabled',
        KeyManager: 'CUSTOMER',
      },
    }));
    const { deps } = setup();
    const store = new CachingKeyStore(new KmsKeyPolicyStore(new KMSClient({ region: REGION })), deps.clock);

    // Act
    const report = await auditKeys({ ...deps, store }, OPTIONS);

    // Assess
    expect(resultsByKey(report)).toEqual({
      [PAYMENTS]: 'in-sync',
      [REPORTS]: 'drift',
      [UNMANAGED]: 'unmanaged',
    });
    expect(kmsMock.commandCalls(ListKeysCommand)).toHaveLength(3);
    expect(kmsMock.commandCalls(ListAliasesCommand)).toHaveLength(3);
    // Every key but the AWS managed one (known by its alias) is described; that one is never read.
    expect(
      kmsMock
        .commandCalls(DescribeKeyCommand)
        .map((call) => call.args[0].input.KeyId)
        .sort(),
    ).toEqual([PAYMENTS, REPORTS, UNMANAGED].sort());
    expect(
      kmsMock
        .commandCalls(GetKeyPolicyCommand)
        .map((call) => call.args[0].input.KeyId)
        .sort(),
    ).toEqual([PAYMENTS, REPORTS, UNMANAGED].sort());
  });
});

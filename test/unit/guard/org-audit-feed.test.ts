/**
 * The organization audit's feed check per unit (src/guard/org-audit/spoke-feed.ts, auditUnit): a member's
 * gaps make one critical guard-degraded finding of that account and Region (the hub's finding contract), a
 * healthy member none; the compliance view learns the check either way; the hub's own units are not asked
 * (the fan-out checks the hub's health).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { buildGuard } from '../../../src/app/guard-deps';
import { StaticDirectory } from '../../../src/aws/organization';
import type { ComplianceRecord } from '../../../src/core/compliance';
import type { Finding } from '../../../src/core/finding';
import type { KeyLocation } from '../../../src/core/key-arn';
import type { HealthCheck, SpokeFeedProbe } from '../../../src/guard/health';
import { InMemoryRemediationLedger } from '../../../src/guard/memory-ledger';
import { InMemoryOutbox } from '../../../src/guard/memory-state';
import { auditUnit, type OrgAuditDeps } from '../../../src/guard/org-audit/run';
import { checkSpokeFeed, type SpokeFeedDeps } from '../../../src/guard/org-audit/spoke-feed';
import type { AuditQueue, AuditRuns, FindingPublisher } from '../../../src/guard/ports';
import { InMemoryKms } from '../support/in-memory-kms';
import { fixtureManifest, InstantClock, REPO_ROOT } from './harness';

const HUB = '111122223333';
const MEMBER = '444455556666';
const REGION = 'eu-west-1';
const MEMBER_LOCATION: KeyLocation = { partition: 'aws', region: REGION, accountId: MEMBER };
const RUN = 'run-7';

const DISABLED_RULE: HealthCheck = {
  check: 'forward rule',
  ok: false,
  problem:
    'the rule kms-policy-guard-spoke-forward that forwards this account’s KMS events to the hub bus is DISABLED',
  fix: 'Enable it again: aws events enable-rule --name kms-policy-guard-spoke-forward --region eu-west-1',
};
const STOPPED_TRAIL: HealthCheck = {
  check: 'CloudTrail trail',
  ok: false,
  problem: 'trail arn:aws:cloudtrail:eu-west-1:444455556666:trail/t is not logging',
  fix: 'Start it: aws cloudtrail start-logging --name arn:aws:cloudtrail:eu-west-1:444455556666:trail/t',
};
const PASSED: HealthCheck[] = [
  { check: 'forward rule pattern', ok: true },
  { check: 'forward rule target', ok: true },
];

function probeOf(checks: HealthCheck[]): SpokeFeedProbe & { asked: KeyLocation[] } {
  const asked: KeyLocation[] = [];
  return {
    asked,
    checkFeed: async (location) => {
      asked.push(location);
      return checks;
    },
  };
}

function feedDeps(publish?: FindingPublisher['publish']) {
  const published: Finding[] = [];
  const records: ComplianceRecord[] = [];
  const outbox = new InMemoryOutbox();
  const deps: SpokeFeedDeps = {
    clock: new InstantClock(),
    publisher: { publish: publish ?? (async (finding) => void published.push(finding)) },
    outbox,
    logger: new Logger({ serviceName: 'kms-policy-guard', logLevel: 'CRITICAL' }),
    compliance: { record: (record) => void records.push(record), flush: async () => undefined },
  };
  return { deps, published, records, outbox };
}

describe('checkSpokeFeed', () => {
  it('publishes one critical guard-degraded finding of the member’s account and Region, naming each gap and its fix', async () => {
    // Prepare
    const { deps, published, records } = feedDeps();

    // Act
    const outcome = await checkSpokeFeed(
      deps,
      probeOf([DISABLED_RULE, ...PASSED, STOPPED_TRAIL]),
      RUN,
      MEMBER_LOCATION,
    );

    // Assess
    expect(published).toHaveLength(1);
    const [finding] = published;
    expect(finding).toMatchObject({
      id: `${RUN}:*:guard-degraded`,
      kind: 'guard-degraded',
      severity: 'critical',
      account: MEMBER,
      region: REGION,
      keyArn: `arn:aws:kms:${REGION}:${MEMBER}:key/*`,
      trigger: 'audit',
      title: '[CRITICAL] Guard degraded: 2 gaps: forward rule, CloudTrail trail',
    });
    expect(finding?.details).toEqual(
      expect.arrayContaining([
        `1. forward rule: ${DISABLED_RULE.problem}`,
        `   Fix: ${DISABLED_RULE.fix}`,
        `2. CloudTrail trail: ${STOPPED_TRAIL.problem}`,
        `   Fix: ${STOPPED_TRAIL.fix}`,
        'Passed: forward rule pattern, forward rule target.',
      ]),
    );
    expect(outcome).toEqual({
      findings: published,
      gaps: ['forward rule', 'CloudTrail trail'],
      problems: [],
    });
    expect(records).toEqual([
      expect.objectContaining({
        location: MEMBER_LOCATION,
        checked: ['guard-degraded'],
        findings: published,
      }),
    ]);
  });

  it('publishes nothing for a healthy member, and tells the compliance view its guard-degraded is closed', async () => {
    // Prepare
    const { deps, published, records } = feedDeps();

    // Act
    const outcome = await checkSpokeFeed(
      deps,
      probeOf([{ check: 'forward rule', ok: true }, ...PASSED]),
      RUN,
      MEMBER_LOCATION,
    );

    // Assess
    expect(published).toEqual([]);
    expect(outcome.findings).toEqual([]);
    expect(records).toEqual([
      expect.objectContaining({ location: MEMBER_LOCATION, checked: ['guard-degraded'], findings: [] }),
    ]);
  });

  it('keeps a finding SNS refused in the outbox and says so, without throwing', async () => {
    // Prepare
    const { deps, outbox } = feedDeps(async () => {
      throw new Error('SNS is down');
    });

    // Act
    const outcome = await checkSpokeFeed(deps, probeOf([DISABLED_RULE]), RUN, MEMBER_LOCATION);

    // Assess
    expect(outcome.problems).toEqual([
      expect.stringMatching(/^publishing guard-degraded failed: .*SNS is down/),
    ]);
    expect((await outbox.pending(MEMBER_LOCATION)).map((finding) => finding.id)).toEqual([
      `${RUN}:*:guard-degraded`,
    ]);
  });
});

describe('auditUnit with a spoke feed probe', () => {
  function orgDeps(probe: SpokeFeedProbe): { deps: OrgAuditDeps; published: Finding[] } {
    const manifest = fixtureManifest();
    const published: Finding[] = [];
    const logger = new Logger({ serviceName: 'kms-policy-guard', logLevel: 'CRITICAL' });
    const guard = buildGuard({
      manifest,
      aws: { region: REGION },
      logger,
      repoRoot: REPO_ROOT,
      publisher: () => ({ publish: async (finding) => void published.push(finding) }),
      ledger: new InMemoryRemediationLedger(manifest.flapping),
      clock: new InstantClock(),
      store: new InMemoryKms({ partition: 'aws', region: REGION, accountId: HUB }),
      hub: {
        settings: {
          hubAccountId: HUB,
          regions: [REGION],
          memberAccounts: [MEMBER],
          spokeRoleName: 'kms-policy-guard-spoke',
          sessionName: 'kms-policy-guard-hub',
        },
        directory: new StaticDirectory([MEMBER], HUB),
        storeFor: (location) => new InMemoryKms(location),
        access: {
          ensure: async () => undefined,
          principalFor: (accountId) =>
            accountId === HUB ? undefined : `arn:aws:iam::${accountId}:role/kms-policy-guard-spoke`,
          settings: (base, _accountId, region) => ({ ...base, region }),
        },
      },
    });
    const scope = guard.hub?.scope;
    if (!scope) throw new Error('buildGuard built no hub');
    const unused = async (): Promise<never> => {
      throw new Error('not used by auditUnit');
    };
    const runs: AuditRuns = {
      start: unused,
      report: unused,
      progress: unused,
      units: unused,
      claimSummary: unused,
      summaryPublished: unused,
    };
    const queue: AuditQueue = { sendUnits: unused, sendDeadline: unused };
    return { deps: { ...guard.deps, hub: scope, runs, queue, spokeFeed: probe }, published };
  }

  const OPTIONS = { concurrency: 2, reportUnmanaged: false };

  it('checks a member unit’s feed first and counts its guard-degraded finding in the unit’s report', async () => {
    // Prepare
    const probe = probeOf([DISABLED_RULE]);
    const { deps, published } = orgDeps(probe);

    // Act
    const report = await auditUnit(
      deps,
      { type: 'unit', runId: RUN, accountId: MEMBER, region: REGION, partition: 'aws' },
      OPTIONS,
    );

    // Assess
    expect(probe.asked).toEqual([MEMBER_LOCATION]);
    expect(published.filter((finding) => finding.kind === 'guard-degraded')).toEqual([
      expect.objectContaining({ account: MEMBER, region: REGION, severity: 'critical' }),
    ]);
    expect(report).toMatchObject({ accountId: MEMBER, region: REGION, status: 'checked' });
    // The unit's every finding counted: the keys' (the fixture's entries have no key here) and the feed's.
    expect(report.findings).toBe(published.length);
  });

  it('leaves the hub’s own unit to the fan-out’s health check: its feed is not asked', async () => {
    // Prepare
    const probe = probeOf([DISABLED_RULE]);
    const { deps, published } = orgDeps(probe);

    // Act
    const report = await auditUnit(
      deps,
      { type: 'unit', runId: RUN, accountId: HUB, region: REGION, partition: 'aws' },
      OPTIONS,
    );

    // Assess
    expect(probe.asked).toEqual([]);
    expect(published.filter((finding) => finding.kind === 'guard-degraded')).toEqual([]);
    expect(report).toMatchObject({ accountId: HUB, status: 'checked' });
    expect(report.findings).toBe(published.length);
  });
});

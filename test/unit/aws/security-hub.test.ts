/**
 * The Security Hub sink over a mocked SecurityHubClient (aws-sdk-client-mock): batching, which records
 * it closes, and what each answer of BatchImportFindings and GetFindings leads to, with exact call counts.
 */
import {
  type AwsSecurityFinding,
  BatchImportFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { mockClient } from 'aws-sdk-client-mock';
import { asffFinding } from '../../../src/alerts/asff';
import { buildGuard } from '../../../src/app/guard-deps';
import type { AwsClientSettings } from '../../../src/aws/client-settings';
import { securityHubClients } from '../../../src/aws/security-hub';
import { SecurityHubSink } from '../../../src/aws/security-hub-sink';
import type { ComplianceRecord } from '../../../src/core/compliance';
import type { Finding } from '../../../src/core/finding';
import type { ComplianceViewProblem } from '../../../src/guard/compliance';
import { RetryableAwsError } from '../../../src/guard/errors';
import { SPOKE_SECURITY_HUB_ACTIONS } from '../../../src/guard/permissions';
import { scopeFinding } from '../../../src/guard/scope-findings';
import { driftFinding } from '../alerts/slack-fixtures';
import {
  awsError,
  fixtureManifest,
  InstantClock,
  REPO_ROOT,
  RecordingLogger,
  TOPIC_ARN,
} from '../guard/harness';

const securityHub = mockClient(SecurityHubClient);
const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const PRODUCT_ARN = `arn:aws:securityhub:${REGION}:${ACCOUNT}:product/${ACCOUNT}/default`;
const CHECKED_AT = '2026-05-05T08:00:00.000Z';

function keyArn(index: number, account = ACCOUNT): string {
  return `arn:aws:kms:${REGION}:${account}:key/00000000-0000-0000-0000-${String(index).padStart(12, '0')}`;
}

/** One check of key `index`: its findings and the subjects it looked at. */
function recordOf(
  index: number,
  changes: { findings?: Finding[]; checked?: ComplianceRecord['checked']; account?: string } = {},
): ComplianceRecord {
  const account = changes.account ?? ACCOUNT;
  const arn = keyArn(index, account);
  return {
    keyArn: arn,
    keyId: arn.slice(arn.lastIndexOf('/') + 1),
    location: { partition: 'aws', region: REGION, accountId: account },
    aliases: [],
    trigger: 'audit',
    time: CHECKED_AT,
    findings: changes.findings ?? [],
    checked: changes.checked ?? ['key-policy'],
  };
}

function driftOf(index: number, changes: Partial<Finding> = {}): Finding {
  const arn = keyArn(index, changes.account ?? ACCOUNT);
  return driftFinding({ keyArn: arn, keyId: arn.slice(arn.lastIndexOf('/') + 1), ...changes });
}

/** The open record Security Hub holds for a finding (as GetFindings returns it). */
function openRecord(finding: Finding, changes: Partial<AwsSecurityFinding> = {}): AwsSecurityFinding {
  const asff = asffFinding(finding);
  if (!asff) throw new Error('no record');
  return { ...asff, ...changes };
}

function sinkWith(reported: ComplianceViewProblem[] = []) {
  const clock = new InstantClock();
  const logger = new RecordingLogger();
  const clients: [string, string][] = [];
  const client = new SecurityHubClient({ region: REGION });
  const sink = new SecurityHubSink({
    clientFor: (account, region) => {
      clients.push([account, region]);
      return client;
    },
    logger,
    clock,
    report: async (problem) => {
      reported.push(problem);
    },
  });
  return { sink, clock, logger, clients, reported };
}

function imported(call: number): AwsSecurityFinding[] {
  return securityHub.commandCalls(BatchImportFindingsCommand)[call]?.args[0].input.Findings ?? [];
}

beforeEach(() => {
  securityHub.reset();
  securityHub.on(BatchImportFindingsCommand).callsFake((input: { Findings?: unknown[] }) => ({
    SuccessCount: input.Findings?.length ?? 0,
    FailedCount: 0,
    FailedFindings: [],
  }));
  securityHub.on(GetFindingsCommand).resolves({ Findings: [] });
});

describe('SecurityHubSink: what it sends', () => {
  it('imports each finding as its ASFF record in one call, in the account of the key, and reads nothing when no subject is back in sync', async () => {
    // Prepare
    const { sink, clients } = sinkWith();
    sink.record(recordOf(1, { findings: [driftOf(1)] }));

    // Act
    await sink.flush();

    // Assess
    expect(securityHub.commandCalls(BatchImportFindingsCommand)).toHaveLength(1);
    expect(securityHub.commandCalls(GetFindingsCommand)).toHaveLength(0);
    expect(clients).toEqual([[ACCOUNT, REGION]]);
    expect(imported(0)).toEqual([asffFinding(driftOf(1))]);
  });

  it('sends 250 findings in three calls of 100, 100 and 50', async () => {
    // Prepare
    const { sink } = sinkWith();
    for (let index = 0; index < 250; index += 1) sink.record(recordOf(index, { findings: [driftOf(index)] }));

    // Act
    await sink.flush();

    // Assess
    expect(
      securityHub.commandCalls(BatchImportFindingsCommand).map((call) => call.args[0].input.Findings?.length),
    ).toEqual([100, 100, 50]);
  });

  it('sends one record per ID: the latest finding of a subject wins', async () => {
    // Prepare
    const { sink } = sinkWith();
    sink.record(
      recordOf(1, { findings: [driftOf(1, { time: '2026-05-05T08:00:00.000Z', action: 'alerted' })] }),
    );
    sink.record(
      recordOf(1, {
        findings: [
          driftOf(1, { kind: 'remediated', action: 'remediated', time: '2026-05-05T08:00:05.000Z' }),
        ],
      }),
    );

    // Act
    await sink.flush();

    // Assess
    expect(imported(0)).toHaveLength(1);
    expect(imported(0)[0]).toMatchObject({
      Compliance: { Status: 'PASSED' },
      UpdatedAt: '2026-05-05T08:00:05.000Z',
    });
  });

  it('sends each account and Region through its own client from the injected factory', async () => {
    // Prepare
    const { sink, clients } = sinkWith();
    sink.record(recordOf(1, { findings: [driftOf(1)] }));
    sink.record(
      recordOf(2, { account: '444455556666', findings: [driftOf(2, { account: '444455556666' })] }),
    );

    // Act
    await sink.flush();

    // Assess
    expect(clients).toEqual([
      [ACCOUNT, REGION],
      ['444455556666', REGION],
    ]);
    expect([imported(0)[0]?.ProductArn, imported(1)[0]?.ProductArn]).toEqual([
      PRODUCT_ARN,
      `arn:aws:securityhub:${REGION}:444455556666:product/444455556666/default`,
    ]);
  });

  it('sends nothing and calls nothing when nothing was recorded', async () => {
    // Prepare
    const { sink, clients } = sinkWith();

    // Act
    await sink.flush();

    // Assess
    expect(securityHub.calls()).toHaveLength(0);
    expect(clients).toEqual([]);
  });
});

describe('SecurityHubSink: closing what is back in its desired state', () => {
  it('archives only the open records of the subjects a check looked at and reported nothing about', async () => {
    // Prepare
    const { sink } = sinkWith();
    const policy = openRecord(driftOf(1), { UpdatedAt: '2026-05-04T00:00:00.000Z' });
    const grant = openRecord(
      driftOf(1, { kind: 'grant-not-allowed', grant: { grantId: 'g1', operations: ['Decrypt'] } }),
      {
        UpdatedAt: '2026-05-04T00:00:00.000Z',
      },
    );
    const stillThere = openRecord(
      driftOf(1, { kind: 'grant-not-allowed', grant: { grantId: 'g2', operations: ['Decrypt'] } }),
      {
        UpdatedAt: '2026-05-04T00:00:00.000Z',
      },
    );
    const otherKey = openRecord(driftOf(2), { UpdatedAt: '2026-05-04T00:00:00.000Z' });
    const archived = openRecord(driftOf(1, { kind: 'key-state-changed' }), { RecordState: 'ARCHIVED' });
    const notOurs = openRecord(driftOf(1, { kind: 'binding-changed' }), {
      ProductArn: 'arn:aws:securityhub:eu-west-1::product/aws/guardduty',
    });
    securityHub
      .on(GetFindingsCommand)
      .resolves({ Findings: [policy, grant, stillThere, otherKey, archived, notOurs] });
    const g2 = driftOf(1, {
      kind: 'grant-not-allowed',
      time: CHECKED_AT,
      grant: { grantId: 'g2', operations: ['Decrypt'] },
    });
    sink.record(
      recordOf(1, { findings: [g2], checked: ['key-policy', 'key-state', 'binding', 'grant', 'access'] }),
    );

    // Act
    await sink.flush();

    // Assess
    expect(securityHub.commandCalls(GetFindingsCommand)).toHaveLength(1);
    expect(securityHub.commandCalls(GetFindingsCommand)[0]?.args[0].input.Filters).toEqual({
      ProductArn: [{ Value: PRODUCT_ARN, Comparison: 'EQUALS' }],
      AwsAccountId: [{ Value: ACCOUNT, Comparison: 'EQUALS' }],
      RecordState: [{ Value: 'ACTIVE', Comparison: 'EQUALS' }],
      Id: [{ Value: 'kms-policy-guard/', Comparison: 'PREFIX' }],
      ResourceId: [{ Value: keyArn(1), Comparison: 'EQUALS' }],
    });
    const sent = imported(0).map((finding) => [finding.Id, finding.Compliance?.Status, finding.RecordState]);
    expect(sent).toEqual([
      [stillThere.Id, 'FAILED', 'ACTIVE'],
      [policy.Id, 'PASSED', 'ARCHIVED'],
      [grant.Id, 'PASSED', 'ARCHIVED'],
    ]);
  });

  it('does not archive a record updated after the check began (a newer finding wins)', async () => {
    // Prepare
    const { sink } = sinkWith();
    securityHub.on(GetFindingsCommand).resolves({
      Findings: [openRecord(driftOf(1), { UpdatedAt: '2026-05-05T08:00:01.000Z' })],
    });
    sink.record(recordOf(1, { checked: ['key-policy'] }));

    // Act
    await sink.flush();

    // Assess
    expect(securityHub.commandCalls(GetFindingsCommand)).toHaveLength(1);
    expect(securityHub.commandCalls(BatchImportFindingsCommand)).toHaveLength(0);
  });

  it('reads every page of open records, and filters by resource only for at most 20 keys', async () => {
    // Prepare
    const { sink } = sinkWith();
    securityHub
      .on(GetFindingsCommand)
      .resolvesOnce({ Findings: [], NextToken: 'page-2' })
      .resolvesOnce({ Findings: [openRecord(driftOf(7), { UpdatedAt: '2026-05-04T00:00:00.000Z' })] });
    for (let index = 0; index < 21; index += 1) sink.record(recordOf(index));

    // Act
    await sink.flush();

    // Assess
    const calls = securityHub.commandCalls(GetFindingsCommand);
    expect(calls.map((call) => call.args[0].input.NextToken)).toEqual([undefined, 'page-2']);
    expect(calls[0]?.args[0].input.Filters?.ResourceId).toBeUndefined();
    expect(imported(0).map((finding) => finding.Id)).toEqual([`kms-policy-guard/${keyArn(7)}/key-policy`]);
  });
});

describe('SecurityHubSink: partial failures and errors', () => {
  it('sends again, after 500 ms, the findings Security Hub failed one by one with a transient code', async () => {
    // Prepare
    const { sink, clock } = sinkWith();
    securityHub
      .on(BatchImportFindingsCommand)
      .resolvesOnce({
        SuccessCount: 1,
        FailedCount: 1,
        FailedFindings: [
          {
            Id: `kms-policy-guard/${keyArn(2)}/key-policy`,
            ErrorCode: 'InternalException',
            ErrorMessage: 'try again',
          },
        ],
      })
      .resolvesOnce({ SuccessCount: 1, FailedCount: 0, FailedFindings: [] });
    sink.record(recordOf(1, { findings: [driftOf(1)] }));
    sink.record(recordOf(2, { findings: [driftOf(2)] }));

    // Act
    await sink.flush();

    // Assess
    expect(securityHub.commandCalls(BatchImportFindingsCommand)).toHaveLength(2);
    expect(imported(1).map((finding) => finding.Id)).toEqual([`kms-policy-guard/${keyArn(2)}/key-policy`]);
    expect(clock.sleeps).toEqual([500]);
  });

  it('throws a RetryableAwsError when transient failures of findings outlive two more attempts', async () => {
    // Prepare
    const { sink, clock } = sinkWith();
    securityHub.on(BatchImportFindingsCommand).resolves({
      SuccessCount: 0,
      FailedCount: 1,
      FailedFindings: [
        {
          Id: `kms-policy-guard/${keyArn(1)}/key-policy`,
          ErrorCode: 'LimitExceeded',
          ErrorMessage: 'slow down',
        },
      ],
    });
    sink.record(recordOf(1, { findings: [driftOf(1)] }));

    // Act
    const flushed = sink.flush();

    // Assess
    await expect(flushed).rejects.toBeInstanceOf(RetryableAwsError);
    expect(securityHub.commandCalls(BatchImportFindingsCommand)).toHaveLength(3);
    expect(clock.sleeps).toEqual([500, 2_000]);
  });

  it('throws a RetryableAwsError when the call itself is throttled (the SDK already retried)', async () => {
    // Prepare
    const { sink, reported } = sinkWith();
    securityHub
      .on(BatchImportFindingsCommand)
      .rejects(awsError('TooManyRequestsException', 'Rate exceeded', 'client', 429));
    sink.record(recordOf(1, { findings: [driftOf(1)] }));

    // Act
    const flushed = sink.flush();

    // Assess
    await expect(flushed).rejects.toThrow(/BatchImportFindings failed after retries: Rate exceeded/);
    expect(securityHub.commandCalls(BatchImportFindingsCommand)).toHaveLength(1);
    expect(reported).toEqual([]);
  });

  it('reports a Security Hub that is not enabled once per instance, stops at the first batch, and never throws', async () => {
    // Prepare
    const { sink, reported, logger } = sinkWith();
    securityHub
      .on(BatchImportFindingsCommand)
      .rejects(
        awsError(
          'InvalidAccessException',
          `Account ${ACCOUNT} is not subscribed to AWS Security Hub`,
          'client',
          401,
        ),
      );

    // Act
    for (let flush = 0; flush < 2; flush += 1) {
      for (let index = 0; index < 150; index += 1)
        sink.record(recordOf(index, { findings: [driftOf(index)] }));
      await sink.flush();
    }

    // Assess
    expect(securityHub.commandCalls(BatchImportFindingsCommand)).toHaveLength(2);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({
      view: 'AWS Security Hub',
      reason: 'unavailable',
      location: { accountId: ACCOUNT, region: REGION },
      message: `BatchImportFindings: InvalidAccessException: Account ${ACCOUNT} is not subscribed to AWS Security Hub`,
      trigger: 'audit',
    });
    expect(reported[0]?.fix).toContain('aws securityhub enable-security-hub --region eu-west-1');
    expect(logger.messages().filter((message) => message === 'security_hub_unavailable')).toHaveLength(2);
  });

  it('reads per-finding InvalidAccess as not enabled too', async () => {
    // Prepare
    const { sink, reported } = sinkWith();
    securityHub.on(BatchImportFindingsCommand).resolves({
      SuccessCount: 0,
      FailedCount: 1,
      FailedFindings: [{ Id: 'x', ErrorCode: 'InvalidAccess', ErrorMessage: 'not subscribed' }],
    });
    sink.record(recordOf(1, { findings: [driftOf(1)] }));

    // Act
    await sink.flush();

    // Assess
    expect(reported.map((problem) => problem.reason)).toEqual(['unavailable']);
    expect(securityHub.commandCalls(BatchImportFindingsCommand)).toHaveLength(1);
  });

  it('reports findings Security Hub rejects (InvalidInput) once, without retrying them, and keeps the rest', async () => {
    // Prepare
    const { sink, reported, logger } = sinkWith();
    const bad = `kms-policy-guard/${keyArn(1)}/key-policy`;
    securityHub.on(BatchImportFindingsCommand).resolves({
      SuccessCount: 1,
      FailedCount: 1,
      FailedFindings: [
        {
          Id: bad,
          ErrorCode: 'InvalidInput',
          ErrorMessage: 'Finding does not adhere to Amazon Finding Format',
        },
      ],
    });
    sink.record(recordOf(1, { findings: [driftOf(1)] }));
    sink.record(recordOf(2, { findings: [driftOf(2)] }));

    // Act
    await sink.flush();

    // Assess
    expect(securityHub.commandCalls(BatchImportFindingsCommand)).toHaveLength(1);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ reason: 'refused' });
    expect(reported[0]?.message).toContain(bad);
    const line = logger.lines.find((entry) => entry.message === 'security_hub_refused');
    expect(line?.attributes).toMatchObject({ findingIds: [bad] });
    expect(logger.lines.find((entry) => entry.message === 'security_hub_imported')?.attributes).toMatchObject(
      { imported: 1 },
    );
  });

  it('reports a GetFindings that is denied as unavailable and sends nothing there', async () => {
    // Prepare
    const { sink, reported } = sinkWith();
    securityHub
      .on(GetFindingsCommand)
      .rejects(
        awsError('AccessDeniedException', 'not authorized to perform securityhub:GetFindings', 'client', 403),
      );
    sink.record(
      recordOf(1, {
        findings: [driftOf(1, { kind: 'grant-not-allowed', grant: { grantId: 'g', operations: [] } })],
        checked: ['key-policy', 'grant'],
      }),
    );

    // Act
    await sink.flush();

    // Assess
    expect(reported.map((problem) => [problem.reason, problem.message])).toEqual([
      [
        'unavailable',
        'GetFindings: AccessDeniedException: not authorized to perform securityhub:GetFindings',
      ],
    ]);
    expect(securityHub.commandCalls(BatchImportFindingsCommand)).toHaveLength(0);
  });
});

describe('SecurityHubSink: the hub keeps what it cannot write in a member account', () => {
  const HUB = { partition: 'aws', region: 'us-east-1', accountId: '999988887777' };
  const MEMBER = { partition: 'aws', region: REGION, accountId: '444455556666' };
  const MEMBER_RECORD = {
    keyArn: `arn:aws:kms:${REGION}:444455556666:key/*`,
    keyId: '*',
    location: MEMBER,
    home: HUB,
    aliases: [],
    trigger: 'audit' as const,
    time: CHECKED_AT,
  };
  const ID = `kms-policy-guard/444455556666/${REGION}/spoke-access`;

  it("imports a spoke-unreachable finding through the hub's own client, in the hub's account and Region, about the member account", async () => {
    // Prepare
    const { sink, clients } = sinkWith();
    const finding = scopeFinding(
      {
        kind: 'spoke-unreachable',
        location: MEMBER,
        eventId: 'run-1',
        trigger: 'audit',
        details: ['AssumeRole failed'],
      },
      new Date(CHECKED_AT),
    );
    sink.record({ ...MEMBER_RECORD, findings: [finding], checked: [] });

    // Act
    await sink.flush();

    // Assess
    expect(clients).toEqual([[HUB.accountId, HUB.region]]);
    expect(securityHub.commandCalls(BatchImportFindingsCommand)).toHaveLength(1);
    expect(securityHub.commandCalls(GetFindingsCommand)).toHaveLength(0);
    expect(imported(0)).toEqual([
      expect.objectContaining({
        Id: ID,
        AwsAccountId: HUB.accountId,
        ProductArn: 'arn:aws:securityhub:us-east-1:999988887777:product/999988887777/default',
        Resources: [
          { Type: 'AwsAccount', Id: 'AWS::::Account:444455556666', Region: REGION, Partition: 'aws' },
        ],
        Compliance: { Status: 'FAILED' },
      }),
    ]);
  });

  it("archives the member's open spoke-unreachable record once an audit unit reached the account again", async () => {
    // Prepare
    const { sink } = sinkWith();
    const finding = scopeFinding(
      { kind: 'spoke-unreachable', location: MEMBER, eventId: 'run-0', trigger: 'audit', details: [] },
      new Date('2026-05-05T07:00:00.000Z'),
    );
    const open = asffFinding(finding, HUB);
    securityHub.on(GetFindingsCommand).resolves({ Findings: open ? [open] : [] });
    sink.record({ ...MEMBER_RECORD, findings: [], checked: ['spoke-access'] });

    // Act
    await sink.flush();

    // Assess
    const query = securityHub.commandCalls(GetFindingsCommand)[0]?.args[0].input.Filters;
    expect(query?.AwsAccountId).toEqual([{ Value: HUB.accountId, Comparison: 'EQUALS' }]);
    expect(query?.ResourceId).toEqual([{ Value: 'AWS::::Account:444455556666', Comparison: 'EQUALS' }]);
    expect(imported(0).map((record) => [record.Id, record.Compliance?.Status, record.RecordState])).toEqual([
      [ID, 'PASSED', 'ARCHIVED'],
    ]);
  });
});

describe('securityHubClients: the client of each account', () => {
  it("builds a member account's client with its spoke role's credentials and the hub's own with its own, each once", async () => {
    // Prepare
    const spoke = { accessKeyId: 'spoke', secretAccessKey: 'secret' };
    const asked: string[] = [];
    const access = {
      settings: (base: AwsClientSettings, accountId: string, region: string): AwsClientSettings => {
        asked.push(`${accountId}/${region}`);
        return {
          ...base,
          region,
          ...(accountId === '999988887777' ? {} : { credentials: async () => spoke }),
        };
      },
    };
    const { clientFor, destroy } = securityHubClients({ region: 'us-east-1' }, access);

    // Act
    const member = await clientFor('444455556666', REGION);
    const again = await clientFor('444455556666', REGION);
    const hub = await clientFor('999988887777', 'us-east-1');

    // Assess
    expect(again).toBe(member);
    expect(asked).toEqual([`444455556666/${REGION}`, '999988887777/us-east-1']);
    expect(await member.config.credentials()).toMatchObject(spoke);
    expect(await member.config.region()).toBe(REGION);
    expect(await hub.config.region()).toBe('us-east-1');
    destroy();
  });

  it("builds one client per Region with the guard's own settings when there is no hub", async () => {
    // Prepare
    const { clientFor, destroy } = securityHubClients({ region: 'us-east-1' });

    // Act
    const first = await clientFor('111122223333', REGION);
    const other = await clientFor('444455556666', REGION);

    // Assess
    expect(other).toBe(first);
    destroy();
  });
});

describe('permissions', () => {
  it('calls exactly the actions the spoke role (SPOKE_SECURITY_HUB_ACTIONS) and the stack grant', async () => {
    // Prepare: a finding to import, and an open record to close.
    const { sink } = sinkWith();
    securityHub.on(GetFindingsCommand).resolves({
      Findings: [openRecord(driftOf(2), { UpdatedAt: '2026-05-04T00:00:00.000Z' })],
    });
    sink.record(recordOf(1, { findings: [driftOf(1)] }));
    sink.record(recordOf(2));

    // Act
    await sink.flush();

    // Assess
    const actions = new Set(
      securityHub
        .calls()
        .map((call) => `securityhub:${(call.args[0] as object).constructor.name.replace(/Command$/, '')}`),
    );
    expect([...actions].sort()).toEqual([...SPOKE_SECURITY_HUB_ACTIONS].sort());
  });
});

describe('the switch (buildGuard)', () => {
  it('gives checks no compliance sink unless Security Hub is asked for, and the Security Hub sink when it is', () => {
    // Prepare
    const wiring = {
      manifest: fixtureManifest(),
      aws: { region: REGION },
      logger: new RecordingLogger(),
      repoRoot: REPO_ROOT,
      topicArn: TOPIC_ARN,
    };

    // Act
    const off = buildGuard(wiring);
    const on = buildGuard({ ...wiring, securityHub: {} });

    // Assess
    expect(off.deps.compliance).toBeUndefined();
    expect(on.deps.compliance).toBeInstanceOf(SecurityHubSink);
    off.destroy();
    on.destroy();
  });
});

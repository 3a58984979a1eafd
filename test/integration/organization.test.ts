/**
 * One guard for an organization, end to end on moto (issue 14): a hub (moto's default account) and two member
 * accounts, each in two Regions. A drift in each member account is forwarded by its spoke rule to the hub bus
 * (a cross-account bus target), routed by the drift rule to the hub's queue, caught by the hub drift handler
 * with the account and Region of the CloudTrail record, and restored through the member's spoke role
 * (AssumeRole on moto acts in that account). Then the scheduled audit fans out over every account and Region
 * through the real audit-work queue, the worker is driven from the queue as Lambda's event source would
 * (a failed invocation retried, never lost), and the one summary counts every unit.
 *
 * The hub's Regions are used by no other test file (the audit lists every key of an account there).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CloudTrailClient,
  CreateTrailCommand,
  PutEventSelectorsCommand,
  StartLoggingCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  CreateEventBusCommand,
  DisableRuleCommand,
  EnableRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import { type BucketLocationConstraint, CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { GetFindingsCommand, SecurityHubClient } from '@aws-sdk/client-securityhub';
import type { Context } from 'aws-lambda';
import {
  actAs,
  createAuditWorkQueue,
  createMemberAccount,
  driveQueue,
  type MemberAccount,
  memberClients,
  randomAccountId,
  widenMemberKey,
} from '../../dev/org-world';
import {
  createFindingsTopic,
  createKeyWithPolicy,
  createQueue,
  createWorldClients,
  destroyWorldClients,
  type FindingNotification,
  MOTO_WHOLE_EVENT_TRANSFORMER,
  receiveDeliveredEvents,
  receiveFindings,
  uniqueSuffix,
  type WorldClients,
  writeManifest,
} from '../../dev/world';
import { createFanOutHandler } from '../../src/app/audit-fan-out-handler';
import { createAuditWorkerHandler } from '../../src/app/audit-worker-handler';
import { createDriftHandler } from '../../src/app/drift-handler';
import { buildGuard, type Guard } from '../../src/app/guard-deps';
import { createGuardMetrics, GUARD_METRICS } from '../../src/app/metrics';
import type { OrgAuditHandlerDeps } from '../../src/app/org-audit-deps';
import { buildSpokeFeedHealth } from '../../src/app/spoke-feed';
import { DynamoAuditRuns } from '../../src/aws/dynamo-runs';
import { StaticDirectory } from '../../src/aws/organization';
import { SpokeAccess } from '../../src/aws/spoke-access';
import { SqsAuditQueue } from '../../src/aws/sqs-audit-queue';
import { createStateTable } from '../../src/aws/state-table';
import { run } from '../../src/cli/main';
import { capturingIo } from '../../src/cli/output';
import type { AuditJson } from '../../src/cli/report/audit-json';
import { SPOKE_FORWARD_RULE_NAME } from '../../src/core/spoke-names';
import { RetryableAwsError } from '../../src/guard/errors';
import { loadManifest, renderDesiredPolicy } from '../../src/manifest';
import { comparePolicies } from '../../src/policy/compare';
import { emfLinesOf } from '../unit/support/emf';
import { motoClientConfig, motoEndpoint } from './moto-env';
import { recordingLogger, TEST_STABILIZATION } from './support/drift-guard';

const HUB = '123456789012';
const REGIONS = ['ap-northeast-2', 'sa-east-1'];
const [HUB_REGION = 'ap-northeast-2'] = REGIONS;
const GUARD_ROLE_ARN = `arn:aws:iam::${HUB}:role/kms-policy-guard-${HUB_REGION}`;
const SPOKE_ROLE = 'kms-policy-guard-spoke';
const CONTEXT = {
  invokedFunctionArn: `arn:aws:lambda:${HUB_REGION}:${HUB}:function:kms-policy-guard-org-drift`,
  getRemainingTimeInMillis: () => 600_000,
} as unknown as Context;

/** The desired document: the spoke role (a member) or the guard role (the hub) may read and restore it. */
const DESIRED = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'Enable IAM policies',
      Effect: 'Allow',
      Principal: { AWS: 'arn:{{Partition}}:iam::{{AccountId}}:root' },
      Action: 'kms:*',
      Resource: '*',
    },
    {
      Sid: 'The guard reads and restores this policy',
      Effect: 'Allow',
      Principal: { AWS: '{{GuardPrincipal}}' },
      Action: ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:PutKeyPolicy'],
      Resource: '*',
    },
  ],
});

interface Org {
  hub: WorldClients;
  /** The hub bus every spoke forwards to. */
  busArn: string;
  members: MemberAccount[];
  guard: Guard;
  topicQueueUrl: string;
  driftQueueUrl: string;
  work: { url: string; dlqUrl: string };
  keys: Map<string, string>;
  manifestDir: string;
  tableName: string;
}

let org: Org;

async function kmsGuard(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { io, captured } = capturingIo({
    env: { AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
    stdoutIsTTY: false,
    stderrIsTTY: false,
  });
  const code = await run(argv, io);
  return { code, ...captured };
}

function keyOf(accountId: string, region: string): string {
  const arn = org.keys.get(`${accountId}#${region}`);
  if (!arn) throw new Error(`no key in ${accountId}/${region}`);
  return arn;
}

beforeAll(async () => {
  const base = motoClientConfig(HUB_REGION);
  const suffix = uniqueSuffix();
  const hub = createWorldClients(base);
  const busName = `kms-policy-guard-${suffix}`;
  const busArn = `arn:aws:events:${HUB_REGION}:${HUB}:event-bus/${busName}`;
  await hub.events.send(new CreateEventBusCommand({ Name: busName }));
  const driftQueue = await createQueue(hub.sqs, `org-drift-${suffix}`);
  await hub.events.send(
    new PutRuleCommand({
      Name: 'drift',
      EventBusName: busName,
      EventPattern: JSON.stringify({ source: ['aws.kms'] }),
      State: 'ENABLED',
    }),
  );
  await hub.events.send(
    new PutTargetsCommand({
      Rule: 'drift',
      EventBusName: busName,
      Targets: [{ Id: 'drift', Arn: driftQueue.arn, InputTransformer: MOTO_WHOLE_EVENT_TRANSFORMER }],
    }),
  );
  const topic = await createFindingsTopic(hub, {
    topicName: `org-findings-${suffix}`,
    queueName: `org-inbox-${suffix}`,
  });
  const tableName = `org-state-${suffix}`;
  await createStateTable(hub.dynamodb, tableName);
  const work = await createAuditWorkQueue(hub.sqs, `org-audit-work-${suffix}`, {
    visibilitySeconds: 30,
    maxReceives: 3,
  });
  const members: MemberAccount[] = [];
  for (const accountId of [randomAccountId(), randomAccountId()]) {
    members.push(
      await createMemberAccount(base, accountId, REGIONS, {
        busArn,
        guardRoleArn: GUARD_ROLE_ARN,
        spokeRoleName: SPOKE_ROLE,
      }),
    );
  }
  const manifestDir = mkdtempSync(path.join(tmpdir(), 'kms-guard-org-'));
  const alias = `alias/org-payments-${suffix}`;
  const manifestPath = writeManifest(manifestDir, {
    unmanagedKeys: 'ignore',
    adminPrincipals: [],
    keys: [
      {
        name: 'org-payments',
        match: { alias },
        mode: 'remediate',
        policyFile: 'org.json',
        policyTemplate: DESIRED,
      },
    ],
  });
  const manifest = loadManifest(manifestPath);
  const keys = new Map<string, string>();
  const owners = [
    {
      accountId: HUB,
      clients: new Map(
        await Promise.all(
          REGIONS.map(
            async (region) => [region, createWorldClients(await actAs(base, HUB, region))] as const,
          ),
        ),
      ),
    },
    ...members,
  ];
  for (const owner of owners) {
    for (const region of REGIONS) {
      // The principal the guard acts as there: its own role in the hub (whatever the key's Region), the spoke role
      // in a member account.
      const guardPrincipal =
        owner.accountId === HUB ? GUARD_ROLE_ARN : `arn:aws:iam::${owner.accountId}:role/${SPOKE_ROLE}`;
      const location = { partition: 'aws', region, accountId: owner.accountId, guardPrincipal };
      const clients = owner.clients.get(region);
      if (!clients) throw new Error('no clients');
      const key = await createKeyWithPolicy(clients.kms, {
        policy: renderDesiredPolicy(manifest.keys[0] ?? (undefined as never), location),
        alias,
      });
      keys.set(`${owner.accountId}#${region}`, key.keyArn);
    }
  }
  const { logger } = recordingLogger();
  const guard = buildGuard({
    manifest,
    aws: { endpoint: base.endpoint, region: HUB_REGION, credentials: base.credentials },
    logger,
    repoRoot: manifestDir,
    topicArn: topic.topicArn,
    stateTable: tableName,
    stabilization: TEST_STABILIZATION,
    guardPrincipalArn: GUARD_ROLE_ARN,
    guardedRegions: REGIONS,
    // Security Hub on: each finding lands in its key's account through the spoke role (docs/architecture.md#security-hub).
    securityHub: {},
    hub: {
      settings: {
        hubAccountId: HUB,
        regions: REGIONS,
        memberAccounts: members.map((member) => member.accountId),
        spokeRoleName: SPOKE_ROLE,
        sessionName: 'kms-policy-guard-hub',
      },
      directory: new StaticDirectory(
        members.map((member) => member.accountId),
        HUB,
      ),
      access: SpokeAccess.create(base, {
        partition: 'aws',
        roleName: SPOKE_ROLE,
        sessionName: 'kms-policy-guard-hub',
        ownAccountId: HUB,
        externalId: 'kms-policy-guard-test',
      }),
    },
  });
  org = {
    hub,
    busArn,
    members,
    guard,
    topicQueueUrl: topic.queue.url,
    driftQueueUrl: driftQueue.url,
    work,
    keys,
    manifestDir,
    tableName,
  };
}, 120_000);

afterAll(() => {
  if (!org) return;
  org.guard.destroy();
  destroyWorldClients(org.hub);
  for (const member of org.members)
    for (const clients of member.clients.values()) destroyWorldClients(clients);
  rmSync(org.manifestDir, { recursive: true, force: true });
});

function orgDeps(): OrgAuditHandlerDeps {
  const { logger } = recordingLogger();
  const hub = org.guard.hub;
  const table = org.guard.stateTable;
  if (!hub || !table) throw new Error('the guard has no hub or state table');
  return {
    ...org.guard.deps,
    logger,
    hub: hub.scope,
    runs: new DynamoAuditRuns(table.tableName, table.client),
    queue: new SqsAuditQueue(org.hub.sqs, org.work.url),
    hubLocation: { partition: 'aws', region: HUB_REGION, accountId: HUB },
  };
}

/** The scheduled audit's fan-out and the audit worker, as the stack configures them but for the test's limits. */
function orgAuditHandlers(
  deps: OrgAuditHandlerDeps,
  limits: { deadlineSeconds: number; maxReceives: number },
) {
  return {
    fanOut: createFanOutHandler(deps, { deadlineSeconds: limits.deadlineSeconds, timeoutEarlyInMillis: 0 }),
    worker: createAuditWorkerHandler(deps, {
      concurrency: 4,
      reportUnmanaged: true,
      maxReceives: limits.maxReceives,
      timeoutEarlyInMillis: 0,
    }),
  };
}

async function findingsOfKind(kind: string): Promise<FindingNotification[]> {
  return (await receiveFindings(org.hub.sqs, org.topicQueueUrl)).filter((item) => item.finding.kind === kind);
}

describe('one guard for an organization (moto: a hub and two member accounts × two Regions)', () => {
  it('catches a drift in each member account and Region through the spoke forward rule, restores it through the spoke role, and archives its Security Hub finding in that account', async () => {
    // Prepare
    const { logger } = recordingLogger();
    const hub = org.guard.hub;
    if (!hub) throw new Error('no hub');
    const drift = createDriftHandler(
      { ...org.guard.deps, logger, region: HUB_REGION, guardRoleArn: GUARD_ROLE_ARN, hub: hub.scope },
      { timeoutEarlyInMillis: 0 },
    );
    const widened: { member: string; region: string; keyArn: string }[] = [];
    for (const member of org.members) {
      for (const region of REGIONS) {
        const keyArn = keyOf(member.accountId, region);
        await widenMemberKey(memberClients(member, region), keyArn, {
          actorArn: `arn:aws:iam::${member.accountId}:user/mallory`,
          eventId: `org-${member.accountId}-${region}`,
        });
        widened.push({ member: member.accountId, region, keyArn });
      }
    }

    // Act
    const delivered = await receiveDeliveredEvents(org.hub.sqs, org.driftQueueUrl);
    const summaries = [];
    for (const event of delivered) summaries.push(await drift(event, CONTEXT));

    // Assess
    expect(delivered).toHaveLength(4);
    expect(summaries.map((summary) => summary.status)).toEqual([
      'published',
      'published',
      'published',
      'published',
    ]);
    const remediated = await findingsOfKind('remediated');
    expect(remediated.map((item) => `${item.finding.account}/${item.finding.region}`).sort()).toEqual(
      widened.map((item) => `${item.member}/${item.region}`).sort(),
    );
    for (const item of widened) {
      const member = org.members.find((candidate) => candidate.accountId === item.member);
      if (!member) throw new Error('no member');
      const { Policy = '' } = await memberClients(member, item.region).kms.send(
        new GetKeyPolicyCommand({ KeyId: item.keyArn, PolicyName: 'default' }),
      );
      const spokeRole = `arn:aws:iam::${item.member}:role/${SPOKE_ROLE}`;
      const desired = renderDesiredPolicy(org.guard.deps.manifest.keys[0] ?? (undefined as never), {
        partition: 'aws',
        region: item.region,
        accountId: item.member,
        guardPrincipal: spokeRole,
      });
      expect(comparePolicies(desired, Policy).status).toBe('equivalent');
      // {{GuardPrincipal}} is the member's own spoke role, a role that exists there (KMS refuses others).
      expect(Policy).toContain(spokeRole);
      expect(Policy).not.toContain(':role/kms-policy-guard-ap-northeast-2');
      // Security Hub of the key's own account (read with that account's credentials): its one finding, restored.
      const securityHub = new SecurityHubClient(
        await actAs(motoClientConfig(HUB_REGION), item.member, item.region),
      );
      const { Findings = [] } = await securityHub.send(new GetFindingsCommand({ MaxResults: 100 }));
      securityHub.destroy();
      const ours = Findings.filter((finding) => finding.Id?.startsWith(`kms-policy-guard/${item.keyArn}/`));
      expect(
        ours.map((finding) => [finding.Id, finding.AwsAccountId, finding.ProductArn, finding.RecordState]),
      ).toEqual([
        [
          `kms-policy-guard/${item.keyArn}/key-policy`,
          item.member,
          `arn:aws:securityhub:${item.region}:${item.member}:product/${item.member}/default`,
          'ARCHIVED',
        ],
      ]);
    }
  }, 60_000);

  it("fans an audit out over every account and Region through SQS; a failed worker invocation is retried, the one summary counts every unit, and the closing worker emits the run's metrics", async () => {
    // Prepare
    const deps = orgDeps();
    const [member] = org.members;
    if (!member) throw new Error('no member');
    let failOnce = true;
    const at = deps.hub.at.bind(deps.hub);
    deps.hub = {
      ...deps.hub,
      at: async (location) => {
        if (failOnce && location.accountId === member.accountId && location.region === REGIONS[1]) {
          failOnce = false;
          throw new RetryableAwsError('AssumeRole', 'Rate exceeded (simulated)', 'Throttling');
        }
        return at(location);
      },
    };
    deps.metrics = createGuardMetrics();
    const { fanOut, worker } = orgAuditHandlers(deps, { deadlineSeconds: 120, maxReceives: 3 });
    const runId = `org-audit-${uniqueSuffix()}`;
    const metricsDisabled = process.env.POWERTOOLS_METRICS_DISABLED;
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';

    // Act
    const started = await fanOut({ id: runId }, CONTEXT);
    const { lines, outcome } = await emfLinesOf(() =>
      driveQueue(org.hub.sqs, org.work.url, worker, {
        context: CONTEXT,
        timeoutMs: 45_000,
        concurrency: 2,
        done: async () => (await deps.runs.progress(runId))?.summary === 'published',
      }),
    );
    if (metricsDisabled === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = metricsDisabled;
    if (outcome.status === 'rejected') throw outcome.reason;
    const driven = outcome.value;

    // Assess
    expect(started).toMatchObject({ runId, units: 6 });
    expect(driven.failures).toBe(1);
    const units = await deps.runs.units(runId);
    expect(
      units.map((item) => `${item.unit.accountId}/${item.unit.region}:${item.report?.status}`).sort(),
    ).toEqual(
      [HUB, ...org.members.map((candidate) => candidate.accountId)]
        .flatMap((accountId) => REGIONS.map((region) => `${accountId}/${region}:checked`))
        .sort(),
    );
    const summaries = (await findingsOfKind('audit-summary')).filter((item) =>
      item.finding.id.startsWith(runId),
    );
    expect(summaries).toHaveLength(1);
    expect(summaries[0]?.finding.details[0]).toMatch(
      /6 units \(accounts × Regions\), 6 reported, 0 not reported/,
    );
    expect(summaries[0]?.finding.details[1]).toMatch(/^Keys: 6 checked, 6 in sync, 0 drift/);
    expect(summaries[0]?.finding.account).toBe(HUB);
    // The run's audit metrics, once, from the worker that closed it (the dashboard's audit widget).
    const runMetrics = lines.filter((line) => GUARD_METRICS.keysChecked in line);
    expect(runMetrics).toHaveLength(1);
    expect(runMetrics[0]?.[GUARD_METRICS.keysChecked]).toBe(6);
    expect(runMetrics[0]?.[GUARD_METRICS.auditHeartbeat]).toBe(1);
    expect(typeof runMetrics[0]?.[GUARD_METRICS.auditDurationMs]).toBe('number');
  }, 90_000);

  it('lists a unit whose worker fails on every attempt, and a unit that never reports, as not checked: the run is never clean', async () => {
    // Prepare
    const deps = orgDeps();
    const [first, second] = org.members;
    if (!first || !second) throw new Error('no members');
    const at = deps.hub.at.bind(deps.hub);
    deps.hub = {
      ...deps.hub,
      at: async (location) => {
        if (location.accountId === first.accountId && location.region === REGIONS[0])
          throw new RetryableAwsError('AssumeRole', 'Rate exceeded (simulated)', 'Throttling');
        return at(location);
      },
    };
    const { fanOut, worker } = orgAuditHandlers(deps, { deadlineSeconds: 2, maxReceives: 2 });
    const runId = `org-audit-${uniqueSuffix()}`;
    await fanOut({ id: runId }, CONTEXT);
    // A unit message lost on the way (as if its worker timed out every time): it never reports.
    const lost = `${second.accountId}/${REGIONS[1]}`;
    const dropUnit = async (event: Parameters<typeof worker>[0], context: Context) => {
      const kept = event.Records.filter((record) => {
        const body = JSON.parse(record.body) as { accountId?: string; region?: string };
        return `${body.accountId}/${body.region}` !== lost;
      });
      return worker({ Records: kept }, context);
    };

    // Act
    await driveQueue(org.hub.sqs, org.work.url, dropUnit, {
      context: CONTEXT,
      timeoutMs: 45_000,
      done: async () => (await deps.runs.progress(runId))?.summary === 'published',
    });

    // Assess
    const incomplete = (await receiveFindings(org.hub.sqs, org.topicQueueUrl)).filter((item) =>
      item.finding.id.startsWith(runId),
    );
    expect(incomplete.map((item) => item.finding.kind)).toEqual(['audit-incomplete', 'audit-summary']);
    const details = incomplete[0]?.finding.details.join('\n') ?? '';
    expect(details).toContain(`${lost}: not checked: no report from the audit worker by the deadline`);
    expect(details).toContain(
      `${first.accountId}/${REGIONS[0]}: failed: the audit worker failed on every attempt`,
    );
    expect(incomplete[1]?.finding.title).toMatch(/INCOMPLETE$/);
  }, 90_000);

  it('audits the member accounts from a laptop with --accounts, --regions and --role-name; JSON and SARIF name each key’s account and Region', async () => {
    // Prepare
    const accounts = org.members.map((member) => member.accountId);
    const argv = [
      'audit',
      '--manifest',
      path.join(org.manifestDir, 'manifest.yaml'),
      '--endpoint-url',
      motoEndpoint(),
      '--accounts',
      accounts.join(','),
      '--regions',
      REGIONS.join(','),
      '--role-name',
      SPOKE_ROLE,
    ];

    // Act
    const json = await kmsGuard([...argv, '--format', 'json']);
    const sarif = await kmsGuard([...argv, '--format', 'sarif']);
    const table = await kmsGuard(argv);

    // Assess
    expect(json.stderr).toBe('');
    const report = JSON.parse(json.stdout) as AuditJson;
    expect(report.keys.map((key) => `${key.account}/${key.region}:${key.result}`).sort()).toEqual(
      accounts.flatMap((account) => REGIONS.map((region) => `${account}/${region}:in-sync`)).sort(),
    );
    expect(report.summary).toMatchObject({ checked: 4, inSync: 4, notChecked: 0 });
    expect(JSON.parse(sarif.stdout)).toMatchObject({ version: '2.1.0' });
    expect(table.stdout.split('\n')[0]).toMatch(/^ACCOUNT\/REGION\s+NAME\s+KEY/);
    for (const account of accounts) expect(table.stdout).toContain(`${account}/${REGIONS[1]}`);
  }, 60_000);

  it("reports a member's disabled spoke forward rule as a critical guard-degraded of that account and Region in the next organization audit, and nothing for healthy members", async () => {
    // Prepare
    const [broken, healthy] = org.members;
    if (!broken || !healthy) throw new Error('no members');
    const [brokenRegion = HUB_REGION] = REGIONS;
    // Every member and Region logs its management events (a trail each), so only the rule is a gap.
    for (const member of org.members) await startMemberTrails(member.accountId);
    const brokenEvents = memberClients(broken, brokenRegion).events;
    await brokenEvents.send(new DisableRuleCommand({ Name: SPOKE_FORWARD_RULE_NAME }));
    const base = motoClientConfig(HUB_REGION);
    const access = org.guard.hub?.access;
    if (!access) throw new Error('no hub access');
    const feed = buildSpokeFeedHealth(access, base, { hubBusArn: org.busArn });
    const deps = { ...orgDeps(), spokeFeed: feed.probe };
    const { fanOut, worker } = orgAuditHandlers(deps, { deadlineSeconds: 120, maxReceives: 3 });
    const runId = `org-feed-${uniqueSuffix()}`;

    // Act
    try {
      await fanOut({ id: runId }, CONTEXT);
      await driveQueue(org.hub.sqs, org.work.url, worker, {
        context: CONTEXT,
        timeoutMs: 45_000,
        concurrency: 2,
        done: async () => (await deps.runs.progress(runId))?.summary === 'published',
      });
    } finally {
      await brokenEvents.send(new EnableRuleCommand({ Name: SPOKE_FORWARD_RULE_NAME }));
      feed.destroy();
    }

    // Assess
    const degraded = (await findingsOfKind('guard-degraded')).filter((item) =>
      item.finding.id.startsWith(runId),
    );
    expect(
      degraded.map((item) => [item.finding.account, item.finding.region, item.finding.severity]),
    ).toEqual([[broken.accountId, brokenRegion, 'critical']]);
    const details = degraded[0]?.finding.details.join('\n') ?? '';
    expect(details).toContain(
      `1. forward rule: the rule ${SPOKE_FORWARD_RULE_NAME} that forwards this account's KMS events to the hub bus is DISABLED`,
    );
    expect(details).toContain(
      `Fix: Enable it again: aws events enable-rule --name ${SPOKE_FORWARD_RULE_NAME} --region ${brokenRegion}`,
    );
    expect(details).toContain('Passed: forward rule pattern, forward rule target, CloudTrail trail.');
  }, 90_000);
});

/** A logging trail of all management events in each of the member's Regions (as a member's landing zone has). */
async function startMemberTrails(accountId: string): Promise<void> {
  for (const region of REGIONS) {
    const config = await actAs(motoClientConfig(HUB_REGION), accountId, region);
    const s3 = new S3Client(config);
    const cloudTrail = new CloudTrailClient(config);
    try {
      const bucket = `org-trail-${accountId}-${region}-${uniqueSuffix()}`.toLowerCase().slice(0, 63);
      await s3.send(
        new CreateBucketCommand({
          Bucket: bucket,
          CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint },
        }),
      );
      const name = `management-${uniqueSuffix()}`;
      await cloudTrail.send(new CreateTrailCommand({ Name: name, S3BucketName: bucket }));
      await cloudTrail.send(
        new PutEventSelectorsCommand({
          TrailName: name,
          EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true }],
        }),
      );
      await cloudTrail.send(new StartLoggingCommand({ Name: name }));
    } finally {
      s3.destroy();
      cloudTrail.destroy();
    }
  }
}

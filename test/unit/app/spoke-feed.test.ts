/**
 * The organization audit's spoke feed probe (buildSpokeFeedHealth) over mocked SDK clients: the real
 * EventBridge and CloudTrail adapters, asked about one member account and Region. Each way a member's feed
 * breaks is one gap naming the resource and its fix; the calls are counted, and they are exactly what the
 * spoke role grants (SPOKE_HEALTH_ACTIONS). The audit worker builds it only for a hub with member accounts.
 */

import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  CloudTrailClient,
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
} from '@aws-sdk/client-cloudtrail';
import {
  DescribeRuleCommand,
  EventBridgeClient,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { initAuditWorkerHandler } from '../../../src/app/audit-worker-handler';
import { readAuditWorkerConfig } from '../../../src/app/config';
import { buildSpokeFeedHealth } from '../../../src/app/spoke-feed';
import type { AwsClientSettings } from '../../../src/aws/client-settings';
import type { KeyLocation } from '../../../src/core/key-arn';
import { hubBusArn, spokeForwarderRoleArn } from '../../../src/core/spoke-names';
import { KMS_POLICY_CHANGE_EVENT_PATTERN } from '../../../src/guard/event-pattern';
import { type HealthCheck, healthGaps } from '../../../src/guard/health';
import { SPOKE_HEALTH_ACTIONS } from '../../../src/guard/permissions';

const eventBridge = mockClient(EventBridgeClient);
const cloudTrail = mockClient(CloudTrailClient);

const MEMBER = '444455556666';
const REPO_ROOT = path.resolve(__dirname, '../../..');
const HUB = '111122223333';
const REGION = 'eu-west-1';
const RULE = 'kms-policy-guard-spoke-forward';
const BUS = hubBusArn('aws', 'us-west-2', HUB, 'kms-policy-guard');
const FORWARDER = spokeForwarderRoleArn('aws', MEMBER, REGION);
const TRAIL = `arn:aws:cloudtrail:${REGION}:${MEMBER}:trail/management`;
const LOCATION: KeyLocation = { partition: 'aws', region: REGION, accountId: MEMBER };

function awsError(name: string, status: number): Error {
  return Object.assign(new Error(`${name}: not allowed`), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

/** The member as deploy/spoke.yml leaves it, with one logging trail of all management events. */
function healthyMember(): void {
  eventBridge.on(DescribeRuleCommand, { Name: RULE, EventBusName: 'default' }).resolves({
    Name: RULE,
    State: 'ENABLED',
    EventPattern: JSON.stringify(KMS_POLICY_CHANGE_EVENT_PATTERN),
  });
  eventBridge
    .on(ListTargetsByRuleCommand, { Rule: RULE, EventBusName: 'default' })
    .resolves({ Targets: [{ Id: 'kms-policy-guard-hub-bus', Arn: BUS, RoleArn: FORWARDER }] });
  cloudTrail.on(DescribeTrailsCommand).resolves({
    trailList: [{ Name: 'management', TrailARN: TRAIL, HomeRegion: REGION, IsMultiRegionTrail: true }],
  });
  cloudTrail.on(GetTrailStatusCommand).resolves({ IsLogging: true });
  cloudTrail
    .on(GetEventSelectorsCommand)
    .resolves({ EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true }] });
}

/** The settings each client was built with, by account and Region (the spoke role's, in production). */
function recordingAccess(): { built: string[]; access: { settings: typeof settings } } {
  const built: string[] = [];
  const settings = (base: AwsClientSettings, accountId: string, region: string): AwsClientSettings => {
    built.push(`${accountId}/${region}`);
    return { ...base, region };
  };
  return { built, access: { settings } };
}

async function feedChecks(): Promise<HealthCheck[]> {
  const { access } = recordingAccess();
  const wiring = buildSpokeFeedHealth(access, { region: 'us-west-2' }, { hubBusArn: BUS });
  try {
    return await wiring.probe.checkFeed(LOCATION);
  } finally {
    wiring.destroy();
  }
}

const PATTERN_WITHOUT_PUT_KEY_POLICY = JSON.stringify({
  ...KMS_POLICY_CHANGE_EVENT_PATTERN,
  detail: {
    ...KMS_POLICY_CHANGE_EVENT_PATTERN.detail,
    eventName: KMS_POLICY_CHANGE_EVENT_PATTERN.detail.eventName.filter((name) => name !== 'PutKeyPolicy'),
  },
});

describe('buildSpokeFeedHealth (one member account and Region, through its spoke role)', () => {
  beforeEach(() => {
    eventBridge.reset();
    cloudTrail.reset();
    healthyMember();
  });

  it('passes a member as the spoke template leaves it with five calls: DescribeRule, ListTargetsByRule, DescribeTrails, GetTrailStatus, GetEventSelectors', async () => {
    // Prepare
    const { built, access } = recordingAccess();
    const wiring = buildSpokeFeedHealth(access, { region: 'us-west-2' }, { hubBusArn: BUS });

    // Act
    const checks = await wiring.probe.checkFeed(LOCATION);
    wiring.destroy();

    // Assess
    expect(healthGaps(checks)).toEqual([]);
    expect(checks.map((check) => check.check)).toEqual([
      'forward rule',
      'forward rule pattern',
      'forward rule target',
      'CloudTrail trail',
    ]);
    expect(eventBridge.commandCalls(DescribeRuleCommand)).toHaveLength(1);
    expect(eventBridge.commandCalls(ListTargetsByRuleCommand)).toHaveLength(1);
    expect(cloudTrail.commandCalls(DescribeTrailsCommand)).toHaveLength(1);
    expect(cloudTrail.commandCalls(GetTrailStatusCommand)).toHaveLength(1);
    expect(cloudTrail.commandCalls(GetEventSelectorsCommand)).toHaveLength(1);
    expect(eventBridge.calls()).toHaveLength(2);
    expect(cloudTrail.calls()).toHaveLength(3);
    // Every client is the member's, in the unit's Region (the trail's home Region is the same here).
    expect([...new Set(built)]).toEqual([`${MEMBER}/${REGION}`]);
  });

  it('calls exactly the actions the spoke role grants for health (SPOKE_HEALTH_ACTIONS), no more, no fewer', async () => {
    // Act
    await feedChecks();

    // Assess
    const called = [
      ...eventBridge.calls().map((call) => `events:${call.args[0].constructor.name.replace(/Command$/, '')}`),
      ...cloudTrail
        .calls()
        .map((call) => `cloudtrail:${call.args[0].constructor.name.replace(/Command$/, '')}`),
    ];
    expect([...new Set(called)].sort()).toEqual([...SPOKE_HEALTH_ACTIONS].sort());
  });

  it.each<{ name: string; prepare: () => void; gap: string; problem: RegExp; fix: RegExp }>([
    {
      name: 'the forward rule is missing',
      prepare: () => eventBridge.on(DescribeRuleCommand).rejects(awsError('ResourceNotFoundException', 400)),
      gap: 'forward rule',
      problem: new RegExp(
        `the rule ${RULE} that forwards this account's KMS events to the hub bus does not exist`,
      ),
      fix: new RegExp(
        `Redeploy the spoke StackSet instance of account ${MEMBER} in ${REGION}.*events:DeleteRule`,
      ),
    },
    {
      name: 'the forward rule is disabled',
      prepare: () =>
        eventBridge.on(DescribeRuleCommand).resolves({
          State: 'DISABLED',
          EventPattern: JSON.stringify(KMS_POLICY_CHANGE_EVENT_PATTERN),
        }),
      gap: 'forward rule',
      problem: new RegExp(`the rule ${RULE} .* is DISABLED`),
      fix: new RegExp(
        `aws events enable-rule --name ${RULE} --region ${REGION} \\(as an administrator of account ${MEMBER}\\)`,
      ),
    },
    {
      name: 'the forward rule’s pattern is rewritten',
      prepare: () =>
        eventBridge
          .on(DescribeRuleCommand)
          .resolves({ State: 'ENABLED', EventPattern: PATTERN_WITHOUT_PUT_KEY_POLICY }),
      gap: 'forward rule pattern',
      problem: /detail\.eventName lacks "PutKeyPolicy"/,
      fix: /Redeploy the spoke StackSet instance.*events:PutRule/,
    },
    {
      name: 'the target is removed',
      prepare: () => eventBridge.on(ListTargetsByRuleCommand).resolves({ Targets: [] }),
      gap: 'forward rule target',
      problem: new RegExp(
        `rule ${RULE} does not deliver to the hub bus ${BUS} as ${FORWARDER}: it has no target`,
      ),
      fix: /events:RemoveTargets/,
    },
    {
      name: 'the target points to another bus',
      prepare: () =>
        eventBridge.on(ListTargetsByRuleCommand).resolves({
          Targets: [
            { Id: 'x', Arn: 'arn:aws:events:eu-west-1:999999999999:event-bus/elsewhere', RoleArn: FORWARDER },
          ],
        }),
      gap: 'forward rule target',
      problem: /its targets are arn:aws:events:eu-west-1:999999999999:event-bus\/elsewhere as /,
      fix: /events:PutTargets/,
    },
    {
      name: 'the target delivers as another role',
      prepare: () =>
        eventBridge.on(ListTargetsByRuleCommand).resolves({
          Targets: [{ Id: 'x', Arn: BUS, RoleArn: `arn:aws:iam::${MEMBER}:role/attacker` }],
        }),
      gap: 'forward rule target',
      problem: new RegExp(`its targets are ${BUS} as arn:aws:iam::${MEMBER}:role/attacker`),
      fix: /events:PutTargets/,
    },
    {
      name: 'the trail is stopped',
      prepare: () => cloudTrail.on(GetTrailStatusCommand).resolves({ IsLogging: false }),
      gap: 'CloudTrail trail',
      problem: new RegExp(`trail ${TRAIL} is not logging`),
      fix: new RegExp(`aws cloudtrail start-logging --name ${TRAIL}`),
    },
    {
      name: 'no trail logs management write events',
      prepare: () =>
        cloudTrail
          .on(GetEventSelectorsCommand)
          .resolves({ EventSelectors: [{ ReadWriteType: 'ReadOnly', IncludeManagementEvents: true }] }),
      gap: 'CloudTrail trail',
      problem: /its event selectors log no KMS management write event/,
      fix: /put-event-selectors/,
    },
    {
      name: 'there is no trail for the Region',
      prepare: () => cloudTrail.on(DescribeTrailsCommand).resolves({ trailList: [] }),
      gap: 'CloudTrail trail',
      problem: new RegExp(`there is no trail for ${REGION}`),
      fix: /aws cloudtrail create-trail/,
    },
  ])('names one gap when $name', async ({ prepare, gap, problem, fix }) => {
    // Prepare
    prepare();

    // Act
    const gaps = healthGaps(await feedChecks());

    // Assess
    expect(gaps.map((check) => check.check)).toEqual([gap]);
    expect(gaps[0]?.problem).toMatch(problem);
    expect(gaps[0]?.fix).toMatch(fix);
  });

  it('reports a spoke role denied the health actions as gaps that could not be checked, with the spoke’s fix, never a throw', async () => {
    // Prepare
    eventBridge.on(DescribeRuleCommand).rejects(awsError('AccessDeniedException', 400));
    cloudTrail.on(DescribeTrailsCommand).rejects(awsError('AccessDeniedException', 400));

    // Act
    const gaps = healthGaps(await feedChecks());

    // Assess
    expect(gaps.map((check) => check.check)).toEqual(['forward rule', 'CloudTrail trail']);
    for (const gap of gaps) {
      expect(gap.problem).toMatch(/^could not be checked: .*AccessDeniedException/);
      expect(gap.fix).toContain(
        `The spoke role of account ${MEMBER} must grant the read-only health actions`,
      );
    }
    // Nothing past a denied listing is asked.
    expect(eventBridge.commandCalls(ListTargetsByRuleCommand)).toHaveLength(0);
    expect(cloudTrail.commandCalls(GetTrailStatusCommand)).toHaveLength(0);
  });
});

describe('readAuditWorkerConfig: the hub bus the spokes must target', () => {
  const ENV = {
    TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:kms-policy-guard-findings',
    AUDIT_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/kms-policy-guard-audit-work',
    GUARD_ROLE_ARN: 'arn:aws:iam::111122223333:role/kms-policy-guard-eu-west-1',
    AWS_REGION: 'eu-west-1',
    LAMBDA_TASK_ROOT: '/var/task',
  };

  it.each([
    ['the spoke template’s default when DRIFT_EVENT_BUS is unset', {}, 'kms-policy-guard'],
    ['DRIFT_EVENT_BUS when set', { DRIFT_EVENT_BUS: 'guard-bus' }, 'guard-bus'],
  ])('is %s', (_case, extra, bus) => {
    // Act
    const config = readAuditWorkerConfig({ ...ENV, ...extra });

    // Assess
    expect(config.hubEventBus).toBe(bus);
  });
});

describe('initAuditWorkerHandler: the feed of member accounts', () => {
  const ENV = {
    TOPIC_ARN: 'arn:aws:sns:eu-west-1:111122223333:kms-policy-guard-findings',
    AUDIT_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/111122223333/kms-policy-guard-audit-work',
    GUARD_ROLE_ARN: 'arn:aws:iam::111122223333:role/kms-policy-guard-eu-west-1',
    STATE_TABLE: 'kms-policy-guard-state',
    AWS_REGION: 'eu-west-1',
    MANIFEST_PATH: path.join(REPO_ROOT, 'policies/manifest.yaml'),
    LAMBDA_TASK_ROOT: REPO_ROOT,
    POWERTOOLS_LOG_LEVEL: 'CRITICAL',
  };

  it.each([
    ['a hub without member accounts (a single-account stack) has none to check', {}, false],
    ['listed member accounts are checked', { MEMBER_ACCOUNTS: MEMBER }, true],
    ['an organization’s accounts are checked', { ORGANIZATION_ID: 'o-abcdefghij' }, true],
  ])('%s', async (_case, extra, spokeFeed) => {
    // Prepare
    const info = jest.spyOn(Logger.prototype, 'info').mockImplementation(() => undefined);

    // Act
    await initAuditWorkerHandler({ ...ENV, ...extra });

    // Assess
    const initialized = info.mock.calls.filter(([message]) => message === 'audit_worker_initialized');
    expect(initialized).toEqual([['audit_worker_initialized', expect.objectContaining({ spokeFeed })]]);
    info.mockRestore();
  });
});

/**
 * The demo's second act: the same guard as the hub of an AWS Organization (docs/architecture.md#the-hub-and-its-spokes).
 * On the demo's moto server: a security account with the hub (its bus, drift rule, findings topic, state table
 * and audit-work queue), two member accounts with their spokes (a forward rule to the hub bus in every guarded
 * Region, the spoke role), and an account outside the organization. The hub guard is built by the composition
 * root (buildGuard) from the environment serverless.yml gives the functions (readDriftConfig), and runs the real
 * hub drift handler, the real fan-out and the real audit worker, the worker driven from the real SQS queue as
 * Lambda's event source would drive it (dev/org-world.ts).
 *
 * Two small additions make the run visible, as in ./guard.ts: a record of the AssumeRole calls the spoke access
 * makes (an SDK middleware on its STS client) and of every SNS Publish (the e-mail text as sent).
 */
import { GetKeyPolicyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { AssumeRoleCommand, type AssumeRoleCommandInput, STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import { createFanOutHandler } from '../../src/app/audit-fan-out-handler';
import { createAuditWorkerHandler } from '../../src/app/audit-worker-handler';
import { readDriftConfig } from '../../src/app/config';
import { createDriftHandler } from '../../src/app/drift-handler';
import { buildGuard, type Guard } from '../../src/app/guard-deps';
import type { OrgAuditHandlerDeps } from '../../src/app/org-audit-deps';
import { DynamoAuditRuns } from '../../src/aws/dynamo-runs';
import { SpokeAccess } from '../../src/aws/spoke-access';
import { SqsAuditQueue } from '../../src/aws/sqs-audit-queue';
import { createStateTable } from '../../src/aws/state-table';
import type { Style } from '../../src/cli/output';
import { DEFAULT_SPOKE_ROLE_NAME } from '../../src/core/spoke-names';
import type { UnitReport } from '../../src/guard/ports';
import { renderDesiredPolicy } from '../../src/manifest';
import type { LoadedManifest, ManagedKey } from '../../src/manifest/types';
import { comparePolicies } from '../../src/policy/compare';
import {
  actAs,
  createAuditWorkQueue,
  createMemberAccount,
  driveQueue,
  forwardKmsEventsToHub,
  type MemberAccount,
  memberClients,
  widenMemberKey,
} from '../org-world';
import {
  createFindingsTopic,
  createKeyWithPolicy,
  createKmsEventRoute,
  createWorldClients,
  destroyWorldClients,
  type FindingNotification,
  PUBLIC_DECRYPT_STATEMENT,
  policyWithStatement,
  putCloudTrailRecords,
  putKeyPolicyRecord,
  receiveDeliveredEvents,
  receiveFindings,
  type WorldClientConfig,
  type WorldClients,
} from '../world';
import {
  type DriftSummary,
  demoLambdaContext,
  RecordingLogger,
  recordPublishes,
  type SentMessage,
} from './guard';
import { type Narrator, renderTable, severityText } from './print';

/** The organization of the demo: fixed IDs (the demo has its own moto server). */
export const ORG = {
  securityAccountId: '100000000001',
  memberA: '200000000002',
  memberB: '300000000003',
  /** An account that is not in the organization list (MEMBER_ACCOUNTS). */
  outsider: '900000000009',
  /** The hub's Region first (the guard's functions run there). */
  regions: ['us-east-1', 'eu-west-1'],
  hubRegion: 'us-east-1',
  spokeRoleName: DEFAULT_SPOKE_ROLE_NAME,
  externalId: 'kms-policy-guard-demo',
  busName: 'kms-policy-guard',
  driftRule: 'kms-policy-guard-drift',
  driftTarget: 'demo-hub-drift-lambda',
  topic: 'kms-policy-guard-findings',
  inbox: 'demo-security-inbox',
  stateTable: 'kms-policy-guard-state',
  auditQueue: 'kms-policy-guard-audit-work',
} as const;

/** The member key the attacker widens, and where. */
export const ORG_TAMPER = { accountId: ORG.memberA, region: 'eu-west-1' } as const;

export const ORG_EVENT_IDS = {
  memberTamper: '0f5b1c1e-demo-4a00-8000-0000000000a1',
  outsider: '0f5b1c1e-demo-4a00-8000-0000000000f1',
} as const;

const ORG_AUDIT_DEADLINE_SECONDS = 120;

export interface OrgUnitRow {
  accountId: string;
  region: string;
  status: UnitReport['status'] | 'not reported';
  checked: number;
  inSync: number;
}

export interface OrgReport {
  hubAccountId: string;
  memberAccounts: string[];
  regions: string[];
  /** Keys of the guarded entry, one per member account and Region (`<account>#<region>` → key ARN). */
  memberKeys: Map<string, string>;
  /** The member account's tampering event, as the hub drift handler ended it. */
  memberDrift: { summary?: DriftSummary; notification?: FindingNotification };
  /** Events the hub's drift rule delivered (the member's and the outsider's). */
  delivered: number;
  /** The widened member key's live policy equals its desired policy again (read in the member account). */
  memberKeyRestored: boolean;
  /** AssumeRole calls of the hub's spoke access, in order (role ARN, external ID). */
  assumedRoles: { roleArn: string; externalId?: string }[];
  /** The event from the account outside the organization. */
  outsider: {
    summary?: DriftSummary;
    notification?: FindingNotification;
    /** The outsider's widened key still has the widened policy: nothing was written there. */
    keyUntouched: boolean;
  };
  audit: {
    runId: string;
    units: number;
    invocations: number;
    rows: OrgUnitRow[];
    summaries: FindingNotification[];
  };
  /** Every finding the hub's inbox received, in the order the hub published them. */
  inbox: FindingNotification[];
  sent: SentMessage[];
}

/** Records the AssumeRole requests an STS client sends. */
function recordAssumeRoles(sts: STSClient): { roleArn: string; externalId?: string }[] {
  const calls: { roleArn: string; externalId?: string }[] = [];
  sts.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === AssumeRoleCommand.name) {
        const input = args.input as AssumeRoleCommandInput;
        calls.push({
          roleArn: input.RoleArn ?? '',
          ...(input.ExternalId !== undefined ? { externalId: input.ExternalId } : {}),
        });
      }
      return next(args);
    },
    { step: 'initialize', name: 'demoRecordAssumeRole' },
  );
  return calls;
}

function eventIdOf(event: unknown): string {
  const detail =
    typeof event === 'object' && event !== null ? (event as { detail?: unknown }).detail : undefined;
  return typeof detail === 'object' && detail !== null && 'eventID' in detail ? String(detail.eventID) : '';
}

function entryOf(manifest: LoadedManifest, name: string): ManagedKey {
  const entry = manifest.keys.find((key) => key.name === name);
  if (!entry) throw new Error(`the organization demo guards manifest entry "${name}", which is missing`);
  return entry;
}

function lambdaContext(name: string): Context {
  return {
    ...demoLambdaContext(`org-${name}`),
    functionName: `kms-policy-guard-${name}`,
    invokedFunctionArn: `arn:aws:lambda:${ORG.hubRegion}:${ORG.securityAccountId}:function:kms-policy-guard-${name}`,
  };
}

interface OrgWorld {
  hub: WorldClients;
  members: MemberAccount[];
  outsider: WorldClients;
  busArn: string;
  driftQueueUrl: string;
  inboxUrl: string;
  topicArn: string;
  work: { url: string; dlqUrl: string };
  /** Keys of the guarded entry, one per member account and Region (`<account>#<region>` → key ARN). */
  memberKeys: Map<string, string>;
  /** A key in the outsider account, with the entry's policy rendered for that account. */
  outsiderKey: { keyArn: string; policy: string };
  /** Credentials that act in the security account (the hub's functions' role). */
  security: WorldClientConfig;
  destroy(): void;
}

/**
 * Builds the organization on moto: the hub's resources in the security account, the member accounts with their
 * spokes and keys, the outsider. runDemo starts it early, so it is built while the single-account scenes run.
 */
export async function prepareOrganization(
  base: WorldClientConfig,
  manifest: LoadedManifest,
  entryName: string,
): Promise<OrgWorld> {
  const entry = entryOf(manifest, entryName);
  const cleanup: (() => void)[] = [];
  const destroy = () => {
    for (const done of cleanup.reverse()) done();
  };
  try {
    const security = await actAs(base, ORG.securityAccountId, ORG.hubRegion);
    const hub = createWorldClients(security);
    cleanup.push(() => destroyWorldClients(hub));
    const route = await createKmsEventRoute(hub, {
      busName: ORG.busName,
      ruleName: ORG.driftRule,
      queueName: ORG.driftTarget,
    });
    const topic = await createFindingsTopic(hub, { topicName: ORG.topic, queueName: ORG.inbox });
    await createStateTable(hub.dynamodb, ORG.stateTable);
    const work = await createAuditWorkQueue(hub.sqs, ORG.auditQueue, {
      visibilitySeconds: 30,
      maxReceives: 3,
    });
    const busArn = `arn:aws:events:${ORG.hubRegion}:${ORG.securityAccountId}:event-bus/${ORG.busName}`;
    const members: MemberAccount[] = [];
    const memberKeys = new Map<string, string>();
    for (const accountId of [ORG.memberA, ORG.memberB]) {
      const member = await createMemberAccount(base, accountId, ORG.regions, {
        busArn,
        guardRoleArn: guardRoleArn(),
        spokeRoleName: ORG.spokeRoleName,
      });
      cleanup.push(() => {
        for (const clients of member.clients.values()) destroyWorldClients(clients);
      });
      members.push(member);
      for (const region of ORG.regions) {
        // {{GuardPrincipal}} in a member account is its spoke role, the role the hub acts as there.
        const location = { partition: 'aws', region, accountId, guardPrincipal: spokeRoleArn(accountId) };
        const key = await createKeyWithPolicy(memberClients(member, region).kms, {
          policy: renderDesiredPolicy(entry, location),
          ...(entry.match.alias ? { alias: entry.match.alias } : {}),
          ...(entry.match.tag ? { tags: { [entry.match.tag.key]: entry.match.tag.value } } : {}),
          description: `${entry.name} (kms-policy-guard organization demo)`,
        });
        memberKeys.set(`${accountId}#${region}`, key.keyArn);
      }
    }
    // The outsider forwards to the hub bus too (in AWS the bus policy refuses it; the hub refuses it again).
    const outsider = createWorldClients(await actAs(base, ORG.outsider, ORG.hubRegion));
    cleanup.push(() => destroyWorldClients(outsider));
    await forwardKmsEventsToHub(outsider.events, busArn);
    const outsiderPolicy = renderDesiredPolicy(entry, {
      partition: 'aws',
      region: ORG.hubRegion,
      accountId: ORG.outsider,
    });
    const outsiderKey = await createKeyWithPolicy(outsider.kms, {
      policy: outsiderPolicy,
      description: 'a key outside the organization (kms-policy-guard organization demo)',
    });
    return {
      hub,
      members,
      outsider,
      busArn,
      driftQueueUrl: route.queue.url,
      inboxUrl: topic.queue.url,
      topicArn: topic.topicArn,
      work,
      memberKeys,
      outsiderKey: { keyArn: outsiderKey.keyArn, policy: outsiderPolicy },
      security,
      destroy,
    };
  } catch (error) {
    destroy();
    throw error;
  }
}

function guardRoleArn(): string {
  return `arn:aws:iam::${ORG.securityAccountId}:role/kms-policy-guard-${ORG.hubRegion}`;
}

function spokeRoleArn(accountId: string): string {
  return `arn:aws:iam::${accountId}:role/${ORG.spokeRoleName}`;
}

export interface OrgStoryOptions {
  /** The organization, being built (prepareOrganization); the story waits for it. */
  prepared: Promise<OrgWorld>;
  manifest: LoadedManifest;
  manifestPath: string;
  repoRoot: string;
  /** The manifest entry deployed in every member account and Region. */
  entryName: string;
  say: Narrator;
  style: Style;
  /** The story's own checks (DemoRun.expect). */
  expect: (condition: boolean, problem: string) => void;
  step: <T>(name: string, action: () => Promise<T>) => Promise<T>;
}

/** Tells the organization story on the demo's moto server; see the module comment. */
export async function runOrgStory(options: OrgStoryOptions): Promise<OrgReport> {
  const { manifest, say, style, expect, step } = options;
  const entry = entryOf(manifest, options.entryName);
  const guardRole = guardRoleArn();
  const spokeRoleArn = (accountId: string) => `arn:aws:iam::${accountId}:role/${ORG.spokeRoleName}`;
  const cleanup: (() => void)[] = [];
  try {
    say.step('An organization: the hub in a security account, spokes in two member accounts');
    const world = await step('build the organization', () => options.prepared);
    const { memberKeys } = world;
    const accountRows = [
      [
        ORG.securityAccountId,
        'security (hub)',
        ORG.hubRegion,
        `bus ${ORG.busName} + drift rule, findings topic, state table, audit-work queue + DLQ`,
      ],
      ...world.members.map((member) => [
        member.accountId,
        'member (spoke)',
        ORG.regions.join(', '),
        `spoke role ${ORG.spokeRoleName}; forward rule → hub bus in each Region; ${entry.name} key in each Region`,
      ]),
      [
        ORG.outsider,
        style.yellow('not in the organization list'),
        ORG.hubRegion,
        'a rule that forwards KMS events to the hub bus anyway',
      ],
    ];
    say.block(renderTable(['Account', 'Role', 'Regions', 'What is there'], accountRows, style));

    // The hub as serverless.yml configures its functions (src/app/config.ts), with the security account's credentials.
    const config = readDriftConfig({
      AWS_REGION: ORG.hubRegion,
      TOPIC_ARN: world.topicArn,
      STATE_TABLE: ORG.stateTable,
      GUARD_ROLE_ARN: guardRole,
      MEMBER_ACCOUNTS: world.members.map((member) => member.accountId).join(','),
      GUARDED_REGIONS: ORG.regions.join(','),
      SPOKE_ROLE_NAME: ORG.spokeRoleName,
      SPOKE_EXTERNAL_ID: ORG.externalId,
      MANIFEST_PATH: options.manifestPath,
      LAMBDA_TASK_ROOT: options.repoRoot,
    });
    const hubSettings = config.hub;
    if (!hubSettings) throw new Error('MEMBER_ACCOUNTS set, but readDriftConfig made no hub');
    const securityConfig = world.security;
    const sts = new STSClient(securityConfig);
    cleanup.push(() => sts.destroy());
    const assumedRoles = recordAssumeRoles(sts);
    const logger = new RecordingLogger({ serviceName: 'kms-policy-guard', logLevel: 'INFO' });
    const guard: Guard = buildGuard({
      manifest,
      aws: securityConfig,
      logger,
      repoRoot: config.taskRoot,
      topicArn: config.topicArn,
      stateTable: config.stateTable ?? ORG.stateTable,
      guardedRegions: config.guardedRegions,
      guardPrincipalArn: config.guardRoleArn ?? guardRole,
      hub: {
        settings: hubSettings,
        access: new SpokeAccess({
          sts,
          partition: 'aws',
          roleName: hubSettings.spokeRoleName,
          sessionName: hubSettings.sessionName,
          ownAccountId: hubSettings.hubAccountId,
          ...(hubSettings.externalId ? { externalId: hubSettings.externalId } : {}),
        }),
      },
    });
    cleanup.push(() => guard.destroy());
    const sent = recordPublishes(guard.sns);
    const hub = guard.hub;
    if (!hub) throw new Error('buildGuard made no hub');
    say.ok(
      `hub guard from the functions' environment: MEMBER_ACCOUNTS=${hubSettings.memberAccounts.join(',')} GUARDED_REGIONS=${hubSettings.regions.join(',')} SPOKE_ROLE_NAME=${hubSettings.spokeRoleName} SPOKE_EXTERNAL_ID=${hubSettings.externalId ?? '-'}`,
    );
    const drift = createDriftHandler(
      { ...guard.deps, logger, region: ORG.hubRegion, guardRoleArn: guardRole, hub: hub.scope },
      { timeoutEarlyInMillis: 0 },
    );

    say.step(
      `Two KMS changes reach the hub bus: one in member account ${ORG_TAMPER.accountId}, one from outside the organization`,
    );
    const member = world.members.find((candidate) => candidate.accountId === ORG_TAMPER.accountId);
    if (!member) throw new Error(`no member account ${ORG_TAMPER.accountId}`);
    const memberKeyArn = memberKeys.get(`${ORG_TAMPER.accountId}#${ORG_TAMPER.region}`) ?? '';
    const outsiderKey = world.outsiderKey;
    const widenedOutside = policyWithStatement(outsiderKey.policy, PUBLIC_DECRYPT_STATEMENT);
    await step('tamper in the member and the outsider account', () =>
      Promise.all([
        widenMemberKey(memberClients(member, ORG_TAMPER.region), memberKeyArn, {
          eventId: ORG_EVENT_IDS.memberTamper,
          actorArn: `arn:aws:iam::${ORG_TAMPER.accountId}:user/mallory`,
          sourceIPAddress: '203.0.113.66',
        }),
        (async () => {
          await world.outsider.kms.send(
            new PutKeyPolicyCommand({
              KeyId: outsiderKey.keyArn,
              PolicyName: 'default',
              Policy: widenedOutside,
            }),
          );
          await putCloudTrailRecords(world.outsider.events, 'default', [
            putKeyPolicyRecord({
              keyArn: outsiderKey.keyArn,
              eventId: ORG_EVENT_IDS.outsider,
              policy: widenedOutside,
              actorArn: `arn:aws:iam::${ORG.outsider}:user/eve`,
              sourceIPAddress: '198.51.100.99',
            }),
          ]);
        })(),
      ]),
    );
    say.bad(
      `mallory adds "Principal": {"AWS": "*"} kms:Decrypt to ${entry.name} (${entry.mode}) in ${ORG_TAMPER.accountId}/${ORG_TAMPER.region}`,
    );
    say.bad(
      `eve adds the same statement to a key in ${ORG.outsider}/${ORG.hubRegion}, an account outside the organization list`,
    );
    const handled = await step('deliver the events to the hub', async () => {
      const delivered = await receiveDeliveredEvents(world.hub.sqs, world.driftQueueUrl);
      const order: string[] = [ORG_EVENT_IDS.memberTamper, ORG_EVENT_IDS.outsider];
      delivered.sort((x, y) => order.indexOf(eventIdOf(x)) - order.indexOf(eventIdOf(y)));
      const summaries = new Map<string, DriftSummary>();
      for (const event of delivered)
        summaries.set(eventIdOf(event), await drift(event, lambdaContext('drift')));
      const [memberPolicy, outsiderPolicy] = await Promise.all([
        memberClients(member, ORG_TAMPER.region).kms.send(
          new GetKeyPolicyCommand({ KeyId: memberKeyArn, PolicyName: 'default' }),
        ),
        world.outsider.kms.send(
          new GetKeyPolicyCommand({ KeyId: outsiderKey.keyArn, PolicyName: 'default' }),
        ),
      ]);
      const desired = renderDesiredPolicy(entry, {
        partition: 'aws',
        region: ORG_TAMPER.region,
        accountId: ORG_TAMPER.accountId,
        guardPrincipal: spokeRoleArn(ORG_TAMPER.accountId),
      });
      return {
        delivered: delivered.length,
        summaries,
        memberKeyRestored:
          comparePolicies(desired, memberPolicy.Policy ?? '', { partition: 'aws' }).status === 'equivalent',
        outsiderKeyUntouched: outsiderPolicy.Policy === widenedOutside,
      };
    });
    say.info(
      `forward rules (${ORG_TAMPER.accountId} ${ORG_TAMPER.region}, ${ORG.outsider} ${ORG.hubRegion}) → hub bus ${ORG.busName} (${ORG.securityAccountId} ${ORG.hubRegion}) → drift rule: ${handled.delivered} events delivered to the hub drift handler`,
    );
    const memberSummary = handled.summaries.get(ORG_EVENT_IDS.memberTamper);
    const outsiderSummary = handled.summaries.get(ORG_EVENT_IDS.outsider);
    const memberKeyRestored = handled.memberKeyRestored;
    const spokeOfA = spokeRoleArn(ORG_TAMPER.accountId);
    const assumedA = assumedRoles.filter((call) => call.roleArn === spokeOfA);
    const memberFinding = memberSummary?.finding;
    say.ok(
      `mallory's change: the hub took ${ORG_TAMPER.accountId}/${ORG_TAMPER.region} from the CloudTrail record, assumed ${spokeOfA} (external ID ${assumedA[0]?.externalId ?? '-'}) and ${
        memberFinding
          ? `${memberFinding.action === 'remediated' ? style.green('restored') : memberFinding.action} ${entry.name} (${memberFinding.kind}, ${severityText(memberFinding.severity, style)})`
          : `ended it ${memberSummary?.status ?? 'unhandled'}`
      }; its live policy ${memberKeyRestored ? style.green('equals the desired one again') : style.red('still differs')}`,
    );
    const outsiderAssumed = assumedRoles.some((call) => call.roleArn === spokeRoleArn(ORG.outsider));
    say.ok(
      `eve's change: ${outsiderSummary?.status ?? 'not handled'} (${outsiderSummary?.reason ?? '-'}), finding published; ${outsiderAssumed ? style.red(`an AssumeRole into ${ORG.outsider}`) : `no AssumeRole into ${ORG.outsider}`}, nothing written (its key keeps eve's policy). In AWS the hub bus policy already refuses accounts outside the organization; the hub checks again.`,
    );

    say.step(
      `The organization audit fans out on SQS: ${1 + world.members.length} accounts × ${ORG.regions.length} Regions`,
    );
    const audit = await step('run the organization audit', async () => {
      const table = guard.stateTable;
      if (!table) throw new Error('the hub guard has no state table');
      const deps: OrgAuditHandlerDeps = {
        ...guard.deps,
        logger,
        hub: hub.scope,
        runs: new DynamoAuditRuns(table.tableName, table.client, () => guard.deps.clock.now()),
        queue: new SqsAuditQueue(world.hub.sqs, world.work.url),
        hubLocation: { partition: 'aws', region: ORG.hubRegion, accountId: ORG.securityAccountId },
      };
      const fanOut = createFanOutHandler(deps, {
        deadlineSeconds: ORG_AUDIT_DEADLINE_SECONDS,
        timeoutEarlyInMillis: 0,
      });
      const worker = createAuditWorkerHandler(deps, {
        concurrency: 4,
        reportUnmanaged: true,
        maxReceives: 3,
        timeoutEarlyInMillis: 0,
      });
      const runId = `org-audit-${new Date().toISOString()}`;
      const started = await fanOut({ id: runId }, lambdaContext('audit'));
      const driven = await driveQueue(world.hub.sqs, world.work.url, worker, {
        context: lambdaContext('audit-worker'),
        timeoutMs: 30_000,
        batchSize: 1,
        concurrency: 3,
        // Lambda's event source polls continuously; a short pause keeps the demo from waiting on an idle poller.
        idleMs: 50,
        done: async () => (await deps.runs.progress(runId))?.summary === 'published',
      });
      const units = await deps.runs.units(runId);
      const rows: OrgUnitRow[] = units.map(({ unit, report }) => ({
        accountId: unit.accountId,
        region: unit.region,
        status: report?.status ?? 'not reported',
        checked: report?.checked ?? 0,
        inSync: report?.inSync ?? 0,
      }));
      return { runId, units: started.units, invocations: driven.invocations, rows };
    });
    say.info(
      `the scheduled audit sent ${audit.units} unit messages (and one delayed deadline message) to ${ORG.auditQueue}; the audit worker ran ${audit.invocations} times from the queue, each unit recorded in ${ORG.stateTable} (run#…)`,
    );
    say.block(
      renderTable(
        ['Account', 'Region', 'Unit', 'Keys checked', 'In sync'],
        audit.rows.map((row) => [
          row.accountId,
          row.region,
          row.status === 'checked' ? style.green(row.status) : style.red(row.status),
          String(row.checked),
          String(row.inSync),
        ]),
        style,
      ),
    );

    const inbox = await step('read the security inbox', () => receiveFindings(world.hub.sqs, world.inboxUrl));
    const order = sent.map((message) => message.findingId);
    inbox.sort((a, b) => order.indexOf(a.finding.id) - order.indexOf(b.finding.id));
    const summaries = inbox.filter(
      (item) => item.finding.kind === 'audit-summary' && item.finding.id.startsWith(audit.runId),
    );
    for (const line of summaries[0]?.finding.details.slice(0, 2) ?? []) say.ok(line);
    const assumedPerAccount = world.members.map(
      (member) =>
        `${member.accountId} ×${assumedRoles.filter((call) => call.roleArn === spokeRoleArn(member.accountId)).length}`,
    );
    say.ok(
      `AssumeRole calls of the whole act: ${assumedPerAccount.join(', ')} (spoke credentials are cached per account, for every Region, until 5 minutes before they expire); none into ${ORG.securityAccountId}, the hub's own account`,
    );

    say.step(`The security inbox: ${inbox.length} e-mails, each naming the account and Region`);
    const emailLine = (finding: FindingNotification) =>
      sent
        .find((message) => message.findingId === finding.finding.id)
        ?.emailText.split('\n')
        .find((line) => line.startsWith('Account:'))
        ?.replace(/\s+/g, ' ') ?? '';
    say.block(
      renderTable(
        ['Subject', 'Account / Region (e-mail)'],
        inbox.map((item) => [item.subject ?? '', emailLine(item)]),
        style,
      ),
    );
    const memberNotification = inbox.find((item) => item.finding.id === memberFinding?.id);
    const outsiderNotification = inbox.find((item) => item.finding.kind === 'account-not-guarded');

    // The story's own checks.
    expect(
      handled.delivered === 2,
      `the hub received ${handled.delivered} events, expected 2 (the member's and the outsider's)`,
    );
    expect(
      memberFinding?.kind === 'remediated' &&
        memberNotification?.finding.account === ORG_TAMPER.accountId &&
        memberNotification.finding.region === ORG_TAMPER.region,
      `the member key's event did not end in a remediated finding naming ${ORG_TAMPER.accountId}/${ORG_TAMPER.region}`,
    );
    expect(
      memberKeyRestored,
      `${entry.name} in ${ORG_TAMPER.accountId}/${ORG_TAMPER.region} was not restored`,
    );
    expect(
      assumedA.length >= 1 && assumedA.every((call) => call.externalId === ORG.externalId),
      `the hub did not assume ${spokeOfA} with the external ID`,
    );
    expect(
      outsiderSummary?.status === 'rejected' && outsiderSummary.reason === 'account-not-guarded',
      `the event from ${ORG.outsider} was not rejected as account-not-guarded`,
    );
    expect(
      outsiderNotification?.finding.account === ORG.outsider,
      `no account-not-guarded finding names ${ORG.outsider}`,
    );
    expect(
      handled.outsiderKeyUntouched && !outsiderAssumed,
      `the guard acted in ${ORG.outsider}, outside the organization`,
    );
    const expectedUnits = (1 + world.members.length) * ORG.regions.length;
    expect(
      audit.units === expectedUnits && audit.rows.every((row) => row.status === 'checked'),
      `the organization audit did not check all ${expectedUnits} units`,
    );
    expect(
      summaries.length === 1 &&
        summaries[0]?.finding.details[0]?.includes(
          `${expectedUnits} units (accounts × Regions), ${expectedUnits} reported, 0 not reported`,
        ) === true,
      'the organization audit did not publish exactly one summary counting every unit',
    );
    expect(
      world.members.every(
        (member) =>
          assumedRoles.filter((call) => call.roleArn === spokeRoleArn(member.accountId)).length === 1,
      ) && assumedRoles.length === world.members.length,
      'the hub did not assume each member account’s spoke role exactly once (credentials are cached per account)',
    );

    return {
      hubAccountId: ORG.securityAccountId,
      memberAccounts: world.members.map((member) => member.accountId),
      regions: [...ORG.regions],
      memberKeys,
      delivered: handled.delivered,
      memberDrift: {
        ...(memberSummary ? { summary: memberSummary } : {}),
        ...(memberNotification ? { notification: memberNotification } : {}),
      },
      memberKeyRestored,
      assumedRoles,
      outsider: {
        ...(outsiderSummary ? { summary: outsiderSummary } : {}),
        ...(outsiderNotification ? { notification: outsiderNotification } : {}),
        keyUntouched: handled.outsiderKeyUntouched,
      },
      audit: {
        runId: audit.runId,
        units: audit.units,
        invocations: audit.invocations,
        rows: audit.rows,
        summaries,
      },
      inbox,
      sent,
    };
  } finally {
    for (const done of cleanup.reverse()) done();
  }
}

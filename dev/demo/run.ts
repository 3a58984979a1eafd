/**
 * `npm start`: the whole guard, end to end, on a local AWS (moto). runDemo builds the account from the
 * shipped manifest, tampers with three keys, lets CloudTrail-shaped events flow through the production
 * rule pattern into the real drift handler, runs the audit, and shows what a user receives. It checks
 * its own outcome, so a demo that silently stopped demonstrating fails instead.
 *
 * Everything talks to the moto endpoint with dummy credentials; nothing here can reach real AWS.
 */
import path from 'node:path';
import { PutKeyPolicyCommand, TagResourceCommand } from '@aws-sdk/client-kms';
import type { LedgerEntry } from '../../src/aws/dynamo-ledger';
import { KmsKeyPolicyStore } from '../../src/aws/kms-store';
import { createStateTable } from '../../src/aws/state-table';
import { type CliIo, colourEnabled, createStyle, type Style } from '../../src/cli/output';
import type { AuditReport } from '../../src/guard/audit-keys';
import type { BindingStore } from '../../src/guard/ports';
import {
  describeMatcher,
  factsOf,
  loadManifest,
  renderDesiredPolicy,
  resolveEntry,
} from '../../src/manifest';
import type { LoadedManifest, ManagedKey } from '../../src/manifest/types';
import { comparePolicies } from '../../src/policy/compare';
import { type MotoServer, startMoto } from '../moto-server';
import {
  createFindingsTopic,
  createKeyWithPolicy,
  createKmsEventRoute,
  createWorldClients,
  crossAccountDecryptStatement,
  destroyWorldClients,
  type FindingNotification,
  MOTO_ACCOUNT_ID,
  PUBLIC_DECRYPT_STATEMENT,
  policyWithStatement,
  putCloudTrailRecords,
  putKeyPolicyRecord,
  receiveDeliveredEvents,
  receiveFindings,
  WORLD_PLACEHOLDERS,
  WORLD_REGION,
  type WorldClients,
  worldClientConfig,
} from '../world';
import { createDemoGuard, type DemoGuard, type DriftSummary, demoLambdaContext, REPO_ROOT } from './guard';
import { type OrgReport, prepareOrganization, runOrgStory } from './org';
import { createNarrator, type Narrator, renderEmail, renderTable, seconds, severityText } from './print';
import {
  ALERTED_KEY,
  ALICE,
  BOB,
  CAROL,
  type DemoActor,
  EVENT_IDS,
  FOREIGN_ACCOUNT_ID,
  GUARD_ACTOR,
  MISTAGGED_KEY,
  MISTAGGED_VALUE,
  REMEDIATED_KEY,
} from './scenario';

export const DEMO_NAMES = {
  topic: 'kms-policy-guard-findings',
  inbox: 'demo-inbox',
  bus: 'kms-policy-guard-local',
  driftRule: 'kms-policy-guard-drift',
  driftTarget: 'demo-drift-lambda',
  stateTable: 'kms-policy-guard-state',
} as const;

export interface DemoOptions {
  /** A moto endpoint to use instead of starting one. It must be fresh: aliases and the audit are account-wide. */
  endpoint?: string;
  /** Called once moto is up, so the entry point can stop it from a signal handler. */
  onMotoStarted?: (moto: MotoServer) => void;
  /** Default: policies/manifest.yaml of this repository. */
  manifestPath?: string;
}

/** One managed key of the demo account, at the end of the run. */
export interface DemoKeyStatus {
  /** The manifest entry the key was created for. */
  name: string;
  keyId: string;
  keyArn: string;
  /** The entry the guard enforces on the key now (undefined: none; the guard no longer watches it). */
  managedBy?: string;
  /** The recorded binding's matcher, when the key is bound by alias or tag. */
  boundBy?: string;
  /** Live policy equivalent to the entry's desired policy (semantic comparison). */
  liveEqualsDesired: boolean;
  livePolicy: string;
}

export interface DemoEventOutcome {
  eventId: string;
  label: string;
  summary: DriftSummary;
}

export interface DemoEmail {
  findingId: string;
  kind: string;
  severity: string;
  action: string;
  keyId: string;
  keyName?: string;
  subject: string;
  emailText: string;
}

export interface DemoReport {
  /** Every expectation of the story held (see `problems` otherwise). */
  ok: boolean;
  problems: string[];
  durationMs: number;
  endpoint: string;
  /** Whether runDemo started (and stopped) moto itself. */
  startedMoto: boolean;
  keys: DemoKeyStatus[];
  /** How many CloudTrail records were put on the bus, and how many the drift rule delivered. */
  recordsPublished: number;
  recordsDelivered: number;
  events: DemoEventOutcome[];
  /** Re-applies the ledger recorded for the remediated key (each with the overwritten policy). */
  ledgerEntries: LedgerEntry[];
  audit: AuditReport;
  /** What reached the inbox queue through SNS, in the order the guard published it. */
  emails: DemoEmail[];
  /** The organization act: the hub in a security account, two member accounts, an outsider (./org.ts). */
  org: OrgReport;
}

/** The story could not be told (a step failed); the report is incomplete. */
export class DemoStepError extends Error {
  constructor(
    readonly step: string,
    options: { cause: unknown },
  ) {
    const reason = options.cause instanceof Error ? options.cause.message : String(options.cause);
    super(`demo step "${step}" failed: ${reason}`, options);
    this.name = 'DemoStepError';
  }
}

interface CreatedKey {
  entry: ManagedKey;
  keyId: string;
  keyArn: string;
  alias: string;
  tags: Record<string, string>;
  desiredPolicy: string;
}

const DUMMY_ENV: Record<string, string | undefined> = {
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  AWS_REGION: WORLD_REGION,
  AWS_DEFAULT_REGION: WORLD_REGION,
  // A real profile, SSO session or token must never be picked up by accident.
  AWS_PROFILE: undefined,
  AWS_SESSION_TOKEN: undefined,
};

/** Sets the variables (undefined: removes them) and returns how to put everything back. */
function overrideEnv(values: Record<string, string | undefined>): () => void {
  const saved = new Map(Object.keys(values).map((name) => [name, process.env[name]]));
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  return () => {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
}

function entryNamed(manifest: LoadedManifest, name: string): ManagedKey {
  const entry = manifest.keys.find((key) => key.name === name);
  if (!entry) {
    throw new Error(`the demo tampers with manifest entry "${name}", which ${manifest.path} does not have`);
  }
  return entry;
}

function eventIdOf(event: unknown): string {
  const detail =
    typeof event === 'object' && event !== null ? (event as { detail?: unknown }).detail : undefined;
  return typeof detail === 'object' && detail !== null && 'eventID' in detail ? String(detail.eventID) : '';
}

function actorFields(actor: DemoActor) {
  return { actorArn: actor.arn, sourceIPAddress: actor.sourceIPAddress, userAgent: actor.userAgent };
}

/** A TagResource record: the drift rule must not route it (tags are not policies), only the audit sees the effect. */
function tagResourceRecord(key: CreatedKey, tagKey: string, tagValue: string): Record<string, unknown> {
  const record = putKeyPolicyRecord({ keyArn: key.keyArn, eventId: EVENT_IDS.retag, ...actorFields(CAROL) });
  return {
    ...record,
    eventName: 'TagResource',
    requestParameters: { keyId: key.keyId, tags: [{ tagKey, tagValue }] },
  };
}

/** The steps that need the world's clients and the narration; runDemo tells the story with them. */
class DemoRun {
  readonly problems: string[] = [];
  /** Where the drift rule delivers (the stand-in for the drift Lambda); set once the rule exists. */
  driftQueueUrl = '';

  constructor(
    readonly clients: WorldClients,
    readonly say: Narrator,
    readonly style: Style,
  ) {}

  expect(condition: boolean, problem: string): void {
    if (!condition) this.problems.push(problem);
  }

  async createKeys(manifest: LoadedManifest): Promise<CreatedKey[]> {
    const created: CreatedKey[] = [];
    const rows: string[][] = [];
    const aliasesInUse = new Set(
      manifest.keys.flatMap((entry) => (entry.match.alias ? [entry.match.alias] : [])),
    );
    for (const entry of manifest.keys) {
      if (entry.match.alias === undefined && entry.match.tag === undefined) {
        this.say.note(
          `${entry.name}: matched by ${describeMatcher(entry.match)}; moto makes its own key IDs, skipped`,
        );
        continue;
      }
      const desiredPolicy = renderDesiredPolicy(entry, WORLD_PLACEHOLDERS);
      // Tag-matched keys get a readable alias too, unless another entry matches by that alias.
      const ownAlias = `alias/${entry.name}`;
      const alias = entry.match.alias ?? (aliasesInUse.has(ownAlias) ? undefined : ownAlias);
      const tags = entry.match.tag ? { [entry.match.tag.key]: entry.match.tag.value } : {};
      const key = await createKeyWithPolicy(this.clients.kms, {
        policy: desiredPolicy,
        alias,
        tags,
        description: `${entry.name} (kms-policy-guard demo)`,
      });
      created.push({ entry, keyId: key.keyId, keyArn: key.keyArn, alias: alias ?? '', tags, desiredPolicy });
      rows.push([entry.name, describeMatcher(entry.match), entry.mode, key.keyId]);
    }
    this.say.ok(
      `${created.length} keys from ${path.relative(REPO_ROOT, manifest.path)}, each with its desired policy:`,
    );
    this.say.block(renderTable(['Key', 'Manifest matches it by', 'Mode', 'Key ID'], rows, this.style));
    return created;
  }

  async handleDelivered(guard: DemoGuard, labels: Map<string, string>): Promise<DemoEventOutcome[]> {
    const delivered = await receiveDeliveredEvents(this.clients.sqs, this.driftQueueUrl);
    const order = [...labels.keys()];
    delivered.sort((a, b) => order.indexOf(eventIdOf(a)) - order.indexOf(eventIdOf(b)));
    const outcomes: DemoEventOutcome[] = [];
    for (const event of delivered) {
      const eventId = eventIdOf(event);
      const summary = await guard.drift(event, demoLambdaContext(`invoke-${eventId.slice(-4)}`));
      outcomes.push({ eventId, label: labels.get(eventId) ?? eventId, summary });
    }
    return outcomes;
  }

  describeOutcome(outcome: DemoEventOutcome): string {
    const { summary } = outcome;
    if (summary.finding) {
      const { kind, severity, action } = summary.finding;
      const verb =
        action === 'remediated'
          ? this.style.green('restored')
          : action === 'alerted'
            ? this.style.yellow('alerted')
            : action;
      return `${outcome.label}: ${verb} (${kind}, ${severityText(severity, this.style)}), finding published`;
    }
    return `${outcome.label}: ${summary.status}${summary.reason ? ` (${summary.reason})` : ''}`;
  }

  async keyStatuses(
    manifest: LoadedManifest,
    keys: CreatedKey[],
    bindings: BindingStore,
  ): Promise<DemoKeyStatus[]> {
    const store = new KmsKeyPolicyStore(this.clients.kms);
    const statuses: DemoKeyStatus[] = [];
    for (const key of keys) {
      const [description, aliases, tags] = await Promise.all([
        store.describeKey(key.keyId),
        store.listAliases(),
        store.listResourceTags(key.keyId),
      ]);
      const metadata = {
        ...description,
        aliases: [...aliases].filter(([, target]) => target === key.keyId).map(([alias]) => alias),
        tags,
      };
      const livePolicy = await store.getKeyPolicy(key.keyId);
      const comparison = comparePolicies(key.desiredPolicy, livePolicy, { partition: 'aws' });
      const status: DemoKeyStatus = {
        name: key.entry.name,
        keyId: key.keyId,
        keyArn: key.keyArn,
        liveEqualsDesired: comparison.status === 'equivalent',
        livePolicy,
      };
      // What the guard enforces: the recorded binding when there is one (sticky), else the manifest walk.
      const binding = await bindings.get(key.keyArn);
      const managedBy = binding?.entry ?? (await resolveEntry(manifest, factsOf(metadata))).entry?.name;
      if (managedBy !== undefined) status.managedBy = managedBy;
      if (binding) status.boundBy = `${binding.matcherKind} ${binding.matcherValue}`;
      statuses.push(status);
    }
    return statuses;
  }
}

function inboxEmails(findings: FindingNotification[], guard: DemoGuard): DemoEmail[] {
  const order = guard.sent.map((message) => message.findingId);
  return findings
    .map((notification) => {
      const { finding } = notification;
      const sent = guard.sent.find((message) => message.findingId === finding.id);
      const email: DemoEmail = {
        findingId: finding.id,
        kind: finding.kind,
        severity: finding.severity,
        action: finding.action,
        keyId: finding.keyId,
        subject: notification.subject ?? sent?.subject ?? '',
        emailText: sent?.emailText ?? '(the guard did not send this message: no e-mail text recorded)',
      };
      if (finding.keyName !== undefined) email.keyName = finding.keyName;
      return email;
    })
    .sort((a, b) => order.indexOf(a.findingId) - order.indexOf(b.findingId));
}

async function step<T>(name: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof DemoStepError) throw error;
    throw new DemoStepError(name, { cause: error });
  }
}

/** Runs the demo; see the module comment. Throws DemoStepError (or MotoServerError) when a step fails. */
export async function runDemo(io: CliIo, options: DemoOptions = {}): Promise<DemoReport> {
  const started = Date.now();
  const style = createStyle(colourEnabled(io));
  const say = createNarrator((text) => io.stdout(text), style);
  say.block(
    style.bold('kms-policy-guard demo') +
      ` — account ${MOTO_ACCOUNT_ID}, ${WORLD_REGION}, then an organization (a hub and two member accounts), on a local AWS (moto). Nothing here touches real AWS.`,
  );

  let moto: MotoServer | undefined;
  let clients: WorldClients | undefined;
  let guard: DemoGuard | undefined;
  let restoreEnv: (() => void) | undefined;
  let orgWorld: ReturnType<typeof prepareOrganization> | undefined;
  try {
    say.step('A local AWS account');
    let endpoint = options.endpoint;
    if (endpoint === undefined) {
      const motoStarted = Date.now();
      moto = await startMoto();
      options.onMotoStarted?.(moto);
      endpoint = moto.endpoint;
      say.ok(`moto started on ${endpoint} in ${seconds(Date.now() - motoStarted)}`);
    } else {
      say.ok(`using the moto server at ${endpoint}`);
    }
    // Any client created without an explicit endpoint still lands on moto, never on AWS.
    restoreEnv = overrideEnv({ ...DUMMY_ENV, AWS_ENDPOINT_URL: endpoint });
    const config = worldClientConfig(endpoint);
    clients = createWorldClients(config);
    const run = new DemoRun(clients, say, style);
    const manifest = loadManifest(options.manifestPath ?? path.join(REPO_ROOT, 'policies', 'manifest.yaml'));

    // The organization of the second act is built on the same moto server while the first act runs.
    orgWorld = prepareOrganization(config, manifest, REMEDIATED_KEY);
    orgWorld.catch(() => undefined); // awaited (and its failure reported) by the organization step

    const keys = await step('create the keys', () => run.createKeys(manifest));
    const keyNamed = (name: string): CreatedKey => {
      entryNamed(manifest, name);
      const key = keys.find((candidate) => candidate.entry.name === name);
      if (!key) throw new Error(`no demo key was created for manifest entry "${name}"`);
      return key;
    };
    const [remediated, alerted, mistagged] = [
      keyNamed(REMEDIATED_KEY),
      keyNamed(ALERTED_KEY),
      keyNamed(MISTAGGED_KEY),
    ];

    const { topic, route } = await step('create the guard infrastructure', async () => {
      const topic = await createFindingsTopic(run.clients, {
        topicName: DEMO_NAMES.topic,
        queueName: DEMO_NAMES.inbox,
      });
      const route = await createKmsEventRoute(run.clients, {
        busName: DEMO_NAMES.bus,
        ruleName: DEMO_NAMES.driftRule,
        queueName: DEMO_NAMES.driftTarget,
      });
      await createStateTable(run.clients.dynamodb, DEMO_NAMES.stateTable);
      return { topic, route };
    });
    run.driftQueueUrl = route.queue.url;
    say.ok(`SNS topic ${DEMO_NAMES.topic} → SQS queue ${DEMO_NAMES.inbox} (stands in for your e-mail inbox)`);
    say.ok(
      `EventBridge rule ${DEMO_NAMES.driftRule} (the production pattern: policy, alias, tag, grant and key-state calls) → SQS queue ${DEMO_NAMES.driftTarget} (stands in for the drift Lambda)`,
    );
    say.ok(
      `DynamoDB state table ${DEMO_NAMES.stateTable} (remediation ledger: every overwritten policy is kept)`,
    );

    guard = await step('start the guard', () =>
      createDemoGuard({
        clientConfig: config,
        manifest,
        topicArn: topic.topicArn,
        stateTable: DEMO_NAMES.stateTable,
        driftRule: { ruleName: DEMO_NAMES.driftRule, busName: DEMO_NAMES.bus },
      }),
    );
    const activeGuard = guard;

    // The guard's first audit (right after deployment) records which key each alias or tag entry holds.
    const firstAudit = await step('run the first audit', () =>
      activeGuard.audit(`first-audit-${new Date(started).toISOString()}`),
    );
    const bound = await step('read the bindings', () => activeGuard.bindings.list(WORLD_PLACEHOLDERS));
    say.ok(
      `first audit: ${firstAudit.summary.checked} keys checked, ${firstAudit.summary.inSync} in sync; ${bound.length} keys bound to their entries by alias or tag (state table)`,
    );

    say.step('Someone tampers with three keys');
    const tampered = await step('tamper with the keys', async () => {
      const publicPolicy = policyWithStatement(remediated.desiredPolicy, PUBLIC_DECRYPT_STATEMENT);
      await run.clients.kms.send(
        new PutKeyPolicyCommand({ KeyId: remediated.keyId, PolicyName: 'default', Policy: publicPolicy }),
      );
      const sharedPolicy = policyWithStatement(
        alerted.desiredPolicy,
        crossAccountDecryptStatement(FOREIGN_ACCOUNT_ID),
      );
      await run.clients.kms.send(
        new PutKeyPolicyCommand({ KeyId: alerted.keyId, PolicyName: 'default', Policy: sharedPolicy }),
      );
      const tag = mistagged.entry.match.tag;
      if (!tag) throw new Error(`manifest entry ${MISTAGGED_KEY} is not matched by a tag`);
      await run.clients.kms.send(
        new TagResourceCommand({
          KeyId: mistagged.keyId,
          Tags: [{ TagKey: tag.key, TagValue: MISTAGGED_VALUE }],
        }),
      );
      return { publicPolicy, sharedPolicy, tag };
    });
    say.bad(
      `${REMEDIATED_KEY} (${remediated.entry.mode}): ${ALICE.name} adds "Principal": {"AWS": "*"} kms:Decrypt — anyone may decrypt`,
    );
    say.bad(
      `${ALERTED_KEY} (${alerted.entry.mode}): ${BOB.name} lets account ${FOREIGN_ACCOUNT_ID} (not in allowedAccounts) decrypt`,
    );
    say.bad(
      `${MISTAGGED_KEY} (${mistagged.entry.mode}): ${CAROL.name} re-tags it ${tampered.tag.key}=${MISTAGGED_VALUE} (was ${tampered.tag.value}): no manifest entry matches it any more — an attempt to move it out of the guard's sight`,
    );

    say.step('CloudTrail → EventBridge drift rule → the drift handler');
    const records = [
      putKeyPolicyRecord({
        keyArn: remediated.keyArn,
        eventId: EVENT_IDS.remediatedTamper,
        policy: tampered.publicPolicy,
        ...actorFields(ALICE),
      }),
      putKeyPolicyRecord({
        keyArn: alerted.keyArn,
        eventId: EVENT_IDS.alertedTamper,
        policy: tampered.sharedPolicy,
        ...actorFields(BOB),
      }),
      tagResourceRecord(mistagged, tampered.tag.key, MISTAGGED_VALUE),
    ];
    const labels = new Map<string, string>([
      [EVENT_IDS.remediatedTamper, `PutKeyPolicy on ${REMEDIATED_KEY} by ${ALICE.name}`],
      [EVENT_IDS.alertedTamper, `PutKeyPolicy on ${ALERTED_KEY} by ${BOB.name}`],
      [EVENT_IDS.retag, `TagResource on ${MISTAGGED_KEY} by ${CAROL.name}`],
      [EVENT_IDS.guardFollowUp, `PutKeyPolicy on ${REMEDIATED_KEY} by ${GUARD_ACTOR.name}`],
    ]);
    const events = await step('deliver the tampering events', async () => {
      await putCloudTrailRecords(run.clients.events, route.busName, records);
      return run.handleDelivered(activeGuard, labels);
    });
    const tamperDelivered = events.length;
    say.info(
      `${records.length} CloudTrail records put on the bus; the drift rule delivered ${tamperDelivered} (tag changes are routed too: they can move a key out of its entry)`,
    );
    for (const outcome of events) say.ok(run.describeOutcome(outcome));

    const ledgerEntries = await step('read the remediation ledger', () =>
      activeGuard.ledger.listLedger(remediated.keyArn, 10),
    );
    for (const entry of ledgerEntries) {
      say.ok(
        `ledger ${DEMO_NAMES.stateTable}: ${REMEDIATED_KEY}'s overwritten policy kept verbatim (${entry.overwrittenPolicy.length} bytes, sha256 ${entry.overwrittenPolicySha256.slice(0, 12)}…, event ${entry.eventId ?? '-'})`,
      );
    }

    // The guard's own PutKeyPolicy raises a CloudTrail event too; it must end as a no-op, not a loop.
    const followUp = await step("deliver the guard's own event", async () => {
      const livePolicy = await new KmsKeyPolicyStore(run.clients.kms).getKeyPolicy(remediated.keyId);
      await putCloudTrailRecords(run.clients.events, route.busName, [
        putKeyPolicyRecord({
          keyArn: remediated.keyArn,
          eventId: EVENT_IDS.guardFollowUp,
          policy: livePolicy,
          ...actorFields(GUARD_ACTOR),
        }),
      ]);
      return run.handleDelivered(activeGuard, labels);
    });
    events.push(...followUp);
    const confirmed = activeGuard.logger.lines.some(
      (line) =>
        line.message === 'guard_change_confirmed' && line.attributes.eventId === EVENT_IDS.guardFollowUp,
    );
    for (const outcome of followUp) {
      say.ok(
        `${outcome.label}: ${outcome.summary.status}${confirmed ? ' (guard_change_confirmed)' : ''} — a no-op: nothing written, nothing published`,
      );
    }

    say.step('The scheduled audit checks every key');
    const audit = await step('run the audit', () =>
      activeGuard.audit(`scheduled-audit-${new Date(started).toISOString()}`),
    );
    say.ok(
      `${audit.summary.checked} keys checked in ${audit.durationMs} ms: ${audit.summary.inSync} in sync, ${audit.summary.drift} drift, ${audit.summary.unmanaged} unmanaged, ${audit.summary.failed} failed, ${audit.summary.notChecked} not checked`,
    );

    const inbox = await step('read the inbox', async () =>
      inboxEmails(await receiveFindings(run.clients.sqs, topic.queue.url), activeGuard),
    );
    say.step(`Your inbox: ${inbox.length} e-mails, as SNS delivered them`);
    inbox.forEach((email, index) => {
      say.blank();
      say.block(renderEmail(index + 1, inbox.length, email.subject, email.emailText, style));
    });

    say.step('Audit summary');
    const keyRows = audit.keys.map((key) => [
      key.name ?? style.yellow('(unmanaged)'),
      key.aliases.join(', ') || key.keyId,
      key.mode ?? '-',
      key.result === 'in-sync'
        ? style.green('in sync')
        : key.result === 'unmanaged'
          ? style.yellow('unmanaged')
          : style.red(key.result),
      key.finding ? severityText(key.finding.severity, style) : '-',
    ]);
    say.block(renderTable(['Key', 'Aliases', 'Mode', 'Result', 'Severity'], keyRows, style));
    const health = audit.health;
    say.info(`drift rule ${DEMO_NAMES.driftRule}: ${health ? health.state : 'not checked'}`);
    // The audit itself names manifest entries that found no key (e.g. the mis-tagged app-logs).
    for (const note of audit.notes) say.info(style.yellow(`${note} — not checked`));

    say.step('Live policy vs desired policy, now');
    const statuses = await step('read the final state', () =>
      run.keyStatuses(manifest, keys, activeGuard.bindings),
    );
    const statusRows = statuses.map((status) => {
      const verdict = status.liveEqualsDesired ? style.green('in sync') : style.red('DIFFERENT');
      const watched =
        status.managedBy === status.name
          ? status.boundBy
            ? `watched (bound by ${status.boundBy})`
            : 'watched'
          : status.managedBy === undefined
            ? style.yellow('NOT WATCHED: no manifest entry matches this key')
            : style.yellow(`matched by ${status.managedBy}`);
      return [status.name, status.keyId, verdict, watched];
    });
    say.block(renderTable(['Key', 'Key ID', 'Live vs desired', 'Guard'], statusRows, style));
    say.note(
      `${REMEDIATED_KEY}: restored by the guard; the overwritten policy is in the ledger and in the e-mail.`,
    );
    say.note(`${ALERTED_KEY}: alert mode — the guard reported it and left the change for a person to judge.`);
    say.note(
      `${MISTAGGED_KEY}: its tag no longer says ${tampered.tag.key}=${tampered.tag.value}, but the binding is sticky: the guard raised a critical binding-changed finding at once and keeps enforcing ${MISTAGGED_KEY}. Only Git releases a binding.`,
    );

    const org = await runOrgStory({
      prepared: orgWorld,
      manifest,
      manifestPath: manifest.path,
      repoRoot: REPO_ROOT,
      entryName: REMEDIATED_KEY,
      say,
      style,
      expect: (condition, problem) => run.expect(condition, problem),
      step,
    });

    // The story's own checks: a demo that stopped demonstrating must not exit 0.
    const statusOf = (name: string) => statuses.find((status) => status.name === name);
    const outcomeOf = (eventId: string) => events.find((outcome) => outcome.eventId === eventId)?.summary;
    run.expect(
      tamperDelivered === 3,
      `the drift rule delivered ${tamperDelivered} tampering events, expected 3`,
    );
    run.expect(
      outcomeOf(EVENT_IDS.retag)?.finding?.kind === 'binding-changed' &&
        outcomeOf(EVENT_IDS.retag)?.finding?.severity === 'critical',
      `${MISTAGGED_KEY}'s re-tag did not end in a critical binding-changed finding`,
    );
    run.expect(
      outcomeOf(EVENT_IDS.remediatedTamper)?.finding?.kind === 'remediated',
      `${REMEDIATED_KEY}'s event did not end in a remediated finding`,
    );
    run.expect(
      outcomeOf(EVENT_IDS.alertedTamper)?.finding?.action === 'alerted',
      `${ALERTED_KEY}'s event did not end in an alert`,
    );
    run.expect(
      outcomeOf(EVENT_IDS.guardFollowUp)?.status === 'in-sync' && confirmed,
      "the guard's own event did not end as a confirmed no-op",
    );
    run.expect(statusOf(REMEDIATED_KEY)?.liveEqualsDesired === true, `${REMEDIATED_KEY} was not restored`);
    run.expect(
      ledgerEntries.length === 1 && ledgerEntries[0]?.overwrittenPolicy === tampered.publicPolicy,
      `the ledger does not hold exactly the one policy the guard overwrote on ${REMEDIATED_KEY}`,
    );
    run.expect(
      statusOf(ALERTED_KEY)?.livePolicy === tampered.sharedPolicy,
      `${ALERTED_KEY}'s live policy is not the tampered one (alert mode must not write)`,
    );
    run.expect(
      audit.keys.some(
        (key) =>
          key.keyId === mistagged.keyId &&
          key.name === MISTAGGED_KEY &&
          key.findings.some((finding) => finding.kind === 'binding-changed'),
      ),
      `the audit did not keep the re-tagged ${MISTAGGED_KEY} key bound to its entry`,
    );
    run.expect(
      statusOf(MISTAGGED_KEY)?.managedBy === MISTAGGED_KEY,
      `the re-tagged ${MISTAGGED_KEY} key is no longer watched`,
    );
    run.expect(
      audit.keys.some((key) => key.name === ALERTED_KEY && key.result === 'drift'),
      `the audit did not report ${ALERTED_KEY} as drifted`,
    );
    run.expect(audit.complete, `the audit was incomplete: ${audit.problems.join('; ')}`);
    run.expect(
      inbox.some((email) => email.kind === 'remediated') &&
        inbox.some((email) => email.kind === 'audit-summary'),
      'the inbox lacks the remediation or the audit summary e-mail',
    );

    const durationMs = Date.now() - started;
    say.blank();
    if (run.problems.length === 0) {
      say.block(style.green(`Done in ${seconds(durationMs)}: every step behaved as described.`));
    } else {
      say.block(style.red(`Done in ${seconds(durationMs)}, but the story did not hold:`));
      for (const problem of run.problems) say.bad(problem);
    }
    return {
      ok: run.problems.length === 0,
      problems: run.problems,
      durationMs,
      endpoint,
      startedMoto: moto !== undefined,
      keys: statuses,
      recordsPublished: records.length + 1,
      recordsDelivered: events.length,
      events,
      ledgerEntries,
      audit,
      emails: inbox,
      org,
    };
  } finally {
    // Even when the demo failed early: the organization's setup ends (or fails) before moto stops.
    await orgWorld?.then(
      (world) => world.destroy(),
      () => undefined,
    );
    guard?.destroy();
    if (clients) destroyWorldClients(clients);
    if (moto) {
      await moto.stop();
      say.note('moto stopped.');
    }
    restoreEnv?.();
  }
}

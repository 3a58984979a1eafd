/**
 * A small AWS world on a local moto server, for the integration tests and the `npm start` demo:
 * KMS keys with their desired policies, the drift rule (KMS_POLICY_CHANGE_EVENT_PATTERN) on a custom
 * event bus routing to an SQS queue, the findings topic with an SQS subscriber, CloudTrail-shaped
 * PutKeyPolicy records, and the finding messages read back. No test framework here.
 *
 * Everything is named by the caller: parallel users of one moto server pass unique names.
 * moto accepts PutEvents with `source: aws.kms` (real EventBridge reserves `aws.` sources for AWS
 * services), so the events below are routed by exactly the production rule pattern.
 */

import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateEventBusCommand,
  EventBridgeClient,
  PutEventsCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { CreateAliasCommand, CreateKeyCommand, KMSClient, type Tag } from '@aws-sdk/client-kms';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { stringify as stringifyYaml } from 'yaml';
import * as z from 'zod';
import type { FindingMessage } from '../src/alerts/sns-message';
import type { GuardMode } from '../src/core/key';
import { KMS_POLICY_CHANGE_EVENT_PATTERN } from '../src/guard/event-pattern';

import type { FlappingLimit, KeyMatcher, PlaceholderValues } from '../src/manifest/types';

/** The account moto answers as, and the Region the local world lives in. */
export const MOTO_ACCOUNT_ID = '123456789012';
export const WORLD_REGION = 'us-east-1';
export const WORLD_PLACEHOLDERS: PlaceholderValues = {
  partition: 'aws',
  region: WORLD_REGION,
  accountId: MOTO_ACCOUNT_ID,
};

/** The desired documents shipped in the repository (policies/). */
export const SHIPPED_POLICIES_DIR = path.resolve(__dirname, '../policies');

/** A world setup step failed (moto answered without an ID, refused an event, ...). */
export class WorldSetupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WorldSetupError';
  }
}

/** A message on a queue that is not what the reader expected (not an SNS notification of a finding). */
export class UnexpectedMessageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnexpectedMessageError';
  }
}

export interface WorldClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/** SDK client configuration for a local moto endpoint, with dummy credentials. */
export function worldClientConfig(endpoint: string, region: string = WORLD_REGION): WorldClientConfig {
  return { endpoint, region, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
}

export interface WorldClients {
  kms: KMSClient;
  events: EventBridgeClient;
  sns: SNSClient;
  sqs: SQSClient;
  dynamodb: DynamoDBClient;
}

/** The clients the world is built with ("someone" acting on AWS), separate from the guard's own clients. */
export function createWorldClients(config: WorldClientConfig): WorldClients {
  return {
    kms: new KMSClient(config),
    events: new EventBridgeClient(config),
    sns: new SNSClient(config),
    sqs: new SQSClient(config),
    dynamodb: new DynamoDBClient(config),
  };
}

export function destroyWorldClients(clients: WorldClients): void {
  for (const client of Object.values(clients)) client.destroy();
}

/** A short random suffix that keeps names unique on a moto server shared by parallel users. */
export function uniqueSuffix(): string {
  return randomUUID().slice(0, 8);
}

// ---------------------------------------------------------------------------------------------
// KMS keys and policies

export interface WorldKey {
  keyId: string;
  keyArn: string;
  alias?: string;
}

export interface CreateKeyInput {
  /** The key policy to create the key with (already rendered for the account and Region). */
  policy: string;
  /** `alias/name` to point at the key. */
  alias?: string;
  tags?: Record<string, string>;
  description?: string;
}

export async function createKeyWithPolicy(kms: KMSClient, input: CreateKeyInput): Promise<WorldKey> {
  const tags: Tag[] = Object.entries(input.tags ?? {}).map(([TagKey, TagValue]) => ({ TagKey, TagValue }));
  const { KeyMetadata } = await kms.send(
    new CreateKeyCommand({
      Policy: input.policy,
      Description: input.description ?? 'kms-policy-guard local world',
      Tags: tags.length > 0 ? tags : undefined,
    }),
  );
  if (KeyMetadata?.KeyId === undefined || KeyMetadata.Arn === undefined) {
    throw new WorldSetupError('CreateKey returned no key ID or ARN');
  }
  const key: WorldKey = { keyId: KeyMetadata.KeyId, keyArn: KeyMetadata.Arn };
  if (input.alias !== undefined) {
    await kms.send(new CreateAliasCommand({ AliasName: input.alias, TargetKeyId: key.keyId }));
    key.alias = input.alias;
  }
  return key;
}

/** A desired document from policies/ with its placeholders still in it. */
export function readShippedPolicyTemplate(fileName: string): string {
  return readFileSync(path.join(SHIPPED_POLICIES_DIR, fileName), 'utf8');
}

const policyDocumentSchema = z.looseObject({ Statement: z.array(z.unknown()) });

/** `policy` with one more statement, re-serialised the way a person editing it in the console might. */
export function policyWithStatement(policy: string, statement: Record<string, unknown>): string {
  const parsed = policyDocumentSchema.parse(JSON.parse(policy));
  return JSON.stringify({ ...parsed, Statement: [...parsed.Statement, statement] }, null, 2);
}

/** The classic accident: everyone may decrypt. */
export const PUBLIC_DECRYPT_STATEMENT = {
  Sid: 'Temporary access for the migration',
  Effect: 'Allow',
  Principal: { AWS: '*' },
  Action: 'kms:Decrypt',
  Resource: '*',
} as const;

/** A principal from another account allowed to decrypt and make data keys. */
export function crossAccountDecryptStatement(accountId: string): Record<string, unknown> {
  return {
    Sid: 'Partner access',
    Effect: 'Allow',
    Principal: { AWS: `arn:aws:iam::${accountId}:root` },
    Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
    Resource: '*',
  };
}

// ---------------------------------------------------------------------------------------------
// Manifest

export interface WorldManifestKey {
  name: string;
  match: KeyMatcher;
  mode: GuardMode;
  /** File name of the desired document inside the manifest directory. */
  policyFile: string;
  /** The desired document, placeholders allowed ({{Partition}}, {{Region}}, {{AccountId}}). */
  policyTemplate: string;
}

export interface WorldManifestInput {
  keys: WorldManifestKey[];
  flapping?: FlappingLimit;
  unmanagedKeys?: 'ignore' | 'report';
  allowedAccounts?: string[];
  adminPrincipals?: string[];
}

/** Writes manifest.yaml and its desired documents into `dir`; returns the manifest path (for loadManifest). */
export function writeManifest(dir: string, input: WorldManifestInput): string {
  mkdirSync(dir, { recursive: true });
  for (const key of input.keys) writeFileSync(path.join(dir, key.policyFile), key.policyTemplate);
  const manifest = {
    unmanagedKeys: input.unmanagedKeys ?? 'report',
    flapping: input.flapping ?? { maxReapplies: 3, windowMinutes: 60 },
    allowedAccounts: input.allowedAccounts ?? [],
    adminPrincipals: input.adminPrincipals ?? ['arn:{{Partition}}:iam::{{AccountId}}:role/KMSAdminRole'],
    keys: input.keys.map((key) => ({
      name: key.name,
      match: key.match,
      mode: key.mode,
      policy: key.policyFile,
    })),
  };
  const manifestPath = path.join(dir, 'manifest.yaml');
  writeFileSync(manifestPath, stringifyYaml(manifest));
  return manifestPath;
}

// ---------------------------------------------------------------------------------------------
// CloudTrail records and the drift rule

export const CLOUDTRAIL_DETAIL_TYPE = 'AWS API Call via CloudTrail';

export interface PutKeyPolicyRecordInput {
  keyArn: string;
  /** `userIdentity.arn`: an IAM user, a role, or an assumed-role session ARN. */
  actorArn: string;
  eventId: string;
  /** The policy the caller sent (CloudTrail records it in requestParameters). */
  policy?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  eventTime?: Date;
  /** A failed call: CloudTrail adds errorCode/errorMessage and the drift rule must not route it. */
  errorCode?: string;
  errorMessage?: string;
}

function userIdentityOf(actorArn: string, accountId: string): Record<string, unknown> {
  const session = /^arn:([a-z-]+):sts::(\d{12}):assumed-role\/([^/]+)\/([^/]+)$/.exec(actorArn);
  if (session) {
    const roleArn = `arn:${session[1]}:iam::${session[2]}:role/${session[3]}`;
    return {
      type: 'AssumedRole',
      principalId: `AROAEXAMPLEROLEID:${session[4]}`,
      arn: actorArn,
      accountId,
      accessKeyId: 'ASIAEXAMPLEKEYID',
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: 'AROAEXAMPLEROLEID',
          arn: roleArn,
          accountId,
          userName: session[3],
        },
        attributes: { creationDate: new Date().toISOString(), mfaAuthenticated: 'false' },
      },
    };
  }
  const user = /^arn:[a-z-]+:iam::\d{12}:user\/(?:.*\/)?([^/]+)$/.exec(actorArn);
  return {
    type: user ? 'IAMUser' : 'Unknown',
    principalId: 'AIDAEXAMPLEUSERID',
    arn: actorArn,
    accountId,
    accessKeyId: 'AKIAEXAMPLEKEYID',
    ...(user ? { userName: user[1] } : {}),
  };
}

export interface KmsCallRecordInput {
  eventName: string;
  /** The key the call was about (resources[] and, unless given, requestParameters.keyId). */
  keyArn?: string;
  actorArn: string;
  eventId: string;
  requestParameters?: Record<string, unknown>;
  responseElements?: Record<string, unknown> | null;
  /** Extra resources[] entries (an alias ARN). */
  resources?: { ARN: string; type?: string }[];
  sourceIPAddress?: string;
  userAgent?: string;
  eventTime?: Date;
  errorCode?: string;
  errorMessage?: string;
  /** Region and account of the record when no key ARN gives them. */
  region?: string;
  accountId?: string;
}

/**
 * The CloudTrail record of any KMS call (EventBridge `detail`), shaped like the KMS Developer Guide
 * examples in test/events/: requestParameters, responseElements and resources[] as KMS writes them.
 */
export function kmsCallRecord(input: KmsCallRecordInput): Record<string, unknown> {
  const arn =
    input.keyArn === undefined
      ? undefined
      : /^arn:([a-z-]+):kms:([a-z0-9-]+):(\d{12}):key\/(.+)$/.exec(input.keyArn);
  if (input.keyArn !== undefined && !arn) throw new WorldSetupError(`not a KMS key ARN: ${input.keyArn}`);
  const region = arn?.[2] ?? input.region ?? WORLD_REGION;
  const accountId = arn?.[3] ?? input.accountId ?? MOTO_ACCOUNT_ID;
  const keyId = arn?.[4];
  const eventTime = (input.eventTime ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const resources = [
    ...(input.resources ?? []).map((resource) => ({
      accountId,
      type: resource.type ?? 'AWS::KMS::Key',
      ARN: resource.ARN,
    })),
    ...(input.keyArn === undefined ? [] : [{ accountId, type: 'AWS::KMS::Key', ARN: input.keyArn }]),
  ];
  const record: Record<string, unknown> = {
    eventVersion: '1.08',
    userIdentity: userIdentityOf(input.actorArn, accountId),
    eventTime,
    eventSource: 'kms.amazonaws.com',
    eventName: input.eventName,
    awsRegion: region,
    sourceIPAddress: input.sourceIPAddress ?? '192.0.2.0',
    userAgent: input.userAgent ?? 'aws-cli/2.17.0',
    requestParameters: input.requestParameters ?? (keyId === undefined ? null : { keyId }),
    responseElements: input.responseElements ?? null,
    requestID: randomUUID(),
    eventID: input.eventId,
    readOnly: false,
    resources,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: accountId,
    eventCategory: 'Management',
  };
  if (input.errorCode !== undefined) {
    record.errorCode = input.errorCode;
    record.errorMessage = input.errorMessage ?? `${input.errorCode} (simulated)`;
  }
  return record;
}

/**
 * The CloudTrail record of a PutKeyPolicy call (EventBridge `detail`), shaped like the KMS Developer
 * Guide example in test/events/put-key-policy.json, for a real key ARN.
 */
export function putKeyPolicyRecord(input: PutKeyPolicyRecordInput): Record<string, unknown> {
  const keyId = input.keyArn.slice(input.keyArn.lastIndexOf('/') + 1);
  const record: KmsCallRecordInput = {
    eventName: 'PutKeyPolicy',
    keyArn: input.keyArn,
    actorArn: input.actorArn,
    eventId: input.eventId,
    requestParameters: {
      keyId,
      policyName: 'default',
      ...(input.policy === undefined ? {} : { policy: input.policy }),
      bypassPolicyLockoutSafetyCheck: false,
    },
  };
  for (const field of ['sourceIPAddress', 'userAgent', 'eventTime', 'errorCode', 'errorMessage'] as const) {
    if (input[field] !== undefined) Object.assign(record, { [field]: input[field] });
  }
  return kmsCallRecord(record);
}

export interface QueueRef {
  url: string;
  arn: string;
}

export async function createQueue(sqs: SQSClient, name: string): Promise<QueueRef> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name }));
  if (!QueueUrl) throw new WorldSetupError(`CreateQueue ${name} returned no URL`);
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const arn = Attributes?.QueueArn;
  if (!arn) throw new WorldSetupError(`GetQueueAttributes ${name} returned no QueueArn`);
  return { url: QueueUrl, arn };
}

export interface KmsEventRoute {
  busName: string;
  ruleName: string;
  /** Where the rule delivers: what a Lambda target would be invoked with. */
  queue: QueueRef;
}

/**
 * moto 5.2 leaves `account` out of the events it delivers to SQS targets (its default input template
 * lacks it), while AWS always delivers it and the drift handler requires it. This transformer makes
 * moto deliver the whole event, `account` included, as AWS does without any transformer; the
 * production rule (serverless.yml) has none. `<time>` stays unquoted: moto fills in epoch seconds and
 * turns them into ISO-8601 on delivery.
 */
export const MOTO_WHOLE_EVENT_TRANSFORMER = {
  InputPathsMap: {
    id: '$.id',
    version: '$.version',
    'detail-type': '$.detail-type',
    source: '$.source',
    account: '$.account',
    time: '$.time',
    region: '$.region',
    resources: '$.resources',
    detail: '$.detail',
  },
  InputTemplate:
    '{"version": "0", "id": "<id>", "detail-type": "<detail-type>", "source": "<source>", "account": "<account>", "time": <time>, "region": "<region>", "resources": <resources>, "detail": <detail>}',
};

/**
 * A custom bus with the drift rule (pattern = KMS_POLICY_CHANGE_EVENT_PATTERN, as in serverless.yml)
 * targeting an SQS queue. A custom bus keeps other users of the same moto server out of the queue.
 */
export async function createKmsEventRoute(
  clients: Pick<WorldClients, 'events' | 'sqs'>,
  names: { busName: string; ruleName: string; queueName: string },
): Promise<KmsEventRoute> {
  const queue = await createQueue(clients.sqs, names.queueName);
  await clients.events.send(new CreateEventBusCommand({ Name: names.busName }));
  await clients.events.send(
    new PutRuleCommand({
      Name: names.ruleName,
      EventBusName: names.busName,
      EventPattern: JSON.stringify(KMS_POLICY_CHANGE_EVENT_PATTERN),
      State: 'ENABLED',
    }),
  );
  await clients.events.send(
    new PutTargetsCommand({
      Rule: names.ruleName,
      EventBusName: names.busName,
      Targets: [{ Id: 'drift-queue', Arn: queue.arn, InputTransformer: MOTO_WHOLE_EVENT_TRANSFORMER }],
    }),
  );
  return { busName: names.busName, ruleName: names.ruleName, queue };
}

/** What CloudTrail does for us in AWS: puts each record on the bus as an `aws.kms` API-call event. */
export async function putCloudTrailRecords(
  events: EventBridgeClient,
  busName: string,
  records: Record<string, unknown>[],
): Promise<void> {
  const output = await events.send(
    new PutEventsCommand({
      Entries: records.map((record) => ({
        EventBusName: busName,
        Source: 'aws.kms',
        DetailType: CLOUDTRAIL_DETAIL_TYPE,
        Detail: JSON.stringify(record),
      })),
    }),
  );
  if ((output.FailedEntryCount ?? 0) > 0) {
    const errors = (output.Entries ?? []).flatMap((entry) =>
      entry.ErrorCode ? [`${entry.ErrorCode}: ${entry.ErrorMessage ?? ''}`] : [],
    );
    throw new WorldSetupError(`PutEvents refused ${output.FailedEntryCount} entries: ${errors.join('; ')}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Queues and findings

export interface DrainOptions {
  /** Long-poll seconds per receive; moto delivers synchronously, so 0 (the default) suffices. */
  waitTimeSeconds?: number;
  /** Keep the messages on the queue (default: delete what was read). */
  keep?: boolean;
}

/** Every message currently on the queue (read until a receive comes back empty), deleted once read. */
export async function drainQueue(
  sqs: SQSClient,
  queueUrl: string,
  options: DrainOptions = {},
): Promise<Message[]> {
  const messages: Message[] = [];
  for (;;) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: options.waitTimeSeconds ?? 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (!Messages || Messages.length === 0) return messages;
    messages.push(...Messages);
    if (!options.keep) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Messages.flatMap((message, index) =>
            message.ReceiptHandle ? [{ Id: String(index), ReceiptHandle: message.ReceiptHandle }] : [],
          ),
        }),
      );
    }
  }
}

/** The EventBridge events delivered to a rule's queue, as a Lambda target would receive them. */
export async function receiveDeliveredEvents(sqs: SQSClient, queueUrl: string): Promise<unknown[]> {
  const messages = await drainQueue(sqs, queueUrl);
  return messages.map((message) => {
    try {
      return JSON.parse(message.Body ?? '') as unknown;
    } catch (error) {
      throw new UnexpectedMessageError(`queue message ${message.MessageId} is not JSON`, { cause: error });
    }
  });
}

export interface FindingsTopic {
  topicArn: string;
  /** Subscribed without raw message delivery: each message is the SNS notification envelope. */
  queue: QueueRef;
  subscriptionArn: string;
}

/** The findings topic with an SQS subscriber (standard SNS envelope, so Subject and attributes come along). */
export async function createFindingsTopic(
  clients: Pick<WorldClients, 'sns' | 'sqs'>,
  names: { topicName: string; queueName: string },
): Promise<FindingsTopic> {
  const queue = await createQueue(clients.sqs, names.queueName);
  const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: names.topicName }));
  if (!TopicArn) throw new WorldSetupError(`CreateTopic ${names.topicName} returned no ARN`);
  const { SubscriptionArn } = await clients.sns.send(
    new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: queue.arn, ReturnSubscriptionArn: true }),
  );
  if (!SubscriptionArn) throw new WorldSetupError('Subscribe returned no subscription ARN');
  return { topicArn: TopicArn, queue, subscriptionArn: SubscriptionArn };
}

const notificationSchema = z.object({
  Type: z.literal('Notification'),
  MessageId: z.string(),
  TopicArn: z.string(),
  Subject: z.string().optional(),
  Message: z.string(),
  MessageAttributes: z.record(z.string(), z.object({ Type: z.string(), Value: z.string() })).optional(),
});

/** The fields every finding has; the rest is kept as sent. */
const findingMessageSchema = z.looseObject({
  id: z.string(),
  kind: z.string(),
  severity: z.string(),
  title: z.string(),
  keyArn: z.string(),
  keyId: z.string(),
  mode: z.string(),
  action: z.string(),
  details: z.array(z.string()),
});

export interface FindingNotification {
  /** The finding JSON SNS delivered to the SQS subscriber (the `default` entry of the JSON message). */
  finding: FindingMessage;
  subject: string | undefined;
  /** SNS message attributes by name (severity, keyId, action, kind). */
  attributes: Record<string, string>;
  topicArn: string;
  snsMessageId: string;
}

/** One SQS message body from the findings queue -> the finding and its SNS envelope. */
export function parseFindingNotification(body: string): FindingNotification {
  let envelope: z.infer<typeof notificationSchema>;
  let finding: unknown;
  try {
    envelope = notificationSchema.parse(JSON.parse(body));
    finding = findingMessageSchema.parse(JSON.parse(envelope.Message));
  } catch (error) {
    throw new UnexpectedMessageError(`not an SNS notification of a finding: ${body.slice(0, 200)}`, {
      cause: error,
    });
  }
  return {
    // Checked above for the fields every finding has; the publisher built the rest from a Finding.
    finding: finding as FindingMessage,
    subject: envelope.Subject,
    attributes: Object.fromEntries(
      Object.entries(envelope.MessageAttributes ?? {}).map(([name, value]) => [name, value.Value]),
    ),
    topicArn: envelope.TopicArn,
    snsMessageId: envelope.MessageId,
  };
}

/** Every finding currently on the subscriber queue, oldest first as SQS returned them. */
export async function receiveFindings(sqs: SQSClient, queueUrl: string): Promise<FindingNotification[]> {
  const messages = await drainQueue(sqs, queueUrl);
  return messages.map((message) => parseFindingNotification(message.Body ?? ''));
}

/** The EventBridge event a target receives for a CloudTrail record, for feeding a handler directly. */
export function eventBridgeEnvelope(record: Record<string, unknown>): Record<string, unknown> {
  const region = typeof record.awsRegion === 'string' ? record.awsRegion : WORLD_REGION;
  const account = typeof record.recipientAccountId === 'string' ? record.recipientAccountId : MOTO_ACCOUNT_ID;
  const time = typeof record.eventTime === 'string' ? record.eventTime : new Date().toISOString();
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': CLOUDTRAIL_DETAIL_TYPE,
    source: 'aws.kms',
    account,
    time,
    region,
    resources: [],
    detail: record,
  };
}

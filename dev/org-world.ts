/**
 * An organization on a local moto server, for the integration tests, `npm start` and `npm run bench -- org`:
 * member accounts reached with AssumeRole (moto answers in the role's account: keys created with those
 * credentials live there), their spoke role, their forward rule (default bus -> the hub bus, a cross-account
 * bus target, as deploy/spoke.yml makes it), and the audit-work queue driven the way Lambda's SQS event source
 * drives the audit worker: receive, invoke with an SQS event, delete what did not fail.
 *
 * moto facts this relies on (moto 5): AssumeRole on `arn:aws:iam::<account>:role/...` returns credentials
 * that act in that account; an EventBridge target that is a bus in another account delivers across accounts
 * (the forwarded envelope loses `account`, the CloudTrail `detail` arrives intact).
 */
import { randomInt } from 'node:crypto';
import { type EventBridgeClient, PutRuleCommand, PutTargetsCommand } from '@aws-sdk/client-eventbridge';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetKeyPolicyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { SPOKE_FORWARD_RULE_NAME, spokeForwarderRoleArn } from '../src/core/spoke-names';
import { KMS_POLICY_CHANGE_EVENT_PATTERN } from '../src/guard/event-pattern';
import {
  createWorldClients,
  PUBLIC_DECRYPT_STATEMENT,
  type PutKeyPolicyRecordInput,
  policyWithStatement,
  putCloudTrailRecords,
  putKeyPolicyRecord,
  type WorldClientConfig,
  type WorldClients,
  WorldSetupError,
} from './world';

/** A fresh 12-digit account ID (never 123456789012, moto's default, which other users of the server share). */
export function randomAccountId(): string {
  return `${randomInt(2, 10)}${String(randomInt(0, 1e11)).padStart(11, '0')}`;
}

/** Client settings that act in `accountId` (AssumeRole on a role there, as an administrator would). */
export async function actAs(
  base: WorldClientConfig,
  accountId: string,
  region: string = base.region,
): Promise<WorldClientConfig & { credentials: { sessionToken: string } }> {
  const sts = new STSClient(base);
  try {
    const { Credentials } = await sts.send(
      new AssumeRoleCommand({
        RoleArn: `arn:aws:iam::${accountId}:role/org-admin`,
        RoleSessionName: 'org-admin',
      }),
    );
    if (!Credentials?.AccessKeyId || !Credentials.SecretAccessKey || !Credentials.SessionToken)
      throw new WorldSetupError(`AssumeRole into ${accountId} returned no credentials`);
    return {
      endpoint: base.endpoint,
      region,
      credentials: {
        accessKeyId: Credentials.AccessKeyId,
        secretAccessKey: Credentials.SecretAccessKey,
        sessionToken: Credentials.SessionToken,
      },
    };
  } finally {
    sts.destroy();
  }
}

/**
 * The spoke's forward rule in one account and Region, as deploy/spoke.yml makes it: every KMS policy change on the
 * default bus to the hub bus (as `roleArn`, the spoke's forwarder role, when given).
 */
export async function forwardKmsEventsToHub(
  events: EventBridgeClient,
  busArn: string,
  roleArn?: string,
): Promise<void> {
  await events.send(
    new PutRuleCommand({
      Name: SPOKE_FORWARD_RULE_NAME,
      EventPattern: JSON.stringify(KMS_POLICY_CHANGE_EVENT_PATTERN),
      State: 'ENABLED',
    }),
  );
  await events.send(
    new PutTargetsCommand({
      Rule: SPOKE_FORWARD_RULE_NAME,
      Targets: [{ Id: 'kms-policy-guard-hub-bus', Arn: busArn, ...(roleArn ? { RoleArn: roleArn } : {}) }],
    }),
  );
}

/**
 * What an attacker does to a key in a member account: a public kms:Decrypt added to its live policy, and what
 * CloudTrail does then, the PutKeyPolicy record on the account's own default bus in the key's Region (its spoke
 * rule forwards it to the hub). Returns the widened document.
 */
export async function widenMemberKey(
  clients: WorldClients,
  keyArn: string,
  record: Omit<PutKeyPolicyRecordInput, 'keyArn' | 'policy'>,
): Promise<string> {
  const { Policy = '' } = await clients.kms.send(
    new GetKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default' }),
  );
  const policy = policyWithStatement(Policy, PUBLIC_DECRYPT_STATEMENT);
  await clients.kms.send(new PutKeyPolicyCommand({ KeyId: keyArn, PolicyName: 'default', Policy: policy }));
  await putCloudTrailRecords(clients.events, 'default', [putKeyPolicyRecord({ ...record, keyArn, policy })]);
  return policy;
}

export interface MemberAccount {
  accountId: string;
  /** Clients acting in the account, per Region. */
  clients: Map<string, WorldClients>;
}

/**
 * A member account: its spoke role (the hub guard role is its only trusted principal in AWS; moto does not
 * evaluate trust) and, in every Region, clients acting in it and the forward rule to the hub bus.
 */
export async function createMemberAccount(
  base: WorldClientConfig,
  accountId: string,
  regions: readonly string[],
  hub: { busArn: string; guardRoleArn: string; spokeRoleName: string },
): Promise<MemberAccount> {
  const clients = new Map<string, WorldClients>();
  const first = await actAs(base, accountId, regions[0]);
  const iam = new IAMClient(first);
  try {
    await iam.send(
      new CreateRoleCommand({
        RoleName: hub.spokeRoleName,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: hub.guardRoleArn }, Action: 'sts:AssumeRole' }],
        }),
      }),
    );
  } finally {
    iam.destroy();
  }
  for (const region of regions) {
    const world = createWorldClients(await actAs(base, accountId, region));
    clients.set(region, world);
    await forwardKmsEventsToHub(world.events, hub.busArn, spokeForwarderRoleArn('aws', accountId, region));
  }
  return { accountId, clients };
}

export function memberClients(member: MemberAccount, region: string): WorldClients {
  const clients = member.clients.get(region);
  if (!clients) throw new WorldSetupError(`no clients for ${member.accountId} in ${region}`);
  return clients;
}

/** The audit-work queue and its dead-letter queue (deploy: serverless.yml AuditWorkQueue). */
export async function createAuditWorkQueue(
  sqs: SQSClient,
  name: string,
  options: { visibilitySeconds: number; maxReceives: number },
): Promise<{ url: string; dlqUrl: string }> {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  if (!dlq.QueueUrl) throw new WorldSetupError('CreateQueue returned no URL');
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(options.visibilitySeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: Attributes?.QueueArn,
          maxReceiveCount: options.maxReceives,
        }),
      },
    }),
  );
  if (!queue.QueueUrl) throw new WorldSetupError('CreateQueue returned no URL');
  return { url: queue.QueueUrl, dlqUrl: dlq.QueueUrl };
}

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export interface DriveOptions {
  /** Stop once a receive comes back empty and this says the work is done. */
  done: () => Promise<boolean>;
  /** Give up after this long (a test's safety net). */
  timeoutMs: number;
  context: Context;
  /** Messages handed to the handler at once (the event source's batch size). */
  batchSize?: number;
  /** Invocations at once (the event source's maximum concurrency). */
  concurrency?: number;
  /** How long a poller waits after an empty receive before it looks again (default 200 ms). */
  idleMs?: number;
}

/**
 * What Lambda's SQS event source does for the audit worker, on the real queue: receive, invoke with an SQS
 * event (ApproximateReceiveCount included), delete the messages the handler did not report as failures, and
 * make the failures visible again at once (their visibility timeout would, later).
 */
export async function driveQueue(
  sqs: SQSClient,
  queueUrl: string,
  handler: SqsHandler,
  options: DriveOptions,
): Promise<{ invocations: number; failures: number }> {
  const started = Date.now();
  let invocations = 0;
  let failures = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      if (Date.now() - started > options.timeoutMs) throw new WorldSetupError('driveQueue timed out');
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: options.batchSize ?? 1,
          MessageSystemAttributeNames: ['ApproximateReceiveCount'],
          WaitTimeSeconds: 0,
        }),
      );
      if (Messages.length === 0) {
        if (await options.done()) return;
        await new Promise((resolve) => setTimeout(resolve, options.idleMs ?? 200));
        continue;
      }
      const records: SQSRecord[] = Messages.map((message) => ({
        messageId: message.MessageId ?? '',
        receiptHandle: message.ReceiptHandle ?? '',
        body: message.Body ?? '',
        attributes: {
          ApproximateReceiveCount: message.Attributes?.ApproximateReceiveCount ?? '1',
          SentTimestamp: '0',
          SenderId: 'moto',
          ApproximateFirstReceiveTimestamp: '0',
        },
        messageAttributes: {},
        md5OfBody: message.MD5OfBody ?? '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:moto',
        awsRegion: 'us-east-1',
      }));
      invocations += 1;
      let failed: Set<string>;
      try {
        const response = await handler({ Records: records }, options.context);
        failed = new Set(response.batchItemFailures.map((item) => item.itemIdentifier));
      } catch {
        // A thrown invocation fails the whole batch, as with Lambda.
        failed = new Set(records.map((record) => record.messageId));
      }
      failures += failed.size;
      for (const message of Messages) {
        if (!message.ReceiptHandle) continue;
        if (failed.has(message.MessageId ?? '')) {
          await sqs.send(
            new ChangeMessageVisibilityCommand({
              QueueUrl: queueUrl,
              ReceiptHandle: message.ReceiptHandle,
              VisibilityTimeout: 0,
            }),
          );
        } else {
          await sqs.send(
            new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: message.ReceiptHandle }),
          );
        }
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 1 }, () => worker()));
  return { invocations, failures };
}

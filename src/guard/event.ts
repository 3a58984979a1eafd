/**
 * EventBridge events for KMS CloudTrail records (detail-type "AWS API Call via CloudTrail", source
 * aws.kms) -> the key to check and who changed it. Shapes follow the CloudTrail examples of the KMS
 * Developer Guide (PutKeyPolicy, CreateKey, ReplicateKey). Never throws: anything unexpected becomes
 * a classified rejection that the handler logs once.
 *
 * Where the key ARN is:
 *   PutKeyPolicy  resources[].ARN (type AWS::KMS::Key), else requestParameters.keyId (ID or ARN)
 *   CreateKey     responseElements.keyMetadata.arn, else resources[].ARN
 *   ReplicateKey  responseElements.replicaKeyMetadata.arn: the NEW replica, in requestParameters.replicaRegion.
 *                 The record itself is written in the primary key's Region (awsRegion), and resources[]
 *                 names the primary. The replica's own Region also records a CreateKey for it, which the
 *                 guard deployed there checks; here it is classified `key-in-other-region`.
 */
import * as z from 'zod';
import type { Actor } from '../core/finding';
import { isKeyArn, parseKeyArn, partitionOfRegion } from '../core/key-arn';

export const KMS_EVENT_NAMES = ['PutKeyPolicy', 'CreateKey', 'ReplicateKey'] as const;
export type KmsEventName = (typeof KMS_EVENT_NAMES)[number];
export const CLOUDTRAIL_DETAIL_TYPE = 'AWS API Call via CloudTrail';
export const KMS_EVENT_SOURCE = 'aws.kms';

const envelopeSchema = z.object({
  id: z.string(),
  'detail-type': z.string(),
  source: z.string(),
  account: z.string(),
  time: z.string(),
  region: z.string(),
  detail: z.unknown(),
});

const userIdentitySchema = z.object({
  type: z.string().optional(),
  principalId: z.string().optional(),
  arn: z.string().optional(),
  accountId: z.string().optional(),
  invokedBy: z.string().optional(),
  sessionContext: z
    .object({
      sessionIssuer: z.object({ type: z.string().optional(), arn: z.string().optional() }).optional(),
    })
    .optional(),
});

const detailSchema = z.object({
  eventVersion: z.string().optional(),
  userIdentity: userIdentitySchema.optional(),
  eventTime: z.string(),
  eventSource: z.string(),
  eventName: z.string(),
  awsRegion: z.string(),
  sourceIPAddress: z.string().optional(),
  userAgent: z.string().optional(),
  errorCode: z.string().optional(),
  errorMessage: z.string().optional(),
  requestParameters: z.record(z.string(), z.unknown()).nullable().optional(),
  responseElements: z.record(z.string(), z.unknown()).nullable().optional(),
  eventID: z.string().min(1),
  recipientAccountId: z.string().optional(),
  resources: z
    .array(
      z.object({ ARN: z.string().optional(), type: z.string().optional(), accountId: z.string().optional() }),
    )
    .optional(),
});

const keyIdParameterSchema = z.object({ keyId: z.string().min(1) });
const createKeyResponseSchema = z.object({ keyMetadata: z.object({ arn: z.string().min(1) }) });
const replicateKeyRequestSchema = z.object({ replicaRegion: z.string().min(1) });
const replicateKeyResponseSchema = z.object({ replicaKeyMetadata: z.object({ arn: z.string().min(1) }) });

export type RejectionReason =
  | 'malformed-envelope'
  | 'wrong-source'
  | 'wrong-detail-type'
  | 'malformed-detail'
  | 'unsupported-event-name'
  | 'api-call-failed'
  | 'missing-key';

export type KmsEventClassification =
  | {
      outcome: 'check';
      eventName: KmsEventName;
      eventId: string;
      /** Key ARN (a bare key ID in the record is completed with the record's Region and account). */
      keyRef: string;
      actor: Actor;
    }
  | {
      /** A valid event about a key the guard in this Region cannot read (KMS is regional). */
      outcome: 'elsewhere';
      reason: 'key-in-other-region';
      eventName: KmsEventName;
      eventId: string;
      keyArn: string;
      keyRegion: string;
      actor: Actor;
    }
  | {
      outcome: 'rejected';
      reason: RejectionReason;
      message: string;
      eventId?: string;
      eventName?: string;
      source?: string;
      detailType?: string;
      errorCode?: string;
    };

export interface ClassifyOptions {
  /** The Region this guard runs in (AWS_REGION). */
  region: string;
  /** The guard's role ARN; absent: derived per event as `arn:<partition>:iam::<account>:role/kms-policy-guard-<region>`. */
  guardRoleArn?: string;
}

/** The Region a ReplicateKey request puts the replica in, when the request says. */
function replicaRegionOf(requestParameters: unknown): string | undefined {
  const request = replicateKeyRequestSchema.safeParse(requestParameters);
  return request.success ? request.data.replicaRegion : undefined;
}

/**
 * A role ARN (`arn:aws:iam::1:role/path/name`) or an assumed-role session ARN
 * (`arn:aws:sts::1:assumed-role/name/session`, which drops the role's path) -> `partition:account:name`.
 */
export function roleIdentity(arn: string): string | undefined {
  const role = /^arn:([a-z-]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(arn);
  if (role) return `${role[1]}:${role[2]}:${role[3]}`;
  const session = /^arn:([a-z-]+):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
  if (session) return `${session[1]}:${session[2]}:${session[3]}`;
  return undefined;
}

type Detail = z.infer<typeof detailSchema>;

function isGuardActor(detail: Detail, guardRoleArn: string): boolean {
  const guard = roleIdentity(guardRoleArn);
  if (guard === undefined) return false;
  const identity = detail.userIdentity;
  const candidates = [identity?.arn, identity?.sessionContext?.sessionIssuer?.arn];
  return candidates.some((arn) => arn !== undefined && roleIdentity(arn) === guard);
}

function actorOf(detail: Detail, guardRoleArn: string): Actor {
  const identity = detail.userIdentity;
  const actor: Actor = {
    eventTime: detail.eventTime,
    eventID: detail.eventID,
    eventName: detail.eventName,
    isGuard: isGuardActor(detail, guardRoleArn),
  };
  if (identity?.arn !== undefined) actor.arn = identity.arn;
  if (identity?.type !== undefined) actor.type = identity.type;
  if (identity?.accountId !== undefined) actor.accountId = identity.accountId;
  if (identity?.principalId !== undefined) actor.principalId = identity.principalId;
  if (detail.sourceIPAddress !== undefined) actor.sourceIPAddress = detail.sourceIPAddress;
  if (detail.userAgent !== undefined) actor.userAgent = detail.userAgent;
  return actor;
}

function resourceKeyArn(detail: Detail): string | undefined {
  return detail.resources?.find((resource) => resource.ARN !== undefined && isKeyArn(resource.ARN))?.ARN;
}

/** The key the event is about, or undefined when the record does not name one. */
function keyRefOf(eventName: KmsEventName, detail: Detail): string | undefined {
  switch (eventName) {
    case 'PutKeyPolicy': {
      const fromResources = resourceKeyArn(detail);
      if (fromResources) return fromResources;
      const parameters = keyIdParameterSchema.safeParse(detail.requestParameters);
      return parameters.success ? parameters.data.keyId : undefined;
    }
    case 'CreateKey': {
      const response = createKeyResponseSchema.safeParse(detail.responseElements);
      return response.success ? response.data.keyMetadata.arn : resourceKeyArn(detail);
    }
    case 'ReplicateKey': {
      const response = replicateKeyResponseSchema.safeParse(detail.responseElements);
      return response.success ? response.data.replicaKeyMetadata.arn : undefined;
    }
  }
}

function issuesText(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

export function classifyKmsEvent(event: unknown, options: ClassifyOptions): KmsEventClassification {
  const envelope = envelopeSchema.safeParse(event);
  if (!envelope.success) {
    return { outcome: 'rejected', reason: 'malformed-envelope', message: issuesText(envelope.error) };
  }
  const { source, 'detail-type': detailType, id } = envelope.data;
  if (source !== KMS_EVENT_SOURCE) {
    return {
      outcome: 'rejected',
      reason: 'wrong-source',
      message: `source is ${source}`,
      source,
      detailType,
    };
  }
  if (detailType !== CLOUDTRAIL_DETAIL_TYPE) {
    return {
      outcome: 'rejected',
      reason: 'wrong-detail-type',
      message: `detail-type is ${detailType}`,
      source,
      detailType,
    };
  }
  const parsed = detailSchema.safeParse(envelope.data.detail);
  if (!parsed.success) {
    return {
      outcome: 'rejected',
      reason: 'malformed-detail',
      message: issuesText(parsed.error),
      source,
      detailType,
      eventId: id,
    };
  }
  const detail = parsed.data;
  const common = { eventId: detail.eventID, eventName: detail.eventName, source, detailType };
  const eventName = KMS_EVENT_NAMES.find((name) => name === detail.eventName);
  if (eventName === undefined) {
    return {
      outcome: 'rejected',
      reason: 'unsupported-event-name',
      message: `eventName ${detail.eventName} is not one of ${KMS_EVENT_NAMES.join(', ')}`,
      ...common,
    };
  }
  if (detail.errorCode !== undefined) {
    // The call failed, so nothing changed (the EventBridge rule should already filter these out).
    return {
      outcome: 'rejected',
      reason: 'api-call-failed',
      message: `${eventName} failed with ${detail.errorCode}${detail.errorMessage ? `: ${detail.errorMessage}` : ''}`,
      errorCode: detail.errorCode,
      ...common,
    };
  }
  const namedKey = keyRefOf(eventName, detail);
  // A bare key ID (PutKeyPolicy without resources) lives in the Region and account of the record.
  const keyRef =
    namedKey === undefined || namedKey.startsWith('arn:')
      ? namedKey
      : `arn:${partitionOfRegion(detail.awsRegion)}:kms:${detail.awsRegion}:${detail.recipientAccountId ?? envelope.data.account}:key/${namedKey}`;
  if (keyRef === undefined) {
    return {
      outcome: 'rejected',
      reason: 'missing-key',
      message: `${eventName} record names no key (resources, requestParameters, responseElements)`,
      ...common,
    };
  }
  const guardRoleArn =
    options.guardRoleArn ??
    `arn:${partitionOfRegion(options.region)}:iam::${envelope.data.account}:role/kms-policy-guard-${options.region}`;
  const actor = actorOf(detail, guardRoleArn);
  // A replica lives where ReplicateKey put it: the request names that Region when the key ARN does not.
  const keyRegion =
    parseKeyArn(keyRef)?.region ??
    (eventName === 'ReplicateKey' ? replicaRegionOf(detail.requestParameters) : undefined);
  if (keyRegion !== undefined && keyRegion !== options.region) {
    return {
      outcome: 'elsewhere',
      reason: 'key-in-other-region',
      eventName,
      eventId: detail.eventID,
      keyArn: keyRef,
      keyRegion,
      actor,
    };
  }
  return { outcome: 'check', eventName, eventId: detail.eventID, keyRef, actor };
}

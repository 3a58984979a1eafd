/**
 * EventBridge events for KMS CloudTrail records (detail-type "AWS API Call via CloudTrail", source
 * aws.kms) -> the key to check and who changed it. Shapes follow the CloudTrail examples of the KMS
 * Developer Guide. Never throws: anything unexpected becomes a classified rejection that the handler
 * logs once.
 *
 * Where the key ARN is:
 *   CreateKey     responseElements.keyMetadata.arn, else resources[].ARN
 *   *Alias        resources[] (the alias's target key; UpdateAlias: the NEW target), else
 *                 requestParameters.targetKeyId; plus requestParameters.aliasName, so the keys bound by
 *                 that alias (the old target of a moved or deleted alias) are checked too
 *   ReplicateKey  resources[] (the PRIMARY key, in this Region) with requestParameters.replicaRegion: a
 *                 replica in a Region where no guard runs is a finding on the primary. The replica's own
 *                 Region records a CreateKey for it, which the guard there checks.
 *   the others    resources[].ARN (type AWS::KMS::Key), else requestParameters.keyId (ID or ARN)
 * A key ID or ARN that is neither is rejected (`missing-key`), never retried.
 */
import { createHash } from 'node:crypto';
import type { Actor } from '../core/finding';
import {
  ACCOUNT_ID_PATTERN,
  isKeyArn,
  KEY_ID_PATTERN,
  parseKeyArn,
  partitionOfRegion,
} from '../core/key-arn';
import type * as z from '../core/zod';
import { KMS_EVENT_NAMES, type KmsEventName } from './event-names';
import {
  aliasParameterSchema,
  createKeyResponseSchema,
  type Detail,
  detailSchema,
  envelopeSchema,
  keyIdParameterSchema,
  MAX_EVENT_ID_LENGTH,
  policyParameterSchema,
  replicateKeyRequestSchema,
} from './event-schema';

export { KMS_EVENT_NAMES, type KmsEventName };

export const CLOUDTRAIL_DETAIL_TYPE = 'AWS API Call via CloudTrail';
export const KMS_EVENT_SOURCE = 'aws.kms';

export { MAX_EVENT_ID_LENGTH };

export type RejectionReason =
  | 'malformed-envelope'
  | 'wrong-source'
  | 'wrong-detail-type'
  | 'malformed-detail'
  | 'unsupported-event-name'
  | 'api-call-failed'
  | 'missing-key'
  | 'location-mismatch';

export type KmsEventClassification =
  | {
      outcome: 'check';
      eventName: KmsEventName;
      eventId: string;
      /** The key ARN (a bare key ID in the record is completed with the record's Region and account); absent only for an alias call whose record names no key. */
      keyRef?: string;
      /** The alias an alias call created, moved or deleted: keys bound by it are touched too. */
      aliasName?: string;
      /** ReplicateKey: the Region of the new replica. */
      replicaRegion?: string;
      /** The account whose CloudTrail recorded the call (`recipientAccountId`). */
      recipientAccountId: string;
      /** The Region the record was written in (`awsRegion`). */
      recordRegion: string;
      /** PutKeyPolicy: SHA-256 of requestParameters.policy, the exact document the call wrote. */
      writtenPolicySha256?: string;
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
      /** The account the record names (`recipientAccountId`, else the key ARN's). */
      accountId: string;
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
  /** The Regions whose keys this guard checks (the hub: every guarded Region); default: `region` only. */
  regions?: readonly string[];
  /** The guard's role ARN; absent: derived per event as `arn:<partition>:iam::<account>:role/kms-policy-guard-<region>`. */
  guardRoleArn?: string;
  /** The hub: the principal the guard acts as in the record's account (its spoke role there), else `guardRoleArn`. */
  guardPrincipalFor?: (accountId: string) => string | undefined;
  /**
   * The hub (docs/architecture.md#the-hub-and-its-spokes): the account and Region come from the record only
   * (`recipientAccountId`, `awsRegion`), never from the envelope, and a key ARN that names another account or
   * Region is a forged record (`location-mismatch`).
   */
  recordLocationOnly?: boolean;
}

/** The document a PutKeyPolicy call wrote, as CloudTrail recorded it. */
function writtenPolicyOf(requestParameters: unknown): string | undefined {
  const request = policyParameterSchema.safeParse(requestParameters);
  return request.success ? request.data.policy : undefined;
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

const ALIAS_EVENTS: ReadonlySet<KmsEventName> = new Set(['CreateAlias', 'UpdateAlias', 'DeleteAlias']);

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
  if (identity?.invokedBy !== undefined) actor.invokedBy = identity.invokedBy;
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
    case 'CreateKey': {
      const response = createKeyResponseSchema.safeParse(detail.responseElements);
      return response.success ? response.data.keyMetadata.arn : resourceKeyArn(detail);
    }
    case 'CreateAlias':
    case 'UpdateAlias':
    case 'DeleteAlias': {
      // resources[] names the target key (UpdateAlias: the new target); the old one is found by its binding.
      const fromResources = resourceKeyArn(detail);
      if (fromResources) return fromResources;
      const parameters = aliasParameterSchema.safeParse(detail.requestParameters);
      return parameters.success ? parameters.data.targetKeyId : undefined;
    }
    default: {
      // PutKeyPolicy, ReplicateKey (the primary), tags, grants and state calls name the key in resources[]
      // or as requestParameters.keyId.
      const fromResources = resourceKeyArn(detail);
      if (fromResources) return fromResources;
      const parameters = keyIdParameterSchema.safeParse(detail.requestParameters);
      return parameters.success ? parameters.data.keyId : undefined;
    }
  }
}

function issuesText(error: z.core.$ZodError): string {
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
  const alias = ALIAS_EVENTS.has(eventName)
    ? aliasParameterSchema.safeParse(detail.requestParameters)
    : undefined;
  const aliasName = alias?.success ? alias.data.aliasName : undefined;
  const recipientAccountId =
    detail.recipientAccountId ?? (options.recordLocationOnly ? undefined : envelope.data.account);
  if (recipientAccountId === undefined || !ACCOUNT_ID_PATTERN.test(recipientAccountId)) {
    return {
      outcome: 'rejected',
      reason: 'malformed-detail',
      message: `the record names no account (recipientAccountId ${JSON.stringify(recipientAccountId ?? null)})`,
      ...common,
    };
  }
  // A bare key ID (PutKeyPolicy without resources) lives in the Region and account of the record.
  const keyRef =
    namedKey === undefined || namedKey.startsWith('arn:')
      ? namedKey
      : `arn:${partitionOfRegion(detail.awsRegion)}:kms:${detail.awsRegion}:${recipientAccountId}:key/${namedKey}`;
  if (
    keyRef !== undefined &&
    (!isKeyArn(keyRef) || (!namedKey?.startsWith('arn:') && !KEY_ID_PATTERN.test(namedKey ?? '')))
  ) {
    return {
      outcome: 'rejected',
      reason: 'missing-key',
      message: `${eventName} record names ${JSON.stringify(namedKey?.slice(0, 200))}, which is neither a key ID nor a key ARN`,
      ...common,
    };
  }
  if (keyRef === undefined && aliasName === undefined) {
    return {
      outcome: 'rejected',
      reason: 'missing-key',
      message: `${eventName} record names no key (resources, requestParameters, responseElements)`,
      ...common,
    };
  }
  const named = keyRef === undefined ? undefined : parseKeyArn(keyRef);
  if (
    options.recordLocationOnly &&
    named !== undefined &&
    (named.accountId !== recipientAccountId || named.region !== detail.awsRegion)
  ) {
    // CloudTrail writes a key's record in the key's own account and Region: anything else was forged.
    return {
      outcome: 'rejected',
      reason: 'location-mismatch',
      message: `the record was written in ${recipientAccountId}/${detail.awsRegion.slice(0, 64)} but names the key ${named.arn}`,
      ...common,
    };
  }
  const guardRoleArn =
    options.guardPrincipalFor?.(recipientAccountId) ??
    options.guardRoleArn ??
    `arn:${partitionOfRegion(options.region)}:iam::${recipientAccountId}:role/kms-policy-guard-${options.region}`;
  const actor = actorOf(detail, guardRoleArn);
  const keyRegion = named?.region ?? (options.recordLocationOnly ? detail.awsRegion : undefined);
  const regions = options.regions ?? [options.region];
  if (keyRegion !== undefined && !regions.includes(keyRegion)) {
    return {
      outcome: 'elsewhere',
      reason: 'key-in-other-region',
      eventName,
      eventId: detail.eventID,
      keyArn: keyRef ?? `arn:${partitionOfRegion(keyRegion)}:kms:${keyRegion}:${recipientAccountId}:key/*`,
      keyRegion,
      accountId: named?.accountId ?? recipientAccountId,
      actor,
    };
  }
  const classified: KmsEventClassification = {
    outcome: 'check',
    eventName,
    eventId: detail.eventID,
    actor,
    recipientAccountId,
    recordRegion: detail.awsRegion,
  };
  if (keyRef !== undefined) classified.keyRef = keyRef;
  if (aliasName !== undefined) classified.aliasName = aliasName;
  const written = eventName === 'PutKeyPolicy' ? writtenPolicyOf(detail.requestParameters) : undefined;
  if (written !== undefined)
    classified.writtenPolicySha256 = createHash('sha256').update(written, 'utf8').digest('hex');
  const replicaRegion = eventName === 'ReplicateKey' ? replicaRegionOf(detail.requestParameters) : undefined;
  if (replicaRegion !== undefined) classified.replicaRegion = replicaRegion;
  return classified;
}

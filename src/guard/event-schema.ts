/**
 * The shapes of the EventBridge envelope and the CloudTrail record the drift guard reads (zod), shaped after
 * the CloudTrail examples of the KMS Developer Guide. ./event.ts classifies with them.
 */
import * as z from 'zod';

/** Longest event ID accepted (a UUID is 36 characters). */
export const MAX_EVENT_ID_LENGTH = 128;

export const envelopeSchema = z.object({
  // EventBridge event IDs and CloudTrail event IDs are UUIDs: anything far longer is forged, and would
  // make the idempotency record and every finding ID as large as the attacker likes.
  id: z.string().max(MAX_EVENT_ID_LENGTH),
  'detail-type': z.string(),
  source: z.string(),
  // Never trusted for the account a key lives in (a forwarder rewrites it, moto drops it on a cross-account
  // delivery): only a fallback for a record without recipientAccountId outside the hub.
  account: z.string().optional(),
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

export const detailSchema = z.object({
  eventVersion: z.string().optional(),
  userIdentity: userIdentitySchema.optional(),
  eventTime: z.string(),
  eventSource: z.string().max(MAX_EVENT_ID_LENGTH),
  eventName: z.string().max(MAX_EVENT_ID_LENGTH),
  awsRegion: z.string().max(MAX_EVENT_ID_LENGTH),
  sourceIPAddress: z.string().optional(),
  userAgent: z.string().optional(),
  errorCode: z.string().max(MAX_EVENT_ID_LENGTH).optional(),
  errorMessage: z.string().optional(),
  requestParameters: z.record(z.string(), z.unknown()).nullable().optional(),
  responseElements: z.record(z.string(), z.unknown()).nullable().optional(),
  eventID: z.string().min(1).max(MAX_EVENT_ID_LENGTH),
  recipientAccountId: z.string().optional(),
  resources: z
    .array(
      z.object({ ARN: z.string().optional(), type: z.string().optional(), accountId: z.string().optional() }),
    )
    .optional(),
});

export const keyIdParameterSchema = z.object({ keyId: z.string().min(1).max(2048) });
export const aliasParameterSchema = z.object({
  aliasName: z.string().min(1).max(256),
  targetKeyId: z.string().min(1).max(2048).optional(),
});
export const createKeyResponseSchema = z.object({ keyMetadata: z.object({ arn: z.string().min(1) }) });
export const replicateKeyRequestSchema = z.object({ replicaRegion: z.string().min(1).max(64) });

export const policyParameterSchema = z.object({ policy: z.string() });

export type Detail = z.infer<typeof detailSchema>;

/**
 * The shapes of the EventBridge envelope and the CloudTrail record the drift guard reads (zod), shaped after
 * the CloudTrail examples of the KMS Developer Guide. ./event.ts classifies with them.
 */
import * as z from '../core/zod';

/** Longest event ID accepted (a UUID is 36 characters). */
export const MAX_EVENT_ID_LENGTH = 128;

export const envelopeSchema = z.object({
  // EventBridge event IDs and CloudTrail event IDs are UUIDs: anything far longer is forged, and would
  // make the idempotency record and every finding ID as large as the attacker likes.
  id: z.string().check(z.maxLength(MAX_EVENT_ID_LENGTH)),
  'detail-type': z.string(),
  source: z.string(),
  // Never trusted for the account a key lives in (a forwarder rewrites it, moto drops it on a cross-account
  // delivery): only a fallback for a record without recipientAccountId outside the hub.
  account: z.optional(z.string()),
  time: z.string(),
  region: z.string(),
  detail: z.unknown(),
});

const optionalText = () => z.optional(z.string());
/** A string of at most MAX_EVENT_ID_LENGTH characters. */
const bounded = () => z.string().check(z.maxLength(MAX_EVENT_ID_LENGTH));
/** A string of `min` to `max` characters. */
const text = (min: number, max: number) => z.string().check(z.minLength(min), z.maxLength(max));

const userIdentitySchema = z.object({
  type: optionalText(),
  principalId: optionalText(),
  arn: optionalText(),
  accountId: optionalText(),
  invokedBy: optionalText(),
  sessionContext: z.optional(
    z.object({
      sessionIssuer: z.optional(z.object({ type: optionalText(), arn: optionalText() })),
    }),
  ),
});

export const detailSchema = z.object({
  eventVersion: optionalText(),
  userIdentity: z.optional(userIdentitySchema),
  eventTime: z.string(),
  eventSource: bounded(),
  eventName: bounded(),
  awsRegion: bounded(),
  sourceIPAddress: optionalText(),
  userAgent: optionalText(),
  errorCode: z.optional(bounded()),
  errorMessage: optionalText(),
  requestParameters: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
  responseElements: z.optional(z.nullable(z.record(z.string(), z.unknown()))),
  eventID: text(1, MAX_EVENT_ID_LENGTH),
  recipientAccountId: optionalText(),
  resources: z.optional(
    z.array(z.object({ ARN: optionalText(), type: optionalText(), accountId: optionalText() })),
  ),
});

export const keyIdParameterSchema = z.object({ keyId: text(1, 2048) });
export const aliasParameterSchema = z.object({
  aliasName: text(1, 256),
  targetKeyId: z.optional(text(1, 2048)),
});
export const createKeyResponseSchema = z.object({
  keyMetadata: z.object({ arn: z.string().check(z.minLength(1)) }),
});
export const replicateKeyRequestSchema = z.object({ replicaRegion: text(1, 64) });

export const policyParameterSchema = z.object({ policy: z.string() });

export type Detail = z.infer<typeof detailSchema>;

/**
 * Typed errors of the guard. Adapters (src/aws) translate SDK exceptions into these, so the use
 * cases decide on meaning (locked out, key gone, try again later) without importing the SDK.
 */

/** The KMS operation an error came from; findings and logs name it. */
export type KmsOperation =
  | 'GetKeyPolicy'
  | 'PutKeyPolicy'
  | 'DescribeKey'
  | 'ListKeys'
  | 'ListAliases'
  | 'ListResourceTags'
  | 'ListGrants'
  | 'RevokeGrant'
  | 'CancelKeyDeletion'
  | 'EnableKey'
  | 'DisableKey'
  | 'GetKeyRotationStatus'
  | 'EnableKeyRotation'
  | 'DisableKeyRotation';

interface GuardErrorOptions {
  cause?: unknown;
}

/** Base class: every guard error names the AWS error code it came from (when there was one). */
export class GuardError extends Error {
  /** `AccessDeniedException`, `ThrottlingException`, … or undefined for our own errors. */
  readonly awsErrorCode: string | undefined;

  constructor(message: string, awsErrorCode?: string, options?: GuardErrorOptions) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.awsErrorCode = awsErrorCode;
  }
}

/** AccessDeniedException on a KMS call: the guard has been locked out of the key (a critical finding). */
export class KmsAccessDeniedError extends GuardError {
  constructor(
    readonly operation: KmsOperation,
    readonly keyId: string,
    message: string,
    options?: GuardErrorOptions,
  ) {
    super(`${operation} on ${keyId} was denied: ${message}`, 'AccessDeniedException', options);
  }
}

/** Why a key cannot be read or written right now: it does not exist, or its state forbids the call. */
export type KeyUnavailableReason = 'not-found' | 'invalid-state' | 'disabled';

/** NotFoundException / KMSInvalidStateException / DisabledException: reported once, never retried forever. */
export class KeyUnavailableError extends GuardError {
  constructor(
    readonly operation: KmsOperation,
    readonly keyId: string,
    readonly reason: KeyUnavailableReason,
    message: string,
    awsErrorCode: string,
    options?: GuardErrorOptions,
  ) {
    super(`${operation} on ${keyId} failed (${reason}): ${message}`, awsErrorCode, options);
  }
}

/** MalformedPolicyDocumentException on PutKeyPolicy: KMS refused the desired document (e.g. a principal no longer exists). */
export class PolicyRejectedError extends GuardError {
  constructor(
    readonly keyId: string,
    message: string,
    awsErrorCode: string,
    options?: GuardErrorOptions,
  ) {
    super(`KMS rejected the key policy for ${keyId}: ${message}`, awsErrorCode, options);
  }
}

/**
 * Throttling, a 5xx, a timeout or a network failure that outlived the SDK's own retries.
 * Thrown out of the handler so Lambda retries the event and the DLQ keeps it if that fails too.
 */
export class RetryableAwsError extends GuardError {
  readonly retryable = true;

  constructor(
    readonly operation: string,
    message: string,
    awsErrorCode: string | undefined,
    options?: GuardErrorOptions,
  ) {
    super(`${operation} failed after retries: ${message}`, awsErrorCode, options);
  }
}

/** Any other AWS error (validation, unexpected exception): a bug or a misconfiguration, thrown. */
export class AwsCallError extends GuardError {
  constructor(
    readonly operation: string,
    message: string,
    awsErrorCode: string | undefined,
    options?: GuardErrorOptions,
  ) {
    super(`${operation} failed: ${message}`, awsErrorCode, options);
  }
}

/** SNS Publish failed: the invocation must fail so the event is retried and the finding is not lost. */
export class PublishFailedError extends GuardError {
  constructor(
    readonly findingId: string,
    message: string,
    awsErrorCode: string | undefined,
    options?: GuardErrorOptions,
  ) {
    super(`Publishing finding ${findingId} failed: ${message}`, awsErrorCode, options);
  }
}

/** `error` as the failure to publish `findingId`: itself when it already is one, else wrapped with it as the cause. */
export function publishFailure(findingId: string, error: unknown): PublishFailedError {
  if (error instanceof PublishFailedError) return error;
  return new PublishFailedError(
    findingId,
    error instanceof Error ? error.message : String(error),
    undefined,
    {
      cause: error,
    },
  );
}

/** A key reference (ID, ARN, alias) the guard cannot turn into a key ARN. */
export class KeyReferenceError extends GuardError {
  constructor(
    readonly keyRef: string,
    message: string,
    options?: GuardErrorOptions,
  ) {
    super(`Cannot resolve key reference ${keyRef}: ${message}`, undefined, options);
  }
}

/** Handler configuration (environment) is missing or malformed: fails Lambda init loudly. */
export class GuardConfigError extends GuardError {
  constructor(message: string, options?: GuardErrorOptions) {
    super(message, undefined, options);
  }
}

/**
 * A call of the state table (ledger, bindings, intents, outbox) failed after the SDK's own retries.
 * `retryable` (throttling, 5xx, network): fail the invocation so the event is retried.
 */
export class StateStoreError extends GuardError {
  constructor(
    readonly operation: string,
    readonly tableName: string,
    message: string,
    awsErrorCode: string | undefined,
    readonly retryable: boolean,
    options?: GuardErrorOptions,
  ) {
    super(`DynamoDB ${operation} on ${tableName} failed: ${message}`, awsErrorCode, options);
  }
}

/** Why the hub cannot act in a member account: the spoke role refused it, or STS is off in the Region. */
export type SpokeAccessReason = 'denied' | 'region-disabled' | 'invalid';

/**
 * AssumeRole on a member account's spoke role failed for good (docs/architecture.md#the-hub-and-its-spokes):
 * the role is missing, does not trust the hub guard role, or refuses the organization or external ID.
 * Never retried: the check ends in a `spoke-unreachable` finding and nothing is read or written there.
 */
export class SpokeAccessError extends GuardError {
  constructor(
    readonly accountId: string,
    readonly roleArn: string,
    readonly reason: SpokeAccessReason,
    message: string,
    awsErrorCode: string | undefined,
    options?: GuardErrorOptions,
  ) {
    super(`AssumeRole ${roleArn} failed (${reason}): ${message}`, awsErrorCode, options);
  }
}

/** An AWS Organizations call failed for good (not throttling): the guard cannot tell which accounts it guards. */
export class OrganizationLookupError extends GuardError {
  constructor(
    readonly operation: string,
    message: string,
    awsErrorCode: string | undefined,
    options?: GuardErrorOptions,
  ) {
    super(`Organizations ${operation} failed: ${message}`, awsErrorCode, options);
  }
}

/**
 * The one classification of AWS SDK errors, for every client: what the SDK put on the exception
 * (sdkErrorShape), whether another attempt later can help (isTransientAwsError), and the guard's
 * typed errors (toKmsError for KMS calls, toAwsError for every other service).
 */
import {
  AwsCallError,
  KeyUnavailableError,
  KmsAccessDeniedError,
  type KmsOperation,
  OrganizationLookupError,
  PolicyRejectedError,
  RetryableAwsError,
  SpokeAccessError,
} from '../guard/errors';

/** What the SDK puts on a service exception (ServiceException / plain Error from the HTTP layer). */
export interface SdkErrorShape {
  name: string;
  message: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  $retryable?: { throttling?: boolean };
}

export function sdkErrorShape(error: unknown): SdkErrorShape {
  if (typeof error !== 'object' || error === null) return { name: 'UnknownError', message: String(error) };
  const record = error as Record<string, unknown>;
  const metadata = record.$metadata;
  const httpStatusCode =
    typeof metadata === 'object' && metadata !== null
      ? (metadata as Record<string, unknown>).httpStatusCode
      : undefined;
  const fault = record.$fault;
  return {
    name: typeof record.name === 'string' ? record.name : 'UnknownError',
    message: typeof record.message === 'string' ? record.message : String(error),
    code: typeof record.code === 'string' ? record.code : undefined,
    $fault: fault === 'client' || fault === 'server' ? fault : undefined,
    $metadata: { httpStatusCode: typeof httpStatusCode === 'number' ? httpStatusCode : undefined },
    $retryable:
      typeof record.$retryable === 'object' && record.$retryable !== null
        ? { throttling: (record.$retryable as Record<string, unknown>).throttling === true }
        : undefined,
  };
}

const THROTTLING_NAMES: ReadonlySet<string> = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'SlowDown',
  // Security Hub's per-finding codes (BatchImportFindings FailedFindings[].ErrorCode).
  'LimitExceeded',
  'TooManyRequests',
]);
const SERVER_ERROR_NAMES: ReadonlySet<string> = new Set([
  'KMSInternalException',
  'DependencyTimeoutException',
  'InternalError',
  'InternalErrorException',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'KMSThrottlingException',
  // Security Hub: its 500, thrown or as a per-finding code.
  'InternalException',
]);
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
]);

/**
 * The service refuses this caller outright: IAM denies the call, or (Security Hub) the account is not
 * subscribed (`InvalidAccessException`, per finding `InvalidAccess`). Another attempt cannot help.
 */
const ACCESS_REFUSED_NAMES: ReadonlySet<string> = new Set([
  'AccessDeniedException',
  'AccessDenied',
  'InvalidAccessException',
  'InvalidAccess',
]);

export function isAccessRefusal(error: unknown): boolean {
  return ACCESS_REFUSED_NAMES.has(sdkErrorShape(error).name);
}

/** Throttling, a 5xx, a timeout or a network failure: worth another attempt later. */
export function isTransientAwsError(error: unknown): boolean {
  const shape = sdkErrorShape(error);
  const status = shape.$metadata?.httpStatusCode;
  return (
    THROTTLING_NAMES.has(shape.name) ||
    SERVER_ERROR_NAMES.has(shape.name) ||
    shape.$fault === 'server' ||
    shape.$retryable !== undefined ||
    (status !== undefined && (status >= 500 || status === 429)) ||
    shape.name === 'TimeoutError' ||
    (shape.code !== undefined && NETWORK_ERROR_CODES.has(shape.code)) ||
    NETWORK_ERROR_CODES.has(shape.name)
  );
}

/** Turns an SDK exception from a KMS call into the guard's typed error (always returns an Error to throw). */
export function toKmsError(error: unknown, operation: KmsOperation, keyId: string): Error {
  const shape = sdkErrorShape(error);
  const options = { cause: error };
  switch (shape.name) {
    case 'AccessDeniedException':
      return new KmsAccessDeniedError(operation, keyId, shape.message, options);
    case 'NotFoundException':
      return new KeyUnavailableError(operation, keyId, 'not-found', shape.message, shape.name, options);
    case 'KMSInvalidStateException':
      return new KeyUnavailableError(operation, keyId, 'invalid-state', shape.message, shape.name, options);
    case 'DisabledException':
      return new KeyUnavailableError(operation, keyId, 'disabled', shape.message, shape.name, options);
    case 'MalformedPolicyDocumentException':
      return new PolicyRejectedError(keyId, shape.message, shape.name, options);
    case 'LimitExceededException':
      // KMS throttles with ThrottlingException; LimitExceededException is a quota, and on PutKeyPolicy
      // the document is larger than KMS accepts: retrying the same write can never succeed.
      if (operation === 'PutKeyPolicy')
        return new PolicyRejectedError(keyId, shape.message, shape.name, options);
      return new RetryableAwsError(operation, shape.message, shape.name, options);
    default:
      if (isTransientAwsError(error))
        return new RetryableAwsError(operation, shape.message, shape.name, options);
      return new AwsCallError(operation, shape.message, shape.name, options);
  }
}

/** Any other service's SDK exception as the guard's typed error: retryable when transient, else a call error. */
export function toAwsError(error: unknown, operation: string): RetryableAwsError | AwsCallError {
  const shape = sdkErrorShape(error);
  return isTransientAwsError(error)
    ? new RetryableAwsError(operation, shape.message, shape.name, { cause: error })
    : new AwsCallError(operation, shape.message, shape.name, { cause: error });
}

/** The AWS error code (exception name) when AWS named one. */
export function awsErrorCodeOf(error: unknown): string | undefined {
  const { name } = sdkErrorShape(error);
  return name !== 'Error' && name !== 'UnknownError' ? name : undefined;
}

/** STS refusals that no retry can change: the role is missing, does not trust us, or STS is off in the Region. */
const STS_REFUSALS: Readonly<Record<string, 'denied' | 'region-disabled' | 'invalid'>> = {
  AccessDenied: 'denied',
  AccessDeniedException: 'denied',
  RegionDisabledException: 'region-disabled',
  ValidationError: 'invalid',
  MalformedPolicyDocument: 'invalid',
  PackedPolicyTooLarge: 'invalid',
};

/**
 * An AssumeRole failure as the guard's typed error: a refusal (the spoke role cannot be assumed) is a
 * SpokeAccessError, throttling and 5xx a RetryableAwsError (the invocation fails and is retried), anything
 * else an AwsCallError.
 */
export function toStsError(
  error: unknown,
  accountId: string,
  roleArn: string,
): SpokeAccessError | RetryableAwsError | AwsCallError {
  const shape = sdkErrorShape(error);
  const refusal = STS_REFUSALS[shape.name];
  if (refusal !== undefined)
    return new SpokeAccessError(accountId, roleArn, refusal, shape.message, shape.name, { cause: error });
  if (isTransientAwsError(error))
    return new RetryableAwsError('AssumeRole', shape.message, shape.name, { cause: error });
  return new AwsCallError('AssumeRole', shape.message, shape.name, { cause: error });
}

/** An Organizations failure: retryable when transient, else the lookup failed for good. */
export function toOrganizationsError(
  error: unknown,
  operation: string,
): RetryableAwsError | OrganizationLookupError {
  const shape = sdkErrorShape(error);
  if (isTransientAwsError(error) || shape.name === 'TooManyRequestsException')
    return new RetryableAwsError(operation, shape.message, shape.name, { cause: error });
  return new OrganizationLookupError(operation, shape.message, shape.name, { cause: error });
}

/**
 * SDK v3 clients for the guard, and the translation of SDK exceptions into the guard's typed errors.
 * Handlers call the factories once at module scope (one client per container) and inject them.
 */
import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import {
  AwsCallError,
  KeyUnavailableError,
  KmsAccessDeniedError,
  type KmsOperation,
  PolicyRejectedError,
  RetryableAwsError,
} from '../guard/errors';

/**
 * The SDK retries throttling, 5xx and network errors itself; `adaptive` also slows the client down
 * when KMS throttles (a burst of CloudTrail events must not turn into a burst of throttled calls).
 * What still fails after 5 attempts surfaces as a RetryableAwsError and fails the invocation.
 */
export const AWS_RETRY_CONFIG = { retryMode: 'adaptive', maxAttempts: 5 } as const;

/**
 * KMS errors the SDK's retry middleware counts as throttling although they are final answers: for
 * PutKeyPolicy, LimitExceededException means the policy is too large, and retrying it with backoff
 * only delays the remediation-failed finding.
 */
const KMS_FINAL_ERRORS: ReadonlySet<string> = new Set(['LimitExceededException']);

type RetryStrategyProvider = KMSClient['config']['retryStrategy'];

/** The client's own (adaptive) strategy, except that a final error ends the attempts at once. */
function withoutRetryOnFinalErrors(provide: RetryStrategyProvider): RetryStrategyProvider {
  return async () => {
    const strategy = await provide();
    if (!('refreshRetryTokenForRetry' in strategy)) return strategy;
    return {
      acquireInitialRetryToken: (scope) => strategy.acquireInitialRetryToken(scope),
      refreshRetryTokenForRetry: (token, errorInfo) => {
        if (KMS_FINAL_ERRORS.has(sdkErrorShape(errorInfo.error).name)) {
          // Refusing a retry token makes the middleware throw the error itself after this attempt.
          return Promise.reject(errorInfo.error);
        }
        return strategy.refreshRetryTokenForRetry(token, errorInfo);
      },
      recordSuccess: (token) => strategy.recordSuccess(token),
    };
  };
}

export function createKmsClient(config: KMSClientConfig = {}): KMSClient {
  const client = new KMSClient({ ...AWS_RETRY_CONFIG, ...config });
  // The retry middleware reads this provider from the client's config on every request.
  client.config.retryStrategy = withoutRetryOnFinalErrors(client.config.retryStrategy);
  return client;
}

export function createSnsClient(config: SNSClientConfig = {}): SNSClient {
  return new SNSClient({ ...AWS_RETRY_CONFIG, ...config });
}

/** What the SDK puts on a service exception (ServiceException / plain Error from the HTTP layer). */
interface SdkErrorShape {
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

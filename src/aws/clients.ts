/**
 * The KMS and SNS clients of the guard, with the retry configuration every client shares (each other
 * adapter creates its own client with AWS_RETRY_CONFIG, so a function bundles only the SDKs it uses;
 * src/aws/errors.ts classifies what still fails).
 * Handlers call the factories once at module scope (one client per container) and inject them.
 */
import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import { sdkErrorShape } from './errors';

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

/** Region, endpoint (a local moto server), profile and credentials, the same for every client. */
export interface AwsClientSettings {
  region?: string;
  endpoint?: string;
  profile?: string;
  credentials?: KMSClientConfig['credentials'];
}

/**
 * The KMS client of the guard, with the retry configuration every client shares (./client-settings.ts) and its
 * own final errors. The composition root creates it once per container and injects it. A module of its own: a
 * function that imports the shared settings does not load KMS (docs/architecture.md#what-loads-when).
 */
import { KMSClient, type KMSClientConfig } from '@aws-sdk/client-kms';
import { AWS_RETRY_CONFIG } from './client-settings';
import { sdkErrorShape } from './errors';

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

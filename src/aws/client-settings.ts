/**
 * What every SDK client of the guard shares: the retry configuration and the settings (Region, endpoint, profile,
 * credentials). No SDK client in here, so importing these loads none: each adapter creates its own client with
 * AWS_RETRY_CONFIG, and a function's bundle holds only the SDKs it uses (docs/architecture.md#what-loads-when).
 * src/aws/errors.ts classifies what still fails.
 */
import type { KMSClientConfig } from '@aws-sdk/client-kms';

/**
 * The SDK retries throttling, 5xx and network errors itself; `adaptive` also slows the client down
 * when KMS throttles (a burst of CloudTrail events must not turn into a burst of throttled calls).
 * What still fails after 5 attempts surfaces as a RetryableAwsError and fails the invocation.
 */
export const AWS_RETRY_CONFIG = { retryMode: 'adaptive', maxAttempts: 5 } as const;

/** Region, endpoint (a local moto server), profile and credentials, the same for every client. */
export interface AwsClientSettings {
  region?: string;
  endpoint?: string;
  profile?: string;
  credentials?: KMSClientConfig['credentials'];
}

/**
 * SDK client configuration for integration tests: the moto endpoint started by global-setup.ts,
 * dummy credentials, us-east-1. Every client built from it talks to loopback only.
 */
export const MOTO_REGION = 'us-east-1';
export const MOTO_ACCOUNT_ID = '123456789012';

export interface MotoClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export function motoEndpoint(): string {
  const endpoint = process.env.MOTO_ENDPOINT;
  if (!endpoint) {
    throw new Error(
      'MOTO_ENDPOINT is not set: run integration tests through Jest (npm run test:integration)',
    );
  }
  return endpoint;
}

/**
 * `region`: a test file that lists every key of an account (audits of unmanaged keys, init) runs in a
 * Region of its own, so the keys other files create on the shared server are not in its listing.
 */
export function motoClientConfig(region: string = MOTO_REGION): MotoClientConfig {
  return {
    endpoint: motoEndpoint(),
    region,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

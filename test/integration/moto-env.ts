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

export function motoClientConfig(): MotoClientConfig {
  return {
    endpoint: motoEndpoint(),
    region: MOTO_REGION,
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
  };
}

/**
 * Jest globalSetup of the integration project: one moto server for the whole run. The environment
 * set here reaches the test workers; the handle stays on globalThis for global-teardown.ts.
 */
import { type MotoServer, startMoto } from '../../dev/moto-server';

declare global {
  var __MOTO_SERVER__: MotoServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const moto = await startMoto();
  globalThis.__MOTO_SERVER__ = moto;
  process.env.MOTO_ENDPOINT = moto.endpoint;
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  process.env.AWS_REGION = 'us-east-1';
  // Never pick up a developer's profile or SSO session by accident.
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
}

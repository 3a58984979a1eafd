/** Jest globalTeardown of the integration project: stops the moto server global-setup.ts started. */
export default async function globalTeardown(): Promise<void> {
  const moto = globalThis.__MOTO_SERVER__;
  globalThis.__MOTO_SERVER__ = undefined;
  await moto?.stop();
}

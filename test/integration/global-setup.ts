// Placeholder replaced by the moto harness (issue 4): the integration project needs these files to exist.
export default async function globalSetup(): Promise<void> {}

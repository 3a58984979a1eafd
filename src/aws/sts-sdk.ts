/**
 * What the guard uses of the STS client, imported on the first AssumeRole (./spoke-access.ts): a module of its own
 * so that the chunk the Lambda bundles make of it holds these only (docs/architecture.md#what-loads-when).
 */
export { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';

/**
 * What the guard uses of the Organizations client, imported on the first call (./organization.ts): a module of its
 * own so that the chunk the Lambda bundles make of it holds these only (docs/architecture.md#what-loads-when).
 */
export { ListAccountsCommand, ListParentsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';

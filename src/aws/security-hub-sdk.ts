/**
 * The three things the guard takes from the SDK's Security Hub client, in a module of their own that
 * src/aws/security-hub.ts loads on first use: the bundler keeps only these (tree-shaken), and a guard with
 * Security Hub off never evaluates them, so its cold start does not pay for their large models.
 */
export {
  BatchImportFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';

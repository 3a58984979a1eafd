/**
 * The IAM actions the guard needs in a guarded account, in one place. deploy/spoke.yml grants the spoke role
 * exactly these (YAML cannot import TypeScript: test/unit/deploy/spoke-template.test.ts proves the set equality),
 * so a KMS call added to the guard fails that test until the spoke template grants it too.
 */

/**
 * Every KMS action the guard calls. `kms:ListKeys` and `kms:ListAliases` support no resource-level permissions
 * (IAM accepts only `Resource: "*"` for them); every other action is granted on the account's keys only.
 */
export const GUARD_KMS_ACTIONS = [
  'kms:ListKeys',
  'kms:ListAliases',
  'kms:DescribeKey',
  'kms:GetKeyPolicy',
  'kms:PutKeyPolicy',
  'kms:ListResourceTags',
  // Grants (src/guard/check/grants.ts) and key state (src/guard/check/key-state.ts).
  'kms:ListGrants',
  'kms:RevokeGrant',
  'kms:CancelKeyDeletion',
  'kms:EnableKey',
  'kms:DisableKey',
  'kms:GetKeyRotationStatus',
  'kms:EnableKeyRotation',
  'kms:DisableKeyRotation',
] as const;

/** The KMS actions IAM only allows on `Resource: "*"`. */
export const GUARD_KMS_UNSCOPED_ACTIONS = ['kms:ListKeys', 'kms:ListAliases'] as const;

/**
 * Read-only calls the hub's audit makes through the spoke role to check that the spoke still feeds the guard
 * (src/app/spoke-feed.ts): the trails that record KMS events, and the spoke's forward rule and its target.
 * Exactly what that probe calls (test/unit/app/spoke-feed.test.ts proves it), nothing more.
 */
export const SPOKE_HEALTH_ACTIONS = [
  'cloudtrail:DescribeTrails',
  'cloudtrail:GetTrailStatus',
  'cloudtrail:GetEventSelectors',
  'events:DescribeRule',
  'events:ListTargetsByRule',
] as const;

/**
 * Granted only with the spoke template's `SecurityHubFindings=true`: exactly what the Security Hub sink
 * (src/aws/security-hub.ts) calls in that account. BatchImportFindings creates, updates and archives the
 * guard's own findings (a finding provider never uses BatchUpdateFindings, which is for people's workflow);
 * GetFindings lists those still open, so a key back in sync archives only what exists.
 */
export const SPOKE_SECURITY_HUB_ACTIONS = [
  'securityhub:BatchImportFindings',
  'securityhub:GetFindings',
] as const;

/**
 * Desired-policy templates the unit tests build, with placeholders as the documents in policies/ have
 * them. No mocks and no jest calls here, so guard, CLI and manifest tests can all import it.
 */

export type PolicyStatement = Record<string, unknown>;

/** The account root may use IAM policies to grant access (KMS's default statement). */
export const ACCOUNT_ROOT_STATEMENT: PolicyStatement = {
  Sid: 'Enable IAM policies',
  Effect: 'Allow',
  Principal: { AWS: 'arn:{{Partition}}:iam::{{AccountId}}:root' },
  Action: 'kms:*',
  Resource: '*',
};

/** A named administrator role with kms:*. */
export const KEY_ADMINISTRATORS_STATEMENT: PolicyStatement = {
  Sid: 'Key administrators',
  Effect: 'Allow',
  Principal: { AWS: 'arn:{{Partition}}:iam::{{AccountId}}:role/KMSAdminRole' },
  Action: 'kms:*',
  Resource: '*',
};

/** The guard's role allowed `actions`. */
export function guardStatement(sid: string, actions: string[]): PolicyStatement {
  return {
    Sid: sid,
    Effect: 'Allow',
    Principal: { AWS: 'arn:{{Partition}}:iam::{{AccountId}}:role/kms-policy-guard-{{Region}}' },
    Action: actions,
    Resource: '*',
  };
}

/** The guard may read and restore the policy, as the shipped documents have it. */
export const GUARD_READ_AND_RESTORE_STATEMENT = guardStatement(
  'Allow kms-policy-guard to read and restore this policy',
  ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:PutKeyPolicy'],
);

export function policyTemplate(...statements: PolicyStatement[]): {
  Version: string;
  Statement: PolicyStatement[];
} {
  return { Version: '2012-10-17', Statement: statements };
}

/** Without the guard statement and without any administrator: locks everyone out (KMS305/KMS306). */
export const LOCKOUT_TEMPLATE = JSON.stringify(
  policyTemplate({
    Sid: 'Use only',
    Effect: 'Allow',
    Principal: { AWS: 'arn:{{Partition}}:iam::{{AccountId}}:role/payments-service' },
    Action: ['kms:Encrypt', 'kms:Decrypt'],
    Resource: '*',
  }),
);

/**
 * Keeps a named administrator but the guard may only read: fine to alert with, refused for
 * remediation (KMS306: kms:PutKeyPolicy taken from the guard).
 */
export const GUARD_READ_ONLY_TEMPLATE = JSON.stringify(
  policyTemplate(
    KEY_ADMINISTRATORS_STATEMENT,
    guardStatement('Guard may only read', ['kms:DescribeKey', 'kms:GetKeyPolicy']),
  ),
);

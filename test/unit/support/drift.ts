/**
 * The drift the unit tests inject into a key policy. No mocks and no jest calls here: both the guard
 * harness and the CLI's AWS fakes mock KMSClient at class level, so neither can import the other.
 */

/** `policy` with one more statement. */
export function withStatement(policy: string, statement: Record<string, unknown>): string {
  const document = JSON.parse(policy) as { Statement: unknown[] };
  document.Statement.push(statement);
  return JSON.stringify(document, null, 2);
}

/** `policy` plus a statement giving another account decrypt rights: drift of high severity. */
export function withCrossAccountDecrypt(policy: string): string {
  return withStatement(policy, {
    Sid: 'Quick fix for the analytics team',
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::999988887777:root' },
    Action: ['kms:Decrypt', 'kms:DescribeKey'],
    Resource: '*',
  });
}

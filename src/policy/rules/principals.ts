/**
 * What an AWS principal value is: anyone, an account, an IAM/STS ARN, the unique ID KMS shows for a
 * deleted role or user, or nothing KMS understands. Shared by KMS113, KMS307 and the access rules.
 */
const ACCOUNT_ID = /^\d{12}$/;
const IAM_ARN = /^arn:[a-z][a-z0-9-]*:(iam|sts)::(\d{12}):.+$/;
const ACCOUNT_ROOT_ARN = /^arn:[a-z][a-z0-9-]*:iam::\d{12}:root$/;
const UNIQUE_ID = /^(AROA|AIDA)[A-Z0-9]{12,}$/;

export type AwsPrincipalKind = 'anyone' | 'account' | 'arn' | 'unique-id' | 'malformed';

export function awsPrincipalKind(value: string): AwsPrincipalKind {
  if (value === '*') return 'anyone';
  if (ACCOUNT_ID.test(value)) return 'account';
  if (IAM_ARN.test(value)) return 'arn';
  if (UNIQUE_ID.test(value)) return 'unique-id';
  return 'malformed';
}

/** The account an AWS principal belongs to: the ID itself, or the one in its ARN. */
export function accountOf(principal: string): string | undefined {
  if (ACCOUNT_ID.test(principal)) return principal;
  return IAM_ARN.exec(principal)?.[2];
}

/** `111122223333` and `arn:aws:iam::111122223333:root` are the same principal: the account. */
export function isAccountRoot(principal: string): boolean {
  return ACCOUNT_ID.test(principal) || ACCOUNT_ROOT_ARN.test(principal);
}

/**
 * `--key-arn` and `--key-account` (validate, diff): the key's own account and ARN, stated instead of
 * inferred from the policy (docs/rules.md#the-keys-account). A usage error (exit 2) when malformed
 * or when the two disagree.
 */
import { parseKeyArn } from '../core/key-arn';
import { CliExitError, EXIT_USAGE } from './errors';

const ACCOUNT_ID = /^\d{12}$/;

export interface KeyOptions {
  keyArn?: string;
  keyAccount?: string;
  /** The partition and Region of --key-arn, when given. */
  partition?: string;
  region?: string;
}

export function keyOptionsFrom(options: { keyArn?: string; keyAccount?: string }): KeyOptions {
  const out: KeyOptions = {};
  if (options.keyAccount !== undefined) {
    if (!ACCOUNT_ID.test(options.keyAccount)) {
      throw new CliExitError(
        `--key-account: "${options.keyAccount}" is not a 12-digit account ID`,
        EXIT_USAGE,
      );
    }
    out.keyAccount = options.keyAccount;
  }
  if (options.keyArn !== undefined) {
    const arn = parseKeyArn(options.keyArn);
    if (!arn) {
      throw new CliExitError(
        `--key-arn: "${options.keyArn}" is not a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<key id>)`,
        EXIT_USAGE,
      );
    }
    if (out.keyAccount !== undefined && out.keyAccount !== arn.accountId) {
      throw new CliExitError(
        `--key-account ${out.keyAccount} is not the account of --key-arn (${arn.accountId})`,
        EXIT_USAGE,
      );
    }
    out.keyArn = arn.arn;
    out.keyAccount = arn.accountId;
    out.partition = arn.partition;
    out.region = arn.region;
  }
  return out;
}

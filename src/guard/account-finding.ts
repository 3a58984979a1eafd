/**
 * The fields of a finding about an account and Region rather than one key (guard health, scope, the audit's run
 * and account findings): the key is `key/*` of that account and Region, named `*`, with no alias, reported in
 * alert mode with no action taken.
 */
import type { Finding } from '../core/finding';
import type { KeyLocation } from '../core/key-arn';

export type AccountWideFields = Pick<
  Finding,
  'keyArn' | 'keyId' | 'aliases' | 'region' | 'account' | 'mode' | 'action'
>;

/** `arn:<partition>:kms:<region>:<account>:key/*`: every key of the account and Region. */
export function accountWideKeyArn(location: KeyLocation): string {
  return `arn:${location.partition}:kms:${location.region}:${location.accountId}:key/*`;
}

export function accountWideFields(location: KeyLocation): AccountWideFields {
  return {
    keyArn: accountWideKeyArn(location),
    keyId: '*',
    aliases: [],
    region: location.region,
    account: location.accountId,
    mode: 'alert',
    action: 'none',
  };
}

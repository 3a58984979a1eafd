/**
 * The key's own ARN inside the policy engine (src/policy imports nothing outside itself; src/core/key-arn.ts
 * is the same pattern for the layers above): which `Resource` values name the key.
 */
import { matchesWildcard } from './wildcard';

/** The key's ARN, as KMS writes it: `arn:<partition>:kms:<region>:<account>:key/<key id>`. */
const KEY_ARN = /^arn:([a-z][a-z0-9-]*):kms:([a-z0-9-]+):(\d{12}):key\/([A-Za-z0-9-]+)$/;

export interface KeyArnParts {
  partition: string;
  region: string;
  account: string;
  keyId: string;
}

export function keyArnParts(text: string): KeyArnParts | undefined {
  const match = KEY_ARN.exec(text);
  if (!match) return undefined;
  const [, partition = '', region = '', account = '', keyId = ''] = match;
  return { partition, region, account, keyId };
}

/**
 * Whether a `Resource` value names the key `keyArn`: `*`, the key's ARN, or a pattern that matches
 * it (`arn:aws:kms:eu-west-1:111122223333:key/*`). In a key policy the only resource is the key, so
 * such a value means what `"*"` means.
 */
export function resourceNamesKey(resource: string, keyArn: string): boolean {
  return resource === '*' || resource === keyArn || matchesWildcard(resource, keyArn);
}

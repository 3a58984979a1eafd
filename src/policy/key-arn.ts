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

/** A KMS key ARN or pattern of any account and Region: `arn:<partition>:kms:<region>:<account>:key/<id>`. */
const KMS_KEY_RESOURCE = /^arn:[^:]*:kms:[^:]*:[^:]*:key\/.+$/;

/**
 * Whether a statement whose `Resource` holds these values can apply to the key: one of them is
 * `*` or names the key `keyArn`; without the key's ARN, one is `*` or any KMS key ARN or pattern
 * (it may be this key). A statement none of whose values can grants or denies nothing on the key
 * (validate reports KMS104, the security rules and compare leave it out). No values: applies (KMS110).
 */
export function resourcesCanNameKey(resources: readonly string[], keyArn: string | undefined): boolean {
  if (resources.length === 0) return true;
  return resources.some((resource) =>
    keyArn === undefined
      ? resource === '*' || KMS_KEY_RESOURCE.test(resource)
      : resourceNamesKey(resource, keyArn),
  );
}

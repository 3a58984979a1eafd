/**
 * KMS key ARNs: the one place that parses and formats them. Everything that needs the partition,
 * Region, account or key ID of a key (placeholders, events, the audit, the manifest schema, the
 * guard's own-account check) goes through here, so there is one pattern and one set of rules.
 */

/** Where a key lives: the values of the `{{Partition}}`, `{{Region}}`, `{{AccountId}}` placeholders. */
export interface KeyLocation {
  partition: string;
  region: string;
  accountId: string;
}

export interface KeyArn extends KeyLocation {
  keyId: string;
  /** The ARN as text (`arn:aws:kms:eu-west-1:111122223333:key/…`). */
  arn: string;
}

export const PARTITION_PATTERN = /^aws(-[a-z]+)*$/;
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
export const ACCOUNT_ID_PATTERN = /^\d{12}$/;
/** A key ID as KMS writes it: a UUID, or `mrk-` and 32 hex digits for a multi-Region key. */
export const KEY_ID_PATTERN =
  /^(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/**
 * `arn:<partition>:kms:<region>:<account>:key/<key id>`. The key ID part is checked loosely here
 * (letters, digits, `-`): KMS is the judge of whether such a key exists; `KEY_ID_PATTERN` is the
 * strict form the manifest asks for.
 */
const KMS_ARN = /^arn:(aws(?:-[a-z]+)*):kms:([a-z]{2}(?:-[a-z]+)+-\d+):(\d{12}):(.+)$/;
const KEY_RESOURCE = /^key\/([A-Za-z0-9-]+)$/;

/** Where any KMS resource ARN (a key or an alias) lives, or undefined when the text is not one. */
export function locationOfKmsArn(text: string): KeyLocation | undefined {
  const match = KMS_ARN.exec(text);
  if (!match) return undefined;
  const [, partition = '', region = '', accountId = ''] = match;
  return { partition, region, accountId };
}

/** The parts of a key ARN, or undefined when the text is not one. */
export function parseKeyArn(text: string): KeyArn | undefined {
  const match = KMS_ARN.exec(text);
  const keyId = KEY_RESOURCE.exec(match?.[4] ?? '')?.[1];
  if (!match || keyId === undefined) return undefined;
  const [, partition = '', region = '', accountId = ''] = match;
  return { arn: text, partition, region, accountId, keyId };
}

export function isKeyArn(text: string): boolean {
  return parseKeyArn(text) !== undefined;
}

export function formatKeyArn(location: KeyLocation, keyId: string): string {
  return `arn:${location.partition}:kms:${location.region}:${location.accountId}:key/${keyId}`;
}

/** The partition a Region belongs to (`cn-north-1` -> `aws-cn`). */
export function partitionOfRegion(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  return 'aws';
}

export function sameLocation(a: KeyLocation, b: KeyLocation): boolean {
  return a.partition === b.partition && a.region === b.region && a.accountId === b.accountId;
}

/** `111122223333/eu-west-1`: how logs and findings name a location. */
export function describeLocation(location: KeyLocation): string {
  return `${location.accountId}/${location.region}`;
}

/**
 * Placeholders in desired documents: `{{Partition}}`, `{{Region}}`, `{{AccountId}}` (where the key lives) and
 * `{{GuardPrincipal}}` (the principal the guard acts as in the key's account), nothing else.
 * Double braces were chosen because they cannot collide with IAM policy variables (`${aws:PrincipalTag/team}`,
 * `${aws:username}`), which are legitimate in key policies and pass through byte-for-byte.
 * Substitution happens inside the JSON text, so values are checked to be JSON-safe first.
 */
import { ACCOUNT_ID_PATTERN, locationOfKmsArn, PARTITION_PATTERN, REGION_PATTERN } from '../core/key-arn';
import { ManifestError } from './errors';
import type { ManagedKey, PlaceholderValues } from './types';

export const PLACEHOLDER_NAMES = ['Partition', 'Region', 'AccountId', 'GuardPrincipal'] as const;
export type PlaceholderName = (typeof PLACEHOLDER_NAMES)[number];

/** Matches `{{anything-without-braces}}`; the name is checked against PLACEHOLDER_NAMES. */
const PLACEHOLDER_PATTERN = /\{\{([^{}]*)\}\}/g;

/**
 * The guard's own Lambda role in the account it is deployed to: serverless.yml names the role
 * `kms-policy-guard-${region}`. It is what `{{GuardPrincipal}}` stands for unless the guard acts through another
 * principal in the key's account (the spoke role in a member account of an organization,
 * docs/manifest.md#the-guards-own-role); a key in remediate mode must keep that principal able to Get/PutKeyPolicy.
 */
export const GUARD_ROLE_ARN_TEMPLATE =
  'arn:{{Partition}}:iam::{{AccountId}}:role/kms-policy-guard-{{Region}}';

/** Values used to render every desired document at load time, so validation sees real ARNs. */
export const SAMPLE_PLACEHOLDER_VALUES: PlaceholderValues = {
  partition: 'aws',
  region: 'us-east-1',
  accountId: '111122223333',
};

/** The known placeholders as an error message lists them. */
export const KNOWN_PLACEHOLDERS = PLACEHOLDER_NAMES.map((name) => `{{${name}}}`).join(', ');

/** An IAM role ARN (`{{GuardPrincipal}}`'s value): JSON-safe, as IAM allows role paths and names. */
const ROLE_ARN_PATTERN = /^arn:[a-z][a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;

/** Every distinct `{{…}}` occurrence in the text that is not a known placeholder, in order of appearance. */
export function unknownPlaceholders(text: string): string[] {
  const unknown = new Set<string>();
  for (const match of text.matchAll(PLACEHOLDER_PATTERN)) {
    const name = match[1] ?? '';
    if (!(PLACEHOLDER_NAMES as readonly string[]).includes(name)) unknown.add(match[0]);
  }
  return [...unknown];
}

/** Control characters written as `\u0000` escapes, so an error message cannot corrupt a terminal or a log line. */
function visible(text: string): string {
  return text.replace(
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
    /[\u0000-\u001f\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function checkValues(values: PlaceholderValues, source: string): void {
  const problems: string[] = [];
  if (!PARTITION_PATTERN.test(values.partition))
    problems.push(`partition ${JSON.stringify(values.partition)}`);
  if (!REGION_PATTERN.test(values.region)) problems.push(`region ${JSON.stringify(values.region)}`);
  if (!ACCOUNT_ID_PATTERN.test(values.accountId))
    problems.push(`account ID ${JSON.stringify(values.accountId)}`);
  if (values.guardPrincipal !== undefined && !ROLE_ARN_PATTERN.test(values.guardPrincipal))
    problems.push(`guard principal ${JSON.stringify(values.guardPrincipal)} (an IAM role ARN)`);
  if (problems.length > 0) {
    throw new ManifestError(`${source}: invalid placeholder values: ${problems.join(', ')}`);
  }
}

/**
 * Substitutes the placeholders in `text`: `{{GuardPrincipal}}` is `values.guardPrincipal` when given, else the
 * guard's own role in the key's account and Region (the single-account deployment). Throws a ManifestError naming `source` (a file) and
 * the placeholder when the text contains an unknown `{{…}}`, or when a value is not a well-formed
 * partition / region / account ID (a stray quote would break the JSON it is written into).
 */
export function renderPlaceholders(text: string, values: PlaceholderValues, source: string): string {
  const unknown = unknownPlaceholders(text);
  if (unknown.length > 0) {
    throw new ManifestError(
      `${source}: unknown placeholder ${unknown.map(visible).join(', ')} (known: ${KNOWN_PLACEHOLDERS})`,
    );
  }
  checkValues(values, source);
  const byName: Record<PlaceholderName, () => string> = {
    Partition: () => values.partition,
    Region: () => values.region,
    AccountId: () => values.accountId,
    GuardPrincipal: () => guardPrincipalOf(values),
  };
  return text.replace(PLACEHOLDER_PATTERN, (_whole, name: PlaceholderName) => byName[name]());
}

/** `arn:aws:kms:eu-west-1:111122223333:key/…` (or `…:alias/…`) -> `{ partition: 'aws', region: 'eu-west-1', accountId: '111122223333' }`. */
export function placeholderValuesFromArn(keyArn: string): PlaceholderValues {
  const location = locationOfKmsArn(keyArn);
  if (!location) throw new ManifestError(`not a KMS key ARN: ${JSON.stringify(keyArn)}`);
  return location;
}

/** The guard role's ARN in a given account/region (the stack's own role, never the spoke role). */
export function guardRoleArn(values: PlaceholderValues): string {
  checkValues(values, 'guard role ARN');
  return GUARD_ROLE_ARN_TEMPLATE.replace('{{Partition}}', values.partition)
    .replace('{{AccountId}}', values.accountId)
    .replace('{{Region}}', values.region);
}

/** The principal `{{GuardPrincipal}}` stands for at these values: the given one, else the guard's own role. */
export function guardPrincipalOf(values: PlaceholderValues): string {
  return values.guardPrincipal ?? guardRoleArn(values);
}

/** The key's desired document with its placeholders filled in (docs/manifest.md#placeholders); IAM variables untouched. */
export function renderDesiredPolicy(key: ManagedKey, target: PlaceholderValues): string {
  return renderPlaceholders(key.policyTemplate, target, key.policyFile);
}

/**
 * The manifest's shape (zod). Messages are written for the person editing the manifest; the loader
 * prefixes them with the file and the path inside the manifest (`keys[2].match`).
 */

import { ACCOUNT_ID_PATTERN, KEY_ID_PATTERN, parseKeyArn, REGION_PATTERN } from '../core/key-arn';
import * as z from '../core/zod';

/** An organizational unit ID as AWS Organizations writes it (`ou-` root part `-` OU part). */
export const OU_ID_PATTERN = /^ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}$/;

const ALIAS_PATTERN = /^alias\/[A-Za-z0-9/_-]{1,250}$/;
/** A manifest entry name (also the file name `kms-guard init` gives its document). */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const tagMatcherSchema = z.strictObject({
  key: z.string().check(z.minLength(1, { error: 'tag key must not be empty' }), z.maxLength(128)),
  value: z.string().check(z.maxLength(256)),
});

export const keyMatcherSchema = z
  .strictObject({
    keyId: z.optional(
      z.string().check(
        z.regex(KEY_ID_PATTERN, {
          error: 'keyId must be a key ID such as 1234abcd-12ab-34cd-56ef-1234567890ab',
        }),
      ),
    ),
    keyArn: z.optional(
      z.string().check(
        z.refine((arn: string) => KEY_ID_PATTERN.test(parseKeyArn(arn)?.keyId ?? ''), {
          error: 'keyArn must look like arn:aws:kms:<region>:<account>:key/<key-id>',
        }),
      ),
    ),
    alias: z.optional(
      z.string().check(
        z.regex(ALIAS_PATTERN, { error: 'alias must look like alias/<name> (letters, digits, / _ -)' }),
        z.refine((alias: string) => !alias.startsWith('alias/aws/'), {
          error: 'alias/aws/… names AWS-managed keys, whose policies cannot be changed',
        }),
      ),
    ),
    tag: z.optional(tagMatcherSchema),
  })
  .check(
    z.refine(
      (match) =>
        [match.keyId, match.keyArn, match.alias, match.tag].filter((m) => m !== undefined).length === 1,
      { error: 'match must have exactly one of keyId, keyArn, alias, tag' },
    ),
  );

/** The operations a KMS grant can allow (CreateGrant's GrantOperation). */
export const GRANT_OPERATIONS = [
  'Decrypt',
  'Encrypt',
  'GenerateDataKey',
  'GenerateDataKeyWithoutPlaintext',
  'ReEncryptFrom',
  'ReEncryptTo',
  'Sign',
  'Verify',
  'GetPublicKey',
  'CreateGrant',
  'RetireGrant',
  'DescribeKey',
  'GenerateDataKeyPair',
  'GenerateDataKeyPairWithoutPlaintext',
  'GenerateMac',
  'VerifyMac',
  'DeriveSharedSecret',
] as const;

const grantRuleSchema = z.strictObject({
  grantee: z
    .string()
    .check(
      z.minLength(1, { error: 'grantee must be a principal ARN pattern (* and ? match any characters)' }),
      z.maxLength(512),
    ),
  operations: z
    .array(z.enum(GRANT_OPERATIONS, { error: `operations must be among ${GRANT_OPERATIONS.join(', ')}` }))
    .check(z.minLength(1, { error: 'operations must list at least one grant operation' })),
  requireConstraints: z._default(z.boolean(), false),
});

const grantsSchema = z.strictObject({
  allowServiceGrants: z._default(z.boolean(), true),
  allow: z._default(z.array(grantRuleSchema), []),
});

const keyStateSchema = z.strictObject({
  enabled: z._default(z.boolean(), true),
  rotation: z.optional(z.boolean()),
});

export const managedKeyEntrySchema = z.strictObject({
  name: z.string().check(
    z.regex(NAME_PATTERN, {
      error: 'name must be 1-64 characters: letters, digits, . _ - (starting with a letter or digit)',
    }),
  ),
  match: keyMatcherSchema,
  mode: z.enum(['alert', 'remediate', 'dry-run'], { error: 'mode must be one of alert, remediate, dry-run' }),
  policy: z.string().check(
    z.minLength(1, { error: 'policy must name a JSON file relative to the manifest' }),
    z.refine((file: string) => !file.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(file), {
      error: 'policy must be a path relative to the manifest, not an absolute path',
    }),
  ),
  grants: z._default(grantsSchema, { allowServiceGrants: true, allow: [] }),
  state: z._default(keyStateSchema, { enabled: true }),
  // Scope (docs/manifest.md#scope): the entry applies only to keys of these accounts (or of accounts in these
  // OUs) and Regions; absent: everywhere the guard guards.
  accounts: z.optional(
    z
      .array(
        z
          .string({ error: 'accounts must be quoted strings (YAML would turn 012345678901 into a number)' })
          .check(
            z.refine((value: string) => ACCOUNT_ID_PATTERN.test(value) || OU_ID_PATTERN.test(value), {
              error: (issue) =>
                `accounts: ${JSON.stringify(issue.input)} is neither a 12-digit account ID nor an OU ID (ou-ab12-34cd56ef)`,
            }),
          ),
      )
      .check(
        z.minLength(1, {
          error: 'accounts must list at least one account ID or OU ID (leave it out to mean every account)',
        }),
      ),
  ),
  regions: z.optional(
    z
      .array(
        z.string().check(
          z.refine((value: string) => REGION_PATTERN.test(value), {
            error: (issue) => `regions: ${JSON.stringify(issue.input)} is not a Region name (eu-west-1)`,
          }),
        ),
      )
      .check(
        z.minLength(1, {
          error: 'regions must list at least one Region (leave it out to mean every guarded Region)',
        }),
      ),
  ),
});

export const manifestSchema = z.strictObject({
  unmanagedKeys: z._default(
    z.enum(['ignore', 'report'], { error: 'unmanagedKeys must be ignore or report' }),
    'report',
  ),
  flapping: z._default(
    z.strictObject({
      maxReapplies: z
        .int({ error: 'maxReapplies must be a whole number from 1 to 100' })
        .check(z.gte(1), z.lte(100)),
      windowMinutes: z
        .int({ error: 'windowMinutes must be a whole number from 1 to 1440' })
        .check(z.gte(1), z.lte(1440)),
    }),
    { maxReapplies: 3, windowMinutes: 60 },
  ),
  allowedAccounts: z._default(
    z.array(
      z
        .string({ error: 'account IDs must be quoted strings (YAML would turn 012345678901 into a number)' })
        .check(z.regex(ACCOUNT_ID_PATTERN, { error: 'account ID must be 12 digits' })),
    ),
    [],
  ),
  adminPrincipals: z._default(z.array(z.string().check(z.minLength(1))), []),
  keys: z
    .array(managedKeyEntrySchema)
    .check(z.minLength(1, { error: 'keys must list at least one managed key' })),
});

export type ManifestInput = z.infer<typeof manifestSchema>;
export type ManagedKeyEntry = z.infer<typeof managedKeyEntrySchema>;

/**
 * The validation rule catalogue (cfn-lint / cdk-nag style): one stable code per rule, implemented
 * by one unit of rules/. validate.ts takes every finding's level from here, and unit tests prove
 * that the rule units implement exactly these codes and that each fires on a test case.
 *
 * Groups: KMS0xx document format, KMS1xx policy elements, KMS2xx actions and condition keys,
 * KMS3xx security (who can do what).
 */
import type { FindingLevel, RuleInfo } from './types';

const RULE_LIST = [
  {
    code: 'KMS001',
    level: 'error',
    title: 'Not JSON',
    description: 'The text is not valid JSON; the message gives the line and column where it goes wrong.',
  },
  {
    code: 'KMS002',
    level: 'error',
    title: 'Not a JSON object',
    description: 'A key policy is a JSON object (`{...}`); an array, string, number or null is not.',
  },
  {
    code: 'KMS003',
    level: 'error',
    title: 'Larger than 32,768 bytes',
    description:
      'KMS rejects a key policy over 32,768 bytes (UTF-8 bytes, not characters: `é` counts 2) with LimitExceededException.',
  },
  {
    code: 'KMS004',
    level: 'error',
    title: 'Character not allowed',
    description:
      'Only tab, LF, CR, U+0020-U+00FF may appear in a key policy; KMS rejects anything else (the message gives the code point and where it is).',
  },
  {
    code: 'KMS005',
    level: 'warning',
    title: 'Invisible control character',
    description:
      "U+007F-U+009F (DEL and the C1 controls): the KMS API pattern accepts them, but the KMS guide allows only printable characters, and they are invisible, so a value that contains one looks like another that doesn't.",
  },
  {
    code: 'KMS006',
    level: 'warning',
    title: 'Duplicate JSON key',
    description:
      'The same name appears twice in one object; JSON parsers keep only the last value, so a reader sees something that is not in force.',
  },
  {
    code: 'KMS007',
    level: 'error',
    title: 'Value not representable as JSON',
    description:
      'An in-memory document holds something JSON has no form for (undefined, a function, NaN, a cycle, a class instance).',
  },
  {
    code: 'KMS101',
    level: 'error',
    title: 'Statement missing or empty',
    description: 'A key policy needs a `Statement` with at least one statement.',
  },
  {
    code: 'KMS102',
    level: 'warning',
    title: 'Version missing',
    description:
      'Without `"Version": "2012-10-17"` the old 2008 grammar applies and policy variables such as `${aws:PrincipalTag/team}` are plain text.',
  },
  {
    code: 'KMS103',
    level: 'error',
    title: 'Version not 2012-10-17',
    description: '`Version` must be the string `"2012-10-17"`.',
  },
  {
    code: 'KMS104',
    level: 'error',
    title: 'Resource not this key',
    description:
      'In a key policy `Resource` is `"*"` ("this KMS key"). Another key, a key of another account, another service\'s ARN or `NotResource` never applies to the key (this key\'s own ARN is KMS116).',
  },
  {
    code: 'KMS105',
    level: 'error',
    title: 'Effect missing',
    description: 'Every statement needs `Effect`.',
  },
  {
    code: 'KMS106',
    level: 'error',
    title: 'Effect not Allow or Deny',
    description: '`Effect` is exactly `"Allow"` or `"Deny"` (case matters).',
  },
  {
    code: 'KMS107',
    level: 'error',
    title: 'Principal missing',
    description: 'Every key policy statement needs `Principal` (or `NotPrincipal`).',
  },
  {
    code: 'KMS108',
    level: 'error',
    title: 'Conflicting elements',
    description:
      'A statement has both `Principal` and `NotPrincipal`, `Action` and `NotAction`, or `Resource` and `NotResource`.',
  },
  {
    code: 'KMS109',
    level: 'error',
    title: 'Action missing',
    description:
      'A statement without `Action` (or `NotAction`) has no effect, although PutKeyPolicy accepts it.',
  },
  {
    code: 'KMS110',
    level: 'error',
    title: 'Resource missing',
    description: 'A statement without `Resource` has no effect, although PutKeyPolicy accepts it.',
  },
  {
    code: 'KMS111',
    level: 'error',
    title: 'Unknown element',
    description:
      'An element name the policy grammar does not have (document: Version, Id, Statement; statement: Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition); the message suggests the closest valid name (`Actoin` -> `Action`).',
  },
  {
    code: 'KMS112',
    level: 'error',
    title: 'Element of the wrong type',
    description:
      'An element whose value has the wrong JSON type, e.g. a numeric `Sid`, an `Action` that is an object, an empty list.',
  },
  {
    code: 'KMS113',
    level: 'error',
    title: 'Malformed principal',
    description:
      'A principal is `"*"` or an object whose keys are AWS, Service, Federated or CanonicalUser; AWS values are `*`, an account ID, an IAM/STS ARN or a unique ID.',
  },
  {
    code: 'KMS114',
    level: 'error',
    title: 'Statement entry not an object',
    description: 'Every entry of `Statement` is an object.',
  },
  {
    code: 'KMS115',
    level: 'warning',
    title: 'Duplicate Sid',
    description: 'Two statements share a `Sid`; Sids should tell statements apart.',
  },
  {
    code: 'KMS116',
    level: 'warning',
    title: 'Resource names the key instead of "*"',
    description:
      'The key\'s own ARN (or a pattern of its account such as `key/*`, when its ARN is not known): KMS accepts it, and several AWS guides publish it, but `"*"` already means this key; write `"*"`.',
  },
  {
    code: 'KMS120',
    level: 'error',
    title: 'Malformed Condition',
    description: '`Condition` is an object of operator -> { condition key -> value or list of values }.',
  },
  {
    code: 'KMS121',
    level: 'error',
    title: 'Unknown condition operator',
    description:
      'An operator IAM does not have (optionally with `ForAnyValue:`/`ForAllValues:` and `IfExists`); the message suggests the closest one.',
  },
  {
    code: 'KMS122',
    level: 'error',
    title: 'Condition value not scalar',
    description: 'A condition value is a string, number or boolean, or a non-empty list of them.',
  },
  {
    code: 'KMS123',
    level: 'warning',
    title: 'Condition operator not in its documented spelling',
    description:
      'An operator written in another case than IAM documents it (`stringequals` for `StringEquals`). The guard compares operators exactly as written, so such a policy never equals one with the documented spelling.',
  },
  {
    code: 'KMS201',
    level: 'error',
    title: 'Unknown KMS action',
    description:
      'A `kms:` action KMS does not have: a typo such as `kms:Decrpyt` silently grants nothing. The message suggests the closest real action.',
  },
  {
    code: 'KMS202',
    level: 'error',
    title: 'Wildcard matches no KMS action',
    description:
      'A `kms:` wildcard that matches no KMS action (in the bundled AWS service data) grants nothing.',
  },
  {
    code: 'KMS203',
    level: 'error',
    title: 'Action of another service',
    description:
      'A key policy governs only KMS actions; `s3:GetObject` and the like have no effect here (`*` is allowed).',
  },
  {
    code: 'KMS204',
    level: 'error',
    title: 'Malformed action name',
    description: 'An action is `service:Name` (or `*`).',
  },
  {
    code: 'KMS205',
    level: 'warning',
    title: 'Unknown condition key',
    description:
      'A condition key that neither KMS nor the global condition keys have: a misspelt key makes a condition that never matches. The message suggests the closest key.',
  },
  {
    code: 'KMS206',
    level: 'warning',
    title: 'Operator does not fit the key type',
    description:
      'A typed key used with an operator of another family, e.g. a Bool key with `StringEquals` or a Numeric key with `StringLike`. As the AWS guides use them, ARN keys also take string operators, Date keys numeric ones (seconds since the epoch), and a string key whose values are all ARNs takes ARN operators (`ArnLike` on `kms:EncryptionContext:aws:logs:arn`).',
  },
  {
    code: 'KMS301',
    level: 'warning',
    title: 'Anyone allowed without a condition',
    description:
      '`Principal` `*` (or `{"AWS": "*"}`) on an `Allow` statement without `Condition` lets every identity in every AWS account use the key.',
  },
  {
    code: 'KMS302',
    level: 'warning',
    title: 'Principal outside the allowed accounts',
    description: 'An `Allow` principal belongs to an account that is not in the allowed-accounts list.',
  },
  {
    code: 'KMS303',
    level: 'warning',
    title: 'Full access to a non-admin',
    description:
      '`kms:*` (or `*`) is allowed to a principal that is neither the key account root nor a named administrator.',
  },
  {
    code: 'KMS304',
    level: 'warning',
    title: 'kms:PutKeyPolicy granted broadly',
    description:
      'Anyone (`*`) or a principal of another account may replace the key policy (kms:PutKeyPolicy), i.e. take the key over.',
  },
  {
    code: 'KMS305',
    level: 'warning',
    title: 'Lockout risk',
    description:
      'No `Allow` statement (not overridden by an unconditional `Deny`) keeps the account root or a named administrator able to call kms:PutKeyPolicy: the key could become unmanageable.',
  },
  {
    code: 'KMS306',
    level: 'warning',
    title: 'Guard locked out',
    description:
      'In remediate mode the guard principal must be able to call kms:GetKeyPolicy and kms:PutKeyPolicy (directly or through its account root); the message names what is missing.',
  },
  {
    code: 'KMS307',
    level: 'warning',
    title: 'Orphaned principal',
    description:
      'A principal shown as a unique ID (`AROA...`, `AIDA...`) instead of an ARN: KMS shows this after the IAM role or user was deleted.',
  },
] as const satisfies readonly RuleInfo[];

/** A code from the catalogue; validation findings and shape issues can only carry these. */
export type RuleCode = (typeof RULE_LIST)[number]['code'];

export const RULES: readonly RuleInfo[] = RULE_LIST;

const levelByCode: ReadonlyMap<string, FindingLevel> = new Map(RULES.map((rule) => [rule.code, rule.level]));

/** The level the catalogue gives a code (the single source of truth for levels). */
export function ruleLevel(code: RuleCode): FindingLevel {
  return levelByCode.get(code) ?? 'error';
}

/**
 * Codes that make remediation refuse to write a desired document even when it is otherwise valid:
 * KMS305 (no administrator could manage the key any more) and KMS306 (the guard would lock itself out).
 */
export const REMEDIATION_BLOCKING_CODES: readonly RuleCode[] = ['KMS305', 'KMS306'];

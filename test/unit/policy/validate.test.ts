import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { RULES } from '../../../src/policy/catalogue';
import { VALIDATION_RULES } from '../../../src/policy/rules';
import type { ValidateOptions, ValidationResult } from '../../../src/policy/types';
import { MAX_POLICY_BYTES, validatePolicy } from '../../../src/policy/validate';

const FIXTURES = join(__dirname, '../../fixtures/cli');
/** The complete example key policy of the KMS developer guide (seeds/002). */
const EXAMPLE_TEXT = readFileSync(join(FIXTURES, 'example-key-policy.json'), 'utf8');

const ROOT = 'arn:aws:iam::111122223333:root';
const ROLE = 'arn:aws:iam::111122223333:role/ExampleRole';
const OTHER_ROOT = 'arn:aws:iam::444455556666:root';
const GUARD = 'arn:aws:iam::111122223333:role/kms-policy-guard';
const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

type Statement = Record<string, unknown>;

const adminStatement: Statement = {
  Sid: 'Enable IAM policies',
  Effect: 'Allow',
  Principal: { AWS: ROOT },
  Action: 'kms:*',
  Resource: '*',
};

function useStatement(changes: Statement = {}): Statement {
  return {
    Sid: 'Use',
    Effect: 'Allow',
    Principal: { AWS: ROLE },
    Action: ['kms:Encrypt', 'kms:Decrypt'],
    Resource: '*',
    ...changes,
  };
}

/** A clean policy (zero findings) with the given extra statements after the admin statement. */
function policy(...statements: unknown[]): Record<string, unknown> {
  return { Version: '2012-10-17', Statement: [adminStatement, ...statements] };
}

/** Removes elements from a statement. */
function without(statement: Statement, ...elements: string[]): Statement {
  return Object.fromEntries(Object.entries(statement).filter(([key]) => !elements.includes(key)));
}

/** Every code any test in this file saw validatePolicy emit, checked against RULES at the end. */
const emittedCodes = new Set<string>();
function validate(input: unknown, options?: ValidateOptions): ValidationResult {
  const result = validatePolicy(input, options);
  for (const finding of result.findings) emittedCodes.add(finding.code);
  return result;
}

function codesOf(result: ValidationResult): string[] {
  return result.findings.map((finding) => finding.code);
}

const cycle: Record<string, unknown> = { Version: '2012-10-17' };
cycle.Statement = [cycle];

type Case = [code: string, situation: string, input: unknown, options?: ValidateOptions];

/** For every rule: documents that trigger it (and, where it matters, where). */
const triggering: (Case | [string, string, unknown, ValidateOptions | undefined, string])[] = [
  [
    'KMS001',
    'a missing value before }',
    '{\n  "Version": "2012-10-17",\n  "Statement": [\n    }\n',
    undefined,
    '$',
  ],
  ['KMS001', 'an empty text', ''],
  ['KMS001', 'a trailing comma', '{"Version": "2012-10-17",}'],
  ['KMS002', 'a top-level array', '[{"Effect": "Allow"}]', undefined, '$'],
  ['KMS002', 'a number given in memory', 42],
  ['KMS002', 'null', 'null'],
  [
    'KMS003',
    'a Sid of 16,400 "é" (16 k characters, 32 k bytes)',
    policy(useStatement({ Sid: 'é'.repeat(16_400) })),
  ],
  [
    'KMS004',
    'a right single quote in a Sid',
    policy(useStatement({ Sid: 'Bob’s key' })),
    undefined,
    '$.Statement[1].Sid',
  ],
  [
    'KMS004',
    'an emoji in JSON text',
    JSON.stringify(policy(useStatement({ Sid: 'key 🔑' }))),
    undefined,
    '$.Statement[1].Sid',
  ],
  [
    'KMS004',
    'a raw U+0001 between tokens',
    `{\u0001"Version": "2012-10-17", "Statement": []}`,
    undefined,
    '$',
  ],
  ['KMS004', 'a UTF-8 byte order mark', `\uFEFF${JSON.stringify(policy())}`],
  [
    'KMS005',
    'a C1 control (NEL) in a Sid',
    policy(useStatement({ Sid: 'Use\u0085' })),
    undefined,
    '$.Statement[1].Sid',
  ],
  ['KMS005', 'DEL in JSON text', JSON.stringify(policy(useStatement({ Sid: 'Use\u007f' })))],
  [
    'KMS006',
    'Effect written twice',
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*","Effect":"Deny"}]}',
    undefined,
    '$.Statement[0].Effect',
  ],
  [
    'KMS007',
    'an undefined Sid in memory',
    policy(useStatement({ Sid: undefined })),
    undefined,
    '$.Statement[1].Sid',
  ],
  ['KMS007', 'a cycle', cycle],
  ['KMS007', 'NaN', policy(useStatement({ Sid: Number.NaN }))],
  ['KMS007', 'a Date instance', policy(useStatement({ Sid: new Date(0) }))],
  ['KMS101', 'no Statement', { Version: '2012-10-17' }, undefined, '$'],
  ['KMS101', 'an empty Statement', { Version: '2012-10-17', Statement: [] }, undefined, '$.Statement'],
  ['KMS102', 'no Version', { Statement: [adminStatement] }, undefined, '$'],
  [
    'KMS103',
    'the 2008 version',
    { Version: '2008-10-17', Statement: [adminStatement] },
    undefined,
    '$.Version',
  ],
  ['KMS103', 'a numeric version', { Version: 2012, Statement: [adminStatement] }],
  [
    'KMS104',
    "a key of another account than the key's",
    policy(useStatement({ Resource: ['*', 'arn:aws:kms:us-east-1:444455556666:key/1234'] })),
    undefined,
    '$.Statement[1].Resource[1]',
  ],
  [
    'KMS104',
    'another key than the one whose ARN is known',
    policy(useStatement({ Resource: 'arn:aws:kms:us-east-1:111122223333:key/other' })),
    { keyArn: KEY_ARN },
  ],
  ['KMS104', 'an S3 bucket ARN', policy(useStatement({ Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/*' }))],
  [
    'KMS104',
    'an alias ARN',
    policy(useStatement({ Resource: 'arn:aws:kms:us-east-1:111122223333:alias/a' })),
  ],
  ['KMS104', 'a word', policy(useStatement({ Resource: 'this-key' }))],
  ['KMS104', 'NotResource', policy({ ...without(useStatement(), 'Resource'), NotResource: '*' })],
  [
    'KMS116',
    "the key's own ARN, known",
    policy(useStatement({ Resource: KEY_ARN })),
    { keyArn: KEY_ARN },
    '$.Statement[1].Resource',
  ],
  [
    'KMS116',
    "key/* of the key's account and Region",
    policy(useStatement({ Resource: 'arn:aws:kms:us-east-1:111122223333:key/*' })),
    { keyArn: KEY_ARN },
  ],
  [
    'KMS116',
    "a key ARN of the key's (inferred) account, the key's ARN not known",
    policy(useStatement({ Resource: ['*', 'arn:aws:kms:us-east-1:111122223333:key/1234'] })),
    undefined,
    '$.Statement[1].Resource[1]',
  ],
  ['KMS105', 'no Effect', policy(without(useStatement(), 'Effect')), undefined, '$.Statement[1]'],
  [
    'KMS106',
    'lower-case allow',
    policy(useStatement({ Effect: 'allow' })),
    undefined,
    '$.Statement[1].Effect',
  ],
  ['KMS106', 'a boolean Effect', policy(useStatement({ Effect: true }))],
  ['KMS107', 'no Principal', policy(without(useStatement(), 'Principal')), undefined, '$.Statement[1]'],
  ['KMS108', 'Principal and NotPrincipal', policy(useStatement({ NotPrincipal: { AWS: ROLE } }))],
  ['KMS108', 'Action and NotAction', policy(useStatement({ NotAction: 'kms:Decrypt' }))],
  ['KMS108', 'Resource and NotResource', policy(useStatement({ NotResource: '*' }))],
  ['KMS109', 'no Action', policy(without(useStatement(), 'Action')), undefined, '$.Statement[1]'],
  ['KMS110', 'no Resource', policy(without(useStatement(), 'Resource')), undefined, '$.Statement[1]'],
  [
    'KMS111',
    'Actoin',
    policy({ ...useStatement(), Actoin: 'kms:Decrypt' }),
    undefined,
    '$.Statement[1].Actoin',
  ],
  ['KMS111', 'a document-level Versoin', { ...policy(), Versoin: '2012-10-17' }, undefined, '$.Versoin'],
  ['KMS112', 'a numeric Sid', policy(useStatement({ Sid: 7 })), undefined, '$.Statement[1].Sid'],
  ['KMS112', 'an empty Action list', policy(useStatement({ Action: [] }))],
  [
    'KMS112',
    'an empty NotResource list',
    policy({ ...without(useStatement(), 'Resource'), NotResource: [] }),
    undefined,
    '$.Statement[1].NotResource',
  ],
  ['KMS112', 'an object as Action', policy(useStatement({ Action: { kms: 'Decrypt' } }))],
  ['KMS112', 'a number among the actions', policy(useStatement({ Action: ['kms:Decrypt', 5] }))],
  ['KMS112', 'Statement as a string', { Version: '2012-10-17', Statement: 'Allow everything' }],
  ['KMS112', 'a numeric Id', { ...policy(), Id: 1 }],
  [
    'KMS113',
    'a bare ARN as Principal',
    policy(useStatement({ Principal: ROLE })),
    undefined,
    '$.Statement[1].Principal',
  ],
  ['KMS113', 'principal type aws', policy(useStatement({ Principal: { aws: ROLE } }))],
  ['KMS113', 'an AWS principal that is no ARN', policy(useStatement({ Principal: { AWS: 'ExampleRole' } }))],
  ['KMS113', 'an empty Principal object', policy(useStatement({ Principal: {} }))],
  [
    'KMS113',
    'a misspelt principal type in a NotPrincipal beside the Principal',
    policy(useStatement({ NotPrincipal: { Aws: ROLE } })),
    undefined,
    '$.Statement[1].NotPrincipal.Aws',
  ],
  ['KMS114', 'a string as a statement', policy('Allow everything'), undefined, '$.Statement[1]'],
  ['KMS115', 'a repeated Sid', policy(useStatement(), useStatement()), undefined, '$.Statement[2].Sid'],
  [
    'KMS120',
    'a string Condition',
    policy(useStatement({ Condition: 'kms:ViaService' })),
    undefined,
    '$.Statement[1].Condition',
  ],
  ['KMS120', 'an operator without keys', policy(useStatement({ Condition: { StringEquals: {} } }))],
  ['KMS120', 'an operator holding a list', policy(useStatement({ Condition: { StringEquals: ['a'] } }))],
  [
    'KMS121',
    'StringEqual',
    policy(useStatement({ Condition: { StringEqual: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } } })),
    undefined,
    '$.Statement[1].Condition.StringEqual',
  ],
  [
    'KMS121',
    'NullIfExists',
    policy(useStatement({ Condition: { NullIfExists: { 'kms:ViaService': 'true' } } })),
  ],
  [
    'KMS122',
    'an object value',
    policy(useStatement({ Condition: { StringEquals: { 'kms:ViaService': { service: 's3' } } } })),
    undefined,
    '$.Statement[1].Condition.StringEquals.kms:ViaService',
  ],
  [
    'KMS122',
    'an empty value list',
    policy(useStatement({ Condition: { StringEquals: { 'kms:ViaService': [] } } })),
  ],
  [
    'KMS122',
    'null in a value list',
    policy(useStatement({ Condition: { StringEquals: { 'kms:ViaService': [null] } } })),
  ],
  [
    'KMS123',
    'a lower-case StringEquals',
    policy(useStatement({ Condition: { stringequals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } })),
    undefined,
    '$.Statement[1].Condition.stringequals',
  ],
  [
    'KMS123',
    'a set operator and IfExists in another case',
    policy(useStatement({ Condition: { 'forAnyValue:StringLikeifexists': { 'aws:TagKeys': 'team*' } } })),
  ],
  [
    'KMS201',
    'kms:Decrpyt',
    policy(useStatement({ Action: 'kms:Decrpyt' })),
    undefined,
    '$.Statement[1].Action',
  ],
  [
    'KMS201',
    'kms:Describe (the put-key-policy CLI example)',
    policy(useStatement({ Action: ['kms:Describe'] })),
  ],
  [
    'KMS201',
    'a typo in a NotAction beside the Action',
    policy(useStatement({ NotAction: 'kms:Decrpyt' })),
    undefined,
    '$.Statement[1].NotAction',
  ],
  [
    'KMS202',
    'kms:Frobnicate*',
    policy(useStatement({ Action: 'kms:Frobnicate*' })),
    undefined,
    '$.Statement[1].Action',
  ],
  [
    'KMS203',
    's3:GetObject',
    policy(useStatement({ Action: ['kms:Decrypt', 's3:GetObject'] })),
    undefined,
    '$.Statement[1].Action[1]',
  ],
  ['KMS203', 'iam:*', policy(useStatement({ Action: 'iam:*' }))],
  [
    'KMS204',
    'Decrypt without a service',
    policy(useStatement({ Action: 'Decrypt' })),
    undefined,
    '$.Statement[1].Action',
  ],
  [
    'KMS205',
    'kms:ViaServce',
    policy(useStatement({ Condition: { StringEquals: { 'kms:ViaServce': 's3.eu-west-1.amazonaws.com' } } })),
    undefined,
    '$.Statement[1].Condition.StringEquals.kms:ViaServce',
  ],
  ['KMS205', 'an S3 key', policy(useStatement({ Condition: { StringLike: { 's3:prefix': 'home/' } } }))],
  [
    'KMS206',
    'a Bool key with StringEquals',
    policy(useStatement({ Condition: { StringEquals: { 'kms:GrantIsForAWSResource': 'true' } } })),
    undefined,
    '$.Statement[1].Condition.StringEquals.kms:GrantIsForAWSResource',
  ],
  [
    'KMS206',
    'a Numeric key with StringLike',
    policy(useStatement({ Condition: { StringLike: { 'aws:MultiFactorAuthAge': '3600' } } })),
  ],
  [
    'KMS206',
    'a String key with Bool',
    policy(useStatement({ Condition: { Bool: { 'kms:ViaService': 'true' } } })),
  ],
  [
    'KMS206',
    'an ARN operator on a string key whose value is not an ARN',
    policy(useStatement({ Condition: { ArnLike: { 'kms:ViaService': 'logs.*.amazonaws.com' } } })),
  ],
  [
    'KMS206',
    'a Bool operator on a Date key',
    policy(useStatement({ Condition: { Bool: { 'kms:ValidTo': 'true' } } })),
  ],
  [
    'KMS301',
    'Principal "*"',
    policy(useStatement({ Principal: '*' })),
    undefined,
    '$.Statement[1].Principal',
  ],
  [
    'KMS301',
    'Principal {"AWS": "*"}',
    policy(useStatement({ Principal: { AWS: '*' } })),
    undefined,
    '$.Statement[1].Principal.AWS',
  ],
  [
    'KMS302',
    'another account outside the allow-list',
    policy(useStatement({ Principal: { AWS: [ROLE, OTHER_ROOT] } })),
    { allowedAccounts: ['111122223333'] },
    '$.Statement[1].Principal.AWS[1]',
  ],
  [
    'KMS302',
    'a bare account ID outside the allow-list',
    policy(useStatement({ Principal: { AWS: '444455556666' } })),
    { allowedAccounts: ['111122223333'] },
  ],
  [
    'KMS303',
    'kms:* to a role',
    policy(useStatement({ Action: 'kms:*' })),
    undefined,
    '$.Statement[1].Principal.AWS',
  ],
  ['KMS303', '* to another account', policy(useStatement({ Principal: { AWS: OTHER_ROOT }, Action: '*' }))],
  [
    'KMS304',
    'kms:PutKeyPolicy to another account',
    policy(useStatement({ Principal: { AWS: OTHER_ROOT }, Action: 'kms:PutKeyPolicy' })),
    undefined,
    '$.Statement[1].Principal.AWS',
  ],
  [
    'KMS304',
    'kms:Put* to anyone, with a condition',
    policy(
      useStatement({
        Principal: '*',
        Action: 'kms:Put*',
        Condition: { Bool: { 'aws:SecureTransport': 'true' } },
      }),
    ),
  ],
  [
    'KMS304',
    'NotAction to another account',
    policy({
      ...without(useStatement({ Principal: { AWS: OTHER_ROOT } }), 'Action'),
      NotAction: 'kms:Decrypt',
    }),
  ],
  [
    'KMS305',
    'only a use statement',
    { Version: '2012-10-17', Statement: [useStatement()] },
    undefined,
    '$.Statement',
  ],
  [
    'KMS305',
    'an unconditional Deny of kms:PutKeyPolicy to the account',
    policy(useStatement({ Effect: 'Deny', Principal: { AWS: '111122223333' }, Action: 'kms:PutKeyPolicy' })),
  ],
  [
    'KMS305',
    'a Deny to everyone',
    policy(useStatement({ Effect: 'Deny', Principal: '*', Action: 'kms:Put*' })),
  ],
  [
    'KMS305',
    'an admin allowed everything but PutKeyPolicy',
    {
      Version: '2012-10-17',
      Statement: [{ ...without(adminStatement, 'Action'), NotAction: 'kms:PutKeyPolicy' }],
    },
  ],
  [
    'KMS306',
    'remediate mode with the guard in another account',
    policy(),
    { mode: 'remediate', guardPrincipal: 'arn:aws:iam::999999999999:role/kms-policy-guard' },
    '$.Statement',
  ],
  [
    'KMS306',
    'remediate mode with a Deny of PutKeyPolicy to the guard',
    policy(useStatement({ Effect: 'Deny', Principal: { AWS: GUARD }, Action: 'kms:PutKeyPolicy' })),
    { mode: 'remediate', guardPrincipal: GUARD },
  ],
  [
    'KMS307',
    'a role unique ID',
    policy(useStatement({ Principal: { AWS: ['AROAEXAMPLEEXAMPLE123', ROLE] } })),
    undefined,
    '$.Statement[1].Principal.AWS[0]',
  ],
  ['KMS307', 'a user unique ID', policy(useStatement({ Principal: { AWS: 'AIDAEXAMPLEEXAMPLE123' } }))],
];

/** For every rule: a near miss that must not trigger it. */
const compliant: Case[] = [
  ['KMS001', 'the seeds example', EXAMPLE_TEXT],
  ['KMS002', 'an object', JSON.stringify(policy())],
  ['KMS003', 'a Sid of 30,000 ASCII characters', policy(useStatement({ Sid: 'a'.repeat(30_000) }))],
  [
    'KMS004',
    'Latin-1 letters, tab, LF and CR',
    JSON.stringify(policy(useStatement({ Sid: 'Café ÿ ñ' })), null, '\t').replace(/\n/g, '\r\n'),
  ],
  [
    'KMS004',
    'an escaped \\u2019 (the text itself is ASCII)',
    JSON.stringify(policy(useStatement({ Sid: 'Bob’s key' }))).replace('’', '\\u2019'),
  ],
  ['KMS005', 'NBSP (U+00A0, printable Latin-1)', policy(useStatement({ Sid: 'Use\u00a0key' }))],
  ['KMS006', 'the seeds example', EXAMPLE_TEXT],
  ['KMS007', 'a plain object', policy()],
  ['KMS101', 'one statement as an object', { Version: '2012-10-17', Statement: adminStatement }],
  ['KMS102', 'Version present', policy()],
  ['KMS103', '2012-10-17', policy()],
  ['KMS104', 'Resource ["*"]', policy(useStatement({ Resource: ['*'] }))],
  [
    'KMS104',
    "the key's own ARN (KMS116 instead)",
    policy(useStatement({ Resource: KEY_ARN })),
    { keyArn: KEY_ARN },
  ],
  [
    'KMS104',
    'a key of the stated account, its ARN not known (KMS116 instead)',
    policy(useStatement({ Resource: 'arn:aws:kms:eu-west-1:111122223333:key/1234' })),
    { keyAccount: '111122223333' },
  ],
  ['KMS116', 'Resource "*"', policy()],
  [
    'KMS116',
    'another key (KMS104 instead)',
    policy(useStatement({ Resource: 'arn:aws:kms:us-east-1:111122223333:key/other' })),
    { keyArn: KEY_ARN },
  ],
  ['KMS105', 'Effect present', policy(useStatement())],
  ['KMS106', 'Deny', policy(useStatement({ Effect: 'Deny' }))],
  [
    'KMS107',
    'NotPrincipal instead of Principal',
    policy({ ...without(useStatement({ Effect: 'Deny' }), 'Principal'), NotPrincipal: { AWS: ROLE } }),
  ],
  [
    'KMS108',
    'NotAction alone',
    policy({ ...without(useStatement({ Effect: 'Deny' }), 'Action'), NotAction: 'kms:Decrypt' }),
  ],
  ['KMS109', 'Action present', policy(useStatement())],
  ['KMS110', 'Resource present', policy(useStatement())],
  ['KMS111', 'every element spelled right', JSON.parse(EXAMPLE_TEXT)],
  ['KMS112', 'string elements', policy(useStatement({ Sid: 'has spaces, allowed in key policies' }))],
  [
    'KMS113',
    'every principal form',
    policy(
      useStatement({
        Principal: {
          AWS: ['111122223333', ROLE, 'arn:aws:sts::111122223333:assumed-role/R/s'],
          Service: 'logs.amazonaws.com',
        },
      }),
    ),
  ],
  ['KMS114', 'object statements', policy(useStatement())],
  ['KMS115', 'distinct Sids', policy(useStatement(), useStatement({ Sid: 'Use 2' }))],
  [
    'KMS120',
    'operator -> key -> values',
    policy(
      useStatement({
        Condition: {
          StringEquals: { 'kms:ViaService': ['s3.eu-west-1.amazonaws.com', 'ec2.eu-west-1.amazonaws.com'] },
        },
      }),
    ),
  ],
  [
    'KMS121',
    'ForAnyValue:StringLike and BoolIfExists',
    policy(
      useStatement({
        Condition: {
          'ForAnyValue:StringLike': { 'kms:EncryptionContextKeys': 'app*' },
          BoolIfExists: { 'aws:MultiFactorAuthPresent': true },
        },
      }),
    ),
  ],
  [
    'KMS123',
    'operators in their documented spelling, with set prefix and IfExists',
    policy(
      useStatement({
        Condition: {
          'ForAnyValue:StringLikeIfExists': { 'aws:TagKeys': 'team*' },
          StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' },
        },
      }),
    ),
  ],
  [
    'KMS122',
    'number and boolean values',
    policy(
      useStatement({
        Condition: {
          NumericLessThan: { 'aws:MultiFactorAuthAge': 3600 },
          Bool: { 'aws:SecureTransport': true },
        },
      }),
    ),
  ],
  ['KMS201', 'KMS:decrypt (case does not matter)', policy(useStatement({ Action: 'KMS:decrypt' }))],
  ['KMS202', 'kms:GenerateDataKey*', policy(useStatement({ Action: 'kms:GenerateDataKey*' }))],
  ['KMS203', '"*"', policy(useStatement({ Action: '*', Principal: { AWS: ROOT } }))],
  ['KMS204', 'kms:Decrypt', policy(useStatement())],
  [
    'KMS205',
    'a templated key kms:EncryptionContext:Department',
    policy(useStatement({ Condition: { StringEquals: { 'kms:EncryptionContext:Department': 'IT' } } })),
  ],
  [
    'KMS206',
    'Bool with a Bool key, StringLike with an ARN key, Null with a Bool key',
    policy(
      useStatement({
        Condition: {
          Bool: { 'kms:GrantIsForAWSResource': 'true' },
          StringLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/app-*' },
          Null: { 'kms:MultiRegion': 'false' },
        },
      }),
    ),
  ],
  [
    'KMS206',
    'ArnLike/ArnEquals on an ARN-valued encryption context key (CloudWatch Logs)',
    policy(
      useStatement({
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:us-east-1:111122223333:log-group:*',
          },
          ArnEquals: {
            'kms:EncryptionContext:aws:logs:arn': ['arn:aws:logs:us-east-1:111122223333:log-group:a'],
          },
        },
      }),
    ),
  ],
  [
    'KMS206',
    'numeric and date operators on kms:ValidTo (a Date key)',
    policy(
      useStatement({
        Condition: {
          NumericLessThanEquals: { 'kms:ValidTo': '1546257599.0' },
          DateLessThan: { 'kms:ValidTo': '2026-12-31T23:59:59Z' },
        },
      }),
    ),
  ],
  [
    'KMS301',
    'Principal "*" with a condition',
    policy(
      useStatement({ Principal: '*', Condition: { StringEquals: { 'kms:CallerAccount': '111122223333' } } }),
    ),
  ],
  [
    'KMS301',
    'Principal "*" on a Deny',
    policy(useStatement({ Effect: 'Deny', Principal: '*', Action: 'kms:ScheduleKeyDeletion' })),
  ],
  [
    'KMS302',
    'every account allowed',
    policy(useStatement({ Principal: { AWS: OTHER_ROOT } })),
    { allowedAccounts: ['111122223333', '444455556666'] },
  ],
  ['KMS302', 'no allow-list', policy(useStatement({ Principal: { AWS: OTHER_ROOT } }))],
  [
    'KMS303',
    'kms:* to a named admin',
    policy(useStatement({ Action: 'kms:*' })),
    { adminPrincipals: [ROLE] },
  ],
  [
    'KMS303',
    'kms:* to the key account given explicitly',
    { Version: '2012-10-17', Statement: [useStatement({ Principal: { AWS: OTHER_ROOT }, Action: 'kms:*' })] },
    { keyAccount: '444455556666' },
  ],
  [
    'KMS304',
    'kms:PutKeyPolicy to a role of the key account',
    policy(useStatement({ Action: 'kms:PutKeyPolicy' })),
  ],
  [
    'KMS305',
    'a conditional Deny does not lock out',
    policy(
      useStatement({
        Effect: 'Deny',
        Principal: '*',
        Action: 'kms:PutKeyPolicy',
        Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'false' } },
      }),
    ),
  ],
  [
    'KMS305',
    'a named admin keeps PutKeyPolicy',
    { Version: '2012-10-17', Statement: [useStatement({ Action: 'kms:Put*' })] },
    { adminPrincipals: [ROLE] },
  ],
  [
    'KMS305',
    'account ID form of the root',
    { Version: '2012-10-17', Statement: [{ ...adminStatement, Principal: { AWS: '111122223333' } }] },
  ],
  [
    'KMS306',
    'remediate mode, guard in the key account (root delegation)',
    policy(),
    { mode: 'remediate', guardPrincipal: GUARD },
  ],
  [
    'KMS306',
    'alert mode with a guard the policy does not name',
    policy(),
    { mode: 'alert', guardPrincipal: 'arn:aws:iam::999999999999:role/kms-policy-guard' },
  ],
  ['KMS307', 'ARN principals', policy(useStatement())],
];

describe('validatePolicy', () => {
  it('finds nothing at all in the complete example key policy of the KMS guide', () => {
    // Act
    const result = validate(EXAMPLE_TEXT);
    // Assess
    expect(result).toEqual({ valid: true, findings: [], byteLength: Buffer.byteLength(EXAMPLE_TEXT) });
  });

  it('finds nothing in the clean base policy the cases below start from', () => {
    expect(validate(policy(useStatement())).findings).toEqual([]);
  });

  const triggeringRows = triggering.map(
    ([code, situation, input, options, path]) => [code, situation, input, options, path] as const,
  );
  it.each(triggeringRows)('%s is reported for %s', (code, _situation, input, options, path) => {
    // Act
    const result = validate(input, options);
    // Assess
    const matching = result.findings.filter((finding) => finding.code === code);
    expect(matching.length).toBeGreaterThan(0);
    if (path !== undefined) expect(matching.map((finding) => finding.path)).toContain(path);
    const rule = RULES.find((candidate) => candidate.code === code);
    expect(matching.every((finding) => finding.level === rule?.level)).toBe(true);
    expect(result.valid).toBe(result.findings.every((finding) => finding.level !== 'error'));
  });

  const compliantRows = compliant.map(
    ([code, situation, input, options]) => [code, situation, input, options] as const,
  );
  it.each(compliantRows)('%s is not reported for %s', (code, _situation, input, options) => {
    expect(codesOf(validate(input, options))).not.toContain(code);
  });

  it('has a triggering and a compliant case for every rule in the catalogue', () => {
    const triggered = new Set(triggering.map(([code]) => code));
    const spared = new Set(compliant.map(([code]) => code));
    expect(RULES.filter((rule) => !triggered.has(rule.code)).map((rule) => rule.code)).toEqual([]);
    expect(RULES.filter((rule) => !spared.has(rule.code)).map((rule) => rule.code)).toEqual([]);
  });

  it('implements every catalogue code by exactly one rule unit, and no code outside the catalogue', () => {
    const implemented = VALIDATION_RULES.map((rule) => rule.code);
    const catalogued = RULES.map((rule) => rule.code);
    expect(implemented.filter((code, index) => implemented.indexOf(code) !== index)).toEqual([]);
    expect([...implemented].sort()).toEqual([...catalogued].sort());
  });

  it('lists every rule once, with a title and a description', () => {
    const codes = RULES.map((rule) => rule.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const rule of RULES) {
      expect(rule.code).toMatch(/^KMS[0-3]\d\d$/);
      expect(rule.title.length).toBeGreaterThan(3);
      expect(rule.description.length).toBeGreaterThan(10);
    }
  });

  describe('messages a person understands', () => {
    it.each([
      [
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    }\n',
        "Not JSON: expected a value, found '}' at line 4 column 5",
      ],
      [
        '{"Version": "2012-10-17"',
        "Not JSON: expected ',' or '}' after a property value, found end of input at line 1 column 25",
      ],
      ['{"a": "b\u0001"}', 'Not JSON: unescaped control character U+0001 in a string at line 1 column 9'],
    ])('gives line and column for %j', (text, message) => {
      const finding = validate(text).findings.find((candidate) => candidate.code === 'KMS001');
      expect(finding?.message).toBe(message);
    });

    it.each([
      ['Actoin', 'Action'],
      ['effect', 'Effect'],
      ['Principals', 'Principal'],
      ['Conditon', 'Condition'],
    ])('suggests the closest element name for %s', (typo, intended) => {
      const base = useStatement({ Condition: { Bool: { 'aws:SecureTransport': 'true' } } });
      const statement = { ...without(base, intended), [typo]: base[intended] };
      const finding = validate(policy(statement)).findings.find((candidate) => candidate.code === 'KMS111');
      expect(finding?.message).toContain(`${typo} → ${intended}`);
    });

    it.each([
      ['kms:Decrpyt', 'kms:Decrypt'],
      ['kms:GenerateDataKy', 'kms:GenerateDataKey'],
      ['kms:PutKeyPolcy', 'kms:PutKeyPolicy'],
    ])('suggests the real action for %s', (typo, intended) => {
      const finding = validate(policy(useStatement({ Action: typo }))).findings.find(
        (f) => f.code === 'KMS201',
      );
      expect(finding?.message).toContain(`did you mean "${intended}"`);
    });

    it('suggests the closest condition key and operator', () => {
      const result = validate(
        policy(useStatement({ Condition: { StringEqual: { 'kms:CallerAcount': '111122223333' } } })),
      );
      expect(result.findings.find((f) => f.code === 'KMS121')?.message).toContain(
        'did you mean "StringEquals"',
      );
      expect(result.findings.find((f) => f.code === 'KMS205')?.message).toContain(
        'did you mean "kms:CallerAccount"',
      );
    });

    it('reports the code point and the line and column of a character KMS rejects', () => {
      const text = `{\n  "Version": "2012-10-17",\n  "Id": "Bob’s",\n  "Statement": []\n}`;
      const finding = validate(text).findings.find((candidate) => candidate.code === 'KMS004');
      expect(finding).toEqual({
        code: 'KMS004',
        level: 'error',
        path: '$.Id',
        message:
          'Character U+2019 (’) at line 3 column 13 is not allowed in a key policy (only tab, LF, CR and U+0020-U+00FF)',
      });
    });

    it('names the missing guard action in remediate mode', () => {
      const allowsOnlyGet = {
        Version: '2012-10-17',
        Statement: [
          { ...adminStatement, Action: 'kms:PutKeyPolicy' },
          useStatement({
            Principal: { AWS: 'arn:aws:iam::999999999999:role/guard' },
            Action: 'kms:GetKeyPolicy',
          }),
        ],
      };
      const result = validate(allowsOnlyGet, {
        mode: 'remediate',
        guardPrincipal: 'arn:aws:iam::999999999999:role/guard',
      });
      const finding = result.findings.find((candidate) => candidate.code === 'KMS306');
      expect(finding?.message).toContain('must be able to call kms:PutKeyPolicy,');
      expect(finding?.message).not.toContain('kms:GetKeyPolicy');
    });
  });

  it('reads a number of any length as JSON (a 401-digit Id is a wrong element value, not broken JSON)', () => {
    const text = `{"Version":"2012-10-17","Id":${'1'.repeat(401)},"Statement":[]}`;
    const result = validate(text);
    expect(codesOf(result)).not.toContain('KMS001');
  });

  describe('size', () => {
    it('counts UTF-8 bytes, not characters', () => {
      // Prepare: 2-byte Latin-1 characters push the bytes over the limit while the characters stay under it
      const base = JSON.stringify(policy(useStatement({ Sid: '' })));
      const sid = 'é'.repeat(Math.ceil((MAX_POLICY_BYTES - base.length) / 2) + 1);
      const text = JSON.stringify(policy(useStatement({ Sid: sid })));
      // Act
      const result = validate(text);
      // Assess
      expect(text.length).toBeLessThanOrEqual(MAX_POLICY_BYTES);
      expect(result.byteLength).toBe(Buffer.byteLength(text, 'utf8'));
      expect(result.byteLength).toBeGreaterThan(MAX_POLICY_BYTES);
      expect(codesOf(result)).toContain('KMS003');
    });

    it('accepts exactly 32,768 bytes', () => {
      const base = JSON.stringify(policy(useStatement({ Sid: '' })));
      const text = JSON.stringify(policy(useStatement({ Sid: 'a'.repeat(MAX_POLICY_BYTES - base.length) })));
      const result = validate(text);
      expect(result.byteLength).toBe(MAX_POLICY_BYTES);
      expect(codesOf(result)).not.toContain('KMS003');
    });

    it('summarises a flood of bad characters instead of listing every one', () => {
      const result = validate(policy(useStatement({ Sid: '✓'.repeat(100) })));
      const characterFindings = result.findings.filter((finding) => finding.code === 'KMS004');
      expect(characterFindings).toHaveLength(21);
      expect(characterFindings.some((finding) => finding.message === '... and 80 more such characters')).toBe(
        true,
      );
    });
  });

  it('sorts errors first, then by path with statement numbers in numeric order', () => {
    // Prepare: eleven statements so that Statement[10] sorts after Statement[2]
    const statements = Array.from({ length: 10 }, (_, index) => useStatement({ Sid: `s${index}` }));
    const broken = policy(...statements);
    const list = broken.Statement as Statement[];
    list[10] = useStatement({ Sid: 's0', Resource: 'arn:aws:kms:::key/1' });
    list[2] = useStatement({ Sid: 's0', Effect: 'allow' });
    // Act
    const findings = validate(broken).findings;
    // Assess
    expect(findings.map((finding) => `${finding.level} ${finding.path}`)).toEqual([
      'error $.Statement[2].Effect',
      'error $.Statement[10].Resource',
      'warning $.Statement[2].Sid',
      'warning $.Statement[10].Sid',
    ]);
  });

  it('finds the errors of the put-key-policy CLI example output (kms:Describe, kms:List)', () => {
    const cliExample = JSON.parse(readFileSync(join(FIXTURES, 'example-key-policy.json'), 'utf8')) as {
      Statement: Statement[];
    };
    cliExample.Statement.push(
      useStatement({ Sid: 'Allow Use of Key', Action: ['kms:Describe', 'kms:List'] }),
    );
    const result = validate(cliExample);
    expect(result.valid).toBe(false);
    expect(result.findings.filter((finding) => finding.code === 'KMS201').map((f) => f.path)).toEqual([
      '$.Statement[4].Action[0]',
      '$.Statement[4].Action[1]',
    ]);
  });

  describe('properties', () => {
    const codes = new Set(RULES.map((rule) => rule.code));
    const wellFormed = (result: ValidationResult): boolean =>
      result.findings.every((finding) => codes.has(finding.code) && finding.path.startsWith('$')) &&
      result.valid === result.findings.every((finding) => finding.level !== 'error');

    it('never throws for arbitrary JSON values, and every code is in the catalogue', () => {
      fc.assert(
        fc.property(fc.jsonValue(), (value) => {
          expect(wellFormed(validate(value))).toBe(true);
          expect(wellFormed(validate(JSON.stringify(value) ?? ''))).toBe(true);
        }),
      );
    });

    it('never throws for arbitrary strings, and every code is in the catalogue', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary' }), (text) => {
          expect(wellFormed(validate(text))).toBe(true);
        }),
      );
    });

    it('never throws for policy-shaped documents with arbitrary values', () => {
      const element = fc.constantFrom(
        'Version',
        'Id',
        'Statement',
        'Sid',
        'Effect',
        'Principal',
        'NotPrincipal',
        'Action',
        'NotAction',
        'Resource',
        'NotResource',
        'Condition',
        'AWS',
        'StringEquals',
        'kms:ViaService',
      );
      const shaped = fc.letrec((tie) => ({
        value: fc.oneof(
          { depthSize: 'small' },
          fc.jsonValue({ maxDepth: 1 }),
          fc.constantFrom(
            '*',
            'kms:*',
            'Allow',
            'Deny',
            '2012-10-17',
            ROOT,
            'kms:Decrpyt',
            'AROAEXAMPLEEXAMPLE1',
          ),
          fc.array(tie('value'), { maxLength: 3 }),
          fc.dictionary(element, tie('value'), { maxKeys: 4 }),
        ),
      })).value;
      fc.assert(
        fc.property(
          shaped,
          fc.constantFrom<ValidateOptions>(
            {},
            { mode: 'remediate', guardPrincipal: GUARD, allowedAccounts: ['111122223333'] },
          ),
          (value, options) => {
            expect(wellFormed(validate({ Version: '2012-10-17', Statement: value }, options))).toBe(true);
            expect(wellFormed(validate(value, options))).toBe(true);
          },
        ),
      );
    });

    it('agrees with JSON.parse about what is JSON', () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string(),
            fc.jsonValue().map((value) => JSON.stringify(value) ?? ''),
          ),
          (text) => {
            let parses = true;
            try {
              JSON.parse(text);
            } catch {
              parses = false;
            }
            expect(codesOf(validate(text)).includes('KMS001')).toBe(!parses);
          },
        ),
      );
    });
  });

  it('emitted only codes that the catalogue lists (across every test above)', () => {
    const listed = new Set(RULES.map((rule) => rule.code));
    expect([...emittedCodes].filter((code) => !listed.has(code))).toEqual([]);
    expect(emittedCodes.size).toBeGreaterThanOrEqual(RULES.length);
  });
});

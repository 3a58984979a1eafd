import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  canonicalConditionValue,
  normalizedToDocument,
  normalizePolicy,
  operatorValueType,
  statementKey,
} from '../../../src/policy/normalize';
import { parsePolicy } from '../../../src/policy/parse';
import type { PolicyDocument, PolicyStatement } from '../../../src/policy/types';

const example = JSON.parse(
  readFileSync(join(__dirname, 'fixtures', 'example-key-policy.json'), 'utf8'),
) as PolicyDocument;

function one(statement: PolicyStatement, partition?: string) {
  const normalized = normalizePolicy({ Statement: [statement] }, partition ? { partition } : undefined);
  const first = normalized.statements[0];
  if (!first) throw new Error('no statement');
  return first;
}

const base: PolicyStatement = {
  Effect: 'Allow',
  Principal: { AWS: 'arn:aws:iam::111122223333:role/App' },
  Action: 'kms:Decrypt',
  Resource: '*',
};

describe('normalizePolicy', () => {
  it('turns "*" and {"AWS": "*"} into the same principal', () => {
    expect(one({ ...base, Principal: '*' }).principals).toEqual(['*']);
    expect(one({ ...base, Principal: { AWS: '*' } }).principals).toEqual(['*']);
    expect(one({ ...base, Principal: { AWS: ['*', '*'] } }).principals).toEqual(['*']);
  });

  it('keeps a service wildcard distinct from everyone', () => {
    expect(one({ ...base, Principal: { Service: '*' } }).principals).toEqual(['Service:*']);
  });

  it.each([
    [undefined, 'AWS:arn:aws:iam::444455556666:root'],
    ['aws-cn', 'AWS:arn:aws-cn:iam::444455556666:root'],
    ['aws-us-gov', 'AWS:arn:aws-us-gov:iam::444455556666:root'],
  ])('writes a 12-digit account ID in partition %s as its account-root ARN', (partition, expected) => {
    expect(one({ ...base, Principal: { AWS: '444455556666' } }, partition).principals).toEqual([expected]);
  });

  it('keeps ARN principals exactly as written (they are case-sensitive)', () => {
    expect(
      one({ ...base, Principal: { AWS: ['arn:aws:iam::1:role/B', 'arn:aws:iam::1:role/b'] } }).principals,
    ).toEqual(['AWS:arn:aws:iam::1:role/B', 'AWS:arn:aws:iam::1:role/b']);
  });

  it('lower-cases, sorts and de-duplicates actions', () => {
    expect(
      one({ ...base, Action: ['KMS:Encrypt', 'kms:decrypt', 'kms:Decrypt', 'kms:Describe*'] }).actions,
    ).toEqual(['kms:decrypt', 'kms:describe*', 'kms:encrypt']);
  });

  it('keeps resources case-sensitive but sorted and unique', () => {
    expect(one({ ...base, Resource: ['b', 'B', 'b'] }).resources).toEqual(['B', 'b']);
  });

  it('lower-cases condition keys but keeps the operator exactly as written', () => {
    expect(
      one({ ...base, Condition: { StringEquals: { 'KMS:ViaService': 'S3.amazonaws.com' } } }).conditions,
    ).toEqual([{ operator: 'StringEquals', key: 'kms:viaservice', values: ['S3.amazonaws.com'] }]);
  });

  it('treats "Condition": {} as no condition', () => {
    expect(one({ ...base, Condition: {} }).conditions).toEqual([]);
    expect(statementKey(one({ ...base, Condition: {} }))).toBe(statementKey(one(base)));
  });

  it.each([
    ['Bool', true, 'true'],
    ['Bool', 'true', 'true'],
    ['BoolIfExists', false, 'false'],
    ['Null', 'false', 'false'],
    ['NumericEquals', 1, '1'],
    ['NumericEquals', '1', '1'],
    ['NumericLessThanEquals', '1.0', '1'],
    ['NumericGreaterThan', ' 3600 ', '3600'],
    ['ForAnyValue:NumericEquals', '1e3', '1000'],
    ['NumericEquals', 'abc', 'abc'],
    ['StringEquals', 1, '1'],
    ['StringEquals', '1.0', '1.0'],
    ['StringEquals', 'MiXeD', 'MiXeD'],
    ['StringEqualsIgnoreCase', 'MiXeD', 'mixed'],
    ['StringNotEqualsIgnoreCaseIfExists', 'MiXeD', 'mixed'],
    ['StringLike', 'MiXeD*', 'MiXeD*'],
  ])('types %s value %p as %p', (operator, value, expected) => {
    expect(canonicalConditionValue(value, operatorValueType(operator))).toBe(expected);
  });

  it('sorts and de-duplicates condition values after typing them', () => {
    expect(
      one({ ...base, Condition: { NumericEquals: { 'aws:MultiFactorAuthAge': [2, '1', '2.0', 1] } } })
        .conditions[0]?.values,
    ).toEqual(['1', '2']);
  });

  it('sorts conditions by operator, then key', () => {
    const conditions = one({
      ...base,
      Condition: {
        StringLike: { 'kms:b': 'x' },
        Bool: { 'aws:SecureTransport': true },
        StringEquals: { 'kms:z': 'x', 'kms:a': 'y' },
      },
    }).conditions;
    expect(conditions.map((condition) => `${condition.operator} ${condition.key}`)).toEqual([
      'Bool aws:securetransport',
      'StringEquals kms:a',
      'StringEquals kms:z',
      'StringLike kms:b',
    ]);
  });

  it('records which half of each element pair is used, and keeps Sid and index', () => {
    // Act
    const statement = one({
      Sid: 'S',
      Effect: 'Deny',
      NotPrincipal: { AWS: 'arn:aws:iam::1:root' },
      NotAction: 'kms:Decrypt',
      NotResource: 'x',
    });

    // Assess
    expect(statement).toMatchObject({
      sid: 'S',
      index: 0,
      principalKind: 'NotPrincipal',
      actionKind: 'NotAction',
      resourceKind: 'NotResource',
    });
  });

  it('keeps both halves when a statement wrongly carries Action and NotAction, so a change to either is seen', () => {
    const withBoth = one({ ...base, NotAction: 'kms:Encrypt' });
    expect(withBoth.actions).toEqual(['kms:decrypt', '!kms:encrypt']);
    expect(statementKey(withBoth)).not.toBe(statementKey(one(base)));
  });

  it('leaves Sid and Id out of the statement key (they are cosmetic)', () => {
    expect(statementKey(one({ ...base, Sid: 'A' }))).toBe(statementKey(one({ ...base, Sid: 'B' })));
  });

  it('is idempotent on the seed example key policy', () => {
    // Prepare
    const once = normalizePolicy(example);

    // Act
    const twice = normalizePolicy(normalizedToDocument(once));

    // Assess
    expect(twice).toEqual(once);
  });

  it('is idempotent when one operator tests the same key twice in different case', () => {
    // Prepare
    const parsed = parsePolicy({
      Statement: [{ ...base, Condition: { StringEquals: { 'kms:ViaService': 'a', 'KMS:viaservice': 'b' } } }],
    });
    if (!parsed.ok) throw new Error('fixture must parse');
    const once = normalizePolicy(parsed.document);

    // Act
    const twice = normalizePolicy(normalizedToDocument(once));

    // Assess
    expect(once.statements[0]?.conditions).toHaveLength(2);
    expect(twice).toEqual(once);
  });
});

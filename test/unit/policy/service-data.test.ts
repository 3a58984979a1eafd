import {
  expandActionPattern,
  findConditionKey,
  findKmsAction,
  hasAccessLevel,
  KMS_ACTIONS,
} from '../../../src/policy/service-data';

describe('KMS service data snapshot', () => {
  it.each([
    ['kms:Describe*', ['kms:DescribeCustomKeyStores', 'kms:DescribeKey']],
    ['KMS:decrypt', ['kms:Decrypt']],
    ['kms:Decrpyt', []],
    ['s3:GetObject', []],
  ])('expands %s to the KMS actions it matches today', (pattern, expected) => {
    expect(expandActionPattern(pattern)).toEqual(expected);
  });

  it('lists the KMS actions in the order a reader expects (the same as localeCompare), without loading ICU', () => {
    const names = KMS_ACTIONS.map((action) => action.name);
    expect(names).toEqual([...names].sort((a, b) => a.localeCompare(b)));
  });

  it('expands kms:* to every KMS action, including PutKeyPolicy', () => {
    const all = expandActionPattern('kms:*');
    expect(all.length).toBeGreaterThan(40);
    expect(all).toContain('kms:PutKeyPolicy');
  });

  it('finds actions case-insensitively and knows their access level', () => {
    expect(findKmsAction('KMS:putkeypolicy')?.name).toBe('kms:PutKeyPolicy');
    expect(hasAccessLevel('kms:CreateGrant', 'Permissions management')).toBe(true);
    expect(hasAccessLevel('kms:Decrypt', 'Permissions management')).toBe(false);
  });

  it.each([
    ['kms:viaservice', 'kms:ViaService', 'String'],
    ['kms:GrantIsForAWSResource', 'kms:GrantIsForAWSResource', 'Bool'],
    ['kms:EncryptionContext:Department', 'kms:EncryptionContext:${EncryptionContextKey}', 'String'],
    ['aws:PrincipalTag/team', 'aws:PrincipalTag/tag-key', 'String'],
    ['aws:MultiFactorAuthAge', 'aws:MultiFactorAuthAge', 'Numeric'],
  ])('types condition key %s', (key, canonical, type) => {
    expect(findConditionKey(key)).toEqual({ key: canonical, type });
  });

  it('does not know a misspelt condition key', () => {
    expect(findConditionKey('kms:ViaServce')).toBeUndefined();
  });
});

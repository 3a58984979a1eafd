/**
 * Resource (issue 11.2): "*" and this key's own ARN (or key/* of its account and Region) mean the
 * same in a key policy. Validation accepts the ARN with a warning (KMS116); compare treats them as
 * equal when it knows the key's ARN, and as a change when it does not.
 */
import { comparePolicies } from '../../../src/policy/compare';
import { resourceNamesKey } from '../../../src/policy/key-arn';
import { validatePolicy } from '../../../src/policy/validate';

const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';

function keyPolicy(resource: string | string[]): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::111122223333:root' },
        Action: 'kms:*',
        Resource: resource,
      },
    ],
  };
}

describe('a Resource that names the key', () => {
  it.each([
    ['*', true],
    [KEY_ARN, true],
    ['arn:aws:kms:eu-west-1:111122223333:key/*', true],
    ['arn:aws:kms:*:111122223333:key/*', true],
    ['arn:aws:kms:eu-west-1:111122223333:key/1234abcd-????-34cd-56ef-1234567890ab', true],
    ['arn:aws:kms:us-east-1:111122223333:key/*', false],
    ['arn:aws:kms:eu-west-1:444455556666:key/*', false],
    ['arn:aws:kms:eu-west-1:111122223333:key/other', false],
    ['arn:aws:kms:eu-west-1:111122223333:alias/*', false],
    [KEY_ARN.toUpperCase(), false],
  ])('%s names the key: %s', (resource, names) => {
    expect(resourceNamesKey(resource, KEY_ARN)).toBe(names);
  });

  it.each([
    [KEY_ARN, 'equivalent'],
    ['arn:aws:kms:eu-west-1:111122223333:key/*', 'equivalent'],
    [['*', KEY_ARN], 'equivalent'],
    ['arn:aws:kms:eu-west-1:111122223333:key/other', 'drift'],
  ])('compare with the key ARN known: "*" vs %j is %s', (resource, status) => {
    // Act
    const result = comparePolicies(keyPolicy('*'), keyPolicy(resource), { keyArn: KEY_ARN });
    // Assess
    expect(result.status).toBe(status);
  });

  it("compare without the key's ARN reports the ARN as a change of Resource", () => {
    // Act
    const result = comparePolicies(keyPolicy('*'), keyPolicy(KEY_ARN));
    // Assess
    expect(result.status).toBe('drift');
    expect(result.diff.statements[0]?.resources).toEqual({ added: [KEY_ARN], removed: ['*'] });
  });

  it('compare with the key ARN known lists the ARN as a cosmetic difference', () => {
    // Act
    const result = comparePolicies(keyPolicy('*'), keyPolicy(KEY_ARN), { keyArn: KEY_ARN });
    // Assess
    expect(result.cosmetic.map((difference) => difference.kind)).toContain('value-form');
  });

  it('validation accepts the key ARN with a warning that recommends "*" (KMS116)', () => {
    // Act
    const result = validatePolicy(keyPolicy(KEY_ARN), { keyArn: KEY_ARN });
    // Assess
    expect(result.valid).toBe(true);
    expect(result.findings).toEqual([
      {
        code: 'KMS116',
        level: 'warning',
        path: '$.Statement[0].Resource',
        message: `Resource "${KEY_ARN}" names this key (${KEY_ARN}); KMS accepts it, but in a key policy "*" already means this key: write "*" (the guard compares them as equal only when it knows the key's ARN)`,
      },
    ]);
  });

  it.each([
    [
      'another key',
      'arn:aws:kms:eu-west-1:111122223333:key/other',
      { keyArn: KEY_ARN },
      `Resource must be "*" in a key policy, not "arn:aws:kms:eu-west-1:111122223333:key/other": it does not name this key (${KEY_ARN}), so the statement never applies`,
    ],
    [
      "a key of another account than the key's",
      'arn:aws:kms:eu-west-1:444455556666:key/other',
      { keyAccount: '111122223333' },
      `Resource must be "*" in a key policy, not "arn:aws:kms:eu-west-1:444455556666:key/other": a key of account 444455556666, not of the key's account 111122223333, so the statement never applies`,
    ],
    [
      "another service's ARN",
      'arn:aws:s3:::amzn-s3-demo-bucket',
      {},
      'Resource must be "*" in a key policy, not "arn:aws:s3:::amzn-s3-demo-bucket": an ARN of s3; a key policy governs only its own key',
    ],
  ])('validation refuses %s (KMS104) and says why', (_what, resource, options, message) => {
    // Act
    const result = validatePolicy(keyPolicy(resource), options);
    // Assess
    expect(result.valid).toBe(false);
    expect(result.findings).toContainEqual({
      code: 'KMS104',
      level: 'error',
      path: '$.Statement[0].Resource',
      message,
    });
  });
});

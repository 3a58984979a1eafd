import { accessChanges, effectiveKmsActions, principalAccount } from '../../../src/policy/access';
import { normalizePolicy } from '../../../src/policy/normalize';
import { expandActionPattern, KMS_ACTIONS } from '../../../src/policy/service-data';
import type { PolicyStatement } from '../../../src/policy/types';

const ROOT = 'arn:aws:iam::111122223333:root';
const ROLE = 'arn:aws:iam::111122223333:role/App';
const OTHER_ACCOUNT = 'arn:aws:iam::999988887777:root';

function normalized(...statements: PolicyStatement[]) {
  return normalizePolicy({ Version: '2012-10-17', Statement: statements });
}

const admin: PolicyStatement = { Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' };
const use: PolicyStatement = {
  Effect: 'Allow',
  Principal: { AWS: ROLE },
  Action: ['kms:Decrypt', 'kms:Encrypt'],
  Resource: '*',
};

describe('accessChanges', () => {
  it('lists the KMS actions a principal newly gained, wildcards expanded', () => {
    // Act
    const changes = accessChanges(
      normalized(admin, use),
      normalized(admin, { ...use, Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:Describe*'] }),
    );

    // Assess
    expect(changes).toEqual([
      {
        principal: `AWS:${ROLE}`,
        gained: expandActionPattern('kms:Describe*'),
        lost: [],
        conditions: [],
        anyone: false,
        crossAccount: false,
        severity: 'high',
      },
    ]);
  });

  it('lists lost actions as medium (narrowing only)', () => {
    // Act
    const changes = accessChanges(
      normalized(admin, use),
      normalized(admin, { ...use, Action: 'kms:Decrypt' }),
    );

    // Assess
    expect(changes).toEqual([
      expect.objectContaining({
        principal: `AWS:${ROLE}`,
        gained: [],
        lost: ['kms:Encrypt'],
        severity: 'medium',
      }),
    ]);
  });

  it('calls out everyone (*) as critical, with the conditions that still restrict it', () => {
    // Prepare
    const live = normalized(admin, use, {
      Effect: 'Allow',
      Principal: '*',
      Action: 'kms:Decrypt',
      Resource: '*',
      Condition: { StringEquals: { 'kms:CallerAccount': '111122223333' } },
    });

    // Act
    const changes = accessChanges(normalized(admin, use), live);

    // Assess
    expect(changes).toEqual([
      {
        principal: '*',
        gained: ['kms:Decrypt'],
        lost: [],
        conditions: ['StringEquals kms:calleraccount=[111122223333]'],
        anyone: true,
        crossAccount: false,
        severity: 'critical',
      },
    ]);
  });

  it('calls out a principal from an account the desired document does not name as cross-account', () => {
    // Act
    const changes = accessChanges(
      normalized(admin, use),
      normalized(admin, use, { ...use, Principal: { AWS: '999988887777' } }),
    );

    // Assess
    expect(changes).toEqual([
      expect.objectContaining({
        principal: `AWS:${OTHER_ACCOUNT}`,
        crossAccount: true,
        severity: 'critical',
      }),
    ]);
  });

  it('rates gaining a Permissions management action as critical', () => {
    const changes = accessChanges(
      normalized(admin, use),
      normalized(admin, { ...use, Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:CreateGrant'] }),
    );
    expect(changes[0]).toMatchObject({ gained: ['kms:CreateGrant'], severity: 'critical' });
  });

  it('expands NotAction to every KMS action except the listed ones', () => {
    // Act
    const changes = accessChanges(
      normalized(admin),
      normalized(admin, { ...use, Action: undefined, NotAction: 'kms:ScheduleKeyDeletion' }),
    );

    // Assess
    expect(changes[0]?.gained).toHaveLength(KMS_ACTIONS.length - 1);
    expect(changes[0]?.gained).not.toContain('kms:ScheduleKeyDeletion');
    expect(changes[0]?.severity).toBe('critical');
  });

  it('shows an added condition as lost unconditional access, with the new condition', () => {
    // Act
    const changes = accessChanges(
      normalized(admin, use),
      normalized(admin, { ...use, Condition: { Bool: { 'aws:SecureTransport': true } } }),
    );

    // Assess
    expect(changes).toEqual([
      expect.objectContaining({
        gained: [],
        lost: ['kms:Decrypt', 'kms:Encrypt'],
        conditions: ['Bool aws:securetransport=[true]'],
        severity: 'medium',
      }),
    ]);
  });

  it('shows a removed condition as gained access', () => {
    const changes = accessChanges(
      normalized(admin, { ...use, Condition: { Bool: { 'aws:SecureTransport': true } } }),
      normalized(admin, use),
    );
    expect(changes[0]).toMatchObject({ gained: ['kms:Decrypt', 'kms:Encrypt'], lost: [], severity: 'high' });
  });

  it('removes actions an unconditional Deny takes away, for everyone or for the named principal', () => {
    // Prepare
    const denyEveryone: PolicyStatement = {
      Effect: 'Deny',
      Principal: '*',
      Action: 'kms:Encrypt',
      Resource: '*',
    };

    // Act
    const changes = accessChanges(normalized(admin, use), normalized(admin, use, denyEveryone));

    // Assess
    expect(changes.map((change) => [change.principal, change.lost])).toEqual([
      [`AWS:${ROLE}`, ['kms:Encrypt']],
      [`AWS:${ROOT}`, ['kms:Encrypt']],
    ]);
  });

  it('does not let a NotPrincipal Deny take access from the principals it excludes', () => {
    // Prepare
    const denyOthers: PolicyStatement = {
      Effect: 'Deny',
      NotPrincipal: { AWS: [ROOT, ROLE] },
      Action: 'kms:*',
      Resource: '*',
    };

    // Act
    const changes = accessChanges(normalized(admin, use), normalized(admin, use, denyOthers));

    // Assess
    expect(changes).toEqual([]);
  });

  it('sorts the most severe change first', () => {
    // Prepare
    const live = normalized(
      admin,
      { ...use, Action: 'kms:Decrypt' },
      { ...use, Principal: '*', Action: 'kms:DescribeKey' },
    );

    // Act
    const changes = accessChanges(normalized(admin, use), live);

    // Assess
    expect(changes.map((change) => [change.principal, change.severity])).toEqual([
      ['*', 'critical'],
      [`AWS:${ROLE}`, 'medium'],
    ]);
  });
});

describe('access helpers', () => {
  it.each([
    ['AWS:arn:aws:iam::111122223333:role/App', '111122223333'],
    ['AWS:arn:aws-cn:sts::444455556666:assumed-role/R/s', '444455556666'],
    ['Service:logs.amazonaws.com', undefined],
    ['*', undefined],
  ])('finds the account of %s', (principal, account) => {
    expect(principalAccount(principal)).toBe(account);
  });

  it('ignores non-KMS actions when expanding a statement', () => {
    const [statement] = normalized({ ...use, Action: ['s3:GetObject', 'kms:Decrypt'] }).statements;
    expect(statement && [...effectiveKmsActions(statement)]).toEqual(['kms:Decrypt']);
  });
});

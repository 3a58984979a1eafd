/**
 * Compare by effective access (issue 11.4): statements split or merged with identical conditions,
 * duplicates, and statements covered by a wider one are cosmetic; a real change in who may do what
 * stays drift with its severity and access view; a wildcard is still not its expansion.
 */
import { actionCovers } from '../../../src/policy/atoms';
import { comparePolicies } from '../../../src/policy/compare';

const ROOT = 'arn:aws:iam::111122223333:root';
const APP = 'arn:aws:iam::111122223333:role/App';
const ETL = 'arn:aws:iam::111122223333:role/Etl';
const ADMIN = 'arn:aws:iam::111122223333:role/Admin';
const INTRUDER = 'arn:aws:iam::111122223333:role/Intruder';

type Statement = Record<string, unknown>;
const allow = (principals: string[], actions: string[], extra: Statement = {}): Statement => ({
  Effect: 'Allow',
  Principal: { AWS: principals },
  Action: actions,
  Resource: '*',
  ...extra,
});
const doc = (...statements: Statement[]) => ({
  Version: '2012-10-17',
  Statement: [allow([ROOT], ['kms:*']), ...statements],
});
const GRANT_CONDITION = { Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } };

describe('compare by effective access', () => {
  it.each<[string, Statement[], Statement[]]>([
    [
      'one statement split by its actions',
      [allow([APP], ['kms:Decrypt', 'kms:Encrypt'])],
      [allow([APP], ['kms:Decrypt']), allow([APP], ['kms:Encrypt'])],
    ],
    [
      'one statement split by its principals, with its conditions',
      [allow([APP, ETL], ['kms:CreateGrant'], GRANT_CONDITION)],
      [
        allow([APP], ['kms:CreateGrant'], GRANT_CONDITION),
        allow([ETL], ['kms:CreateGrant'], GRANT_CONDITION),
      ],
    ],
    [
      'a statement covered by a wildcard statement of the same principal',
      [allow([ADMIN], ['kms:Describe*'])],
      [allow([ADMIN], ['kms:Describe*']), allow([ADMIN], ['kms:DescribeKey'])],
    ],
    [
      'a statement covered by the same grant without its condition',
      [allow([APP], ['kms:Decrypt'])],
      [allow([APP], ['kms:Decrypt']), allow([APP], ['kms:Decrypt'], GRANT_CONDITION)],
    ],
    [
      'a duplicate statement',
      [allow([APP], ['kms:Decrypt'])],
      [allow([APP], ['kms:Decrypt']), allow([APP], ['kms:Decrypt'])],
    ],
  ])('%s is equivalent, listed as cosmetic', (_what, desired, live) => {
    // Act
    const result = comparePolicies(doc(...desired), doc(...live));
    // Assess
    expect(result.status).toBe('equivalent');
    expect(result.diff.statements).toEqual([]);
    expect(result.diff.severity).toBe('info');
    expect(
      result.cosmetic.some((difference) => /split, merged|repeats statement/.test(difference.message)),
    ).toBe(true);
  });

  it('a split beside a real change reports only the change, with who gained access', () => {
    // Prepare: the split statement is cosmetic; ETL gaining kms:Decrypt is not
    const desired = doc(allow([APP], ['kms:Decrypt', 'kms:Encrypt']));
    const live = doc(
      allow([APP], ['kms:Decrypt']),
      allow([APP, ETL], ['kms:Encrypt']),
      allow([ETL], ['kms:Decrypt']),
    );
    // Act
    const result = comparePolicies(desired, live);
    // Assess
    expect(result.status).toBe('drift');
    expect(result.diff.severity).toBe('high');
    expect(result.diff.access).toEqual([
      expect.objectContaining({ principal: `AWS:${ETL}`, gained: ['kms:Decrypt', 'kms:Encrypt'], lost: [] }),
    ]);
  });

  it('a principal moved to another statement beside a real change is not listed as removed', () => {
    // Prepare: ETL moves out of the pair's statement (still granted live); INTRUDER is the change
    const desired = doc(allow([APP, ADMIN, ETL], ['kms:Decrypt']));
    const live = doc(allow([APP, ADMIN, INTRUDER], ['kms:Decrypt']), allow([ETL], ['kms:Decrypt']));
    // Act
    const result = comparePolicies(desired, live);
    // Assess
    expect(result.diff.statements).toEqual([
      expect.objectContaining({
        kind: 'changed',
        summary: `Allow statement changed: adds principal ${INTRUDER}`,
        principals: { added: [`AWS:${INTRUDER}`], removed: [] },
        notes: [
          `Moved between statements, no change in access: principal ${ETL} (another statement grants the same)`,
        ],
      }),
    ]);
    expect(result.diff.access).toEqual([
      expect.objectContaining({ principal: `AWS:${INTRUDER}`, gained: ['kms:Decrypt'], lost: [] }),
    ]);
  });

  it('an action moved to another statement beside a real change is not listed as removed', () => {
    // Prepare: kms:Encrypt moves to a statement of its own; kms:ReEncryptFrom is new
    const desired = doc(allow([APP], ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey']));
    const live = doc(
      allow([APP], ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncryptFrom']),
      allow([APP], ['kms:Encrypt']),
    );
    // Act
    const result = comparePolicies(desired, live);
    // Assess
    expect(result.diff.statements).toEqual([
      expect.objectContaining({
        kind: 'changed',
        summary: 'Allow statement changed: adds action kms:ReEncryptFrom',
        actions: { added: ['kms:ReEncryptFrom'], removed: [] },
        notes: [
          'Moved between statements, no change in access: action kms:Encrypt (another statement grants the same)',
        ],
      }),
    ]);
    expect(result.diff.severity).toBe('high');
    expect(result.diff.access).toEqual([
      expect.objectContaining({ principal: `AWS:${APP}`, gained: ['kms:ReEncryptFrom'], lost: [] }),
    ]);
  });

  it('an added statement lists as added only the principals and actions no desired statement grants', () => {
    // Prepare: APP had kms:Decrypt and kms:PutKeyPolicy; the new statement gives ETL kms:Decrypt too
    const desired = doc(allow([APP], ['kms:Decrypt', 'kms:PutKeyPolicy']));
    const live = doc(
      allow([APP], ['kms:Decrypt', 'kms:PutKeyPolicy']),
      allow([APP, ETL], ['kms:Decrypt'], { Sid: 'New' }),
    );
    // Act
    const result = comparePolicies(desired, live);
    // Assess: high (ETL gains kms:Decrypt), not critical: nobody gains kms:PutKeyPolicy
    expect(result.diff.statements).toEqual([
      expect.objectContaining({
        kind: 'added',
        severity: 'high',
        principals: { added: [`AWS:${ETL}`], removed: [] },
        notes: [
          `Moved between statements, no change in access: principal ${APP} (another statement grants the same)`,
        ],
      }),
    ]);
    expect(result.diff.severity).toBe('high');
  });

  it('an added statement re-granting a powerful action is rated by what is new', () => {
    // Prepare: ADMIN already had kms:PutKeyPolicy; only kms:Decrypt is new
    const desired = doc(allow([ADMIN], ['kms:PutKeyPolicy']));
    const live = doc(
      allow([ADMIN], ['kms:PutKeyPolicy']),
      allow([ADMIN], ['kms:Decrypt', 'kms:PutKeyPolicy']),
    );
    // Act
    const result = comparePolicies(desired, live);
    // Assess
    expect(result.diff.statements).toEqual([
      expect.objectContaining({
        kind: 'added',
        severity: 'high',
        actions: { added: ['kms:Decrypt'], removed: [] },
      }),
    ]);
    expect(result.diff.access).toEqual([
      expect.objectContaining({ principal: `AWS:${ADMIN}`, gained: ['kms:Decrypt'], severity: 'high' }),
    ]);
  });

  it('a principal another desired statement already granted is not added: a narrowing pair stays medium', () => {
    // Prepare: ETL joins APP's statement, which gains a condition; ETL had kms:Decrypt on its own
    const desired = doc(allow([APP], ['kms:Decrypt']), allow([ETL], ['kms:Decrypt']));
    const live = doc(allow([APP, ETL], ['kms:Decrypt'], GRANT_CONDITION));
    // Act
    const result = comparePolicies(desired, live);
    // Assess: both lost unconditional decrypt; nobody gained anything
    expect(result.diff.severity).toBe('medium');
    expect(result.diff.statements.map((change) => [change.kind, change.severity, change.summary])).toEqual([
      ['changed', 'medium', 'Allow statement changed: adds condition Bool kms:grantisforawsresource=[true]'],
      ['removed', 'medium', `Live removes Allow statement: ${ETL} for kms:Decrypt`],
    ]);
    expect(result.diff.access.every((change) => change.gained.length === 0)).toBe(true);
  });

  it('a wildcard written as the actions it matches today stays low-severity drift', () => {
    // Act
    const result = comparePolicies(
      doc(allow([ADMIN], ['kms:Describe*'])),
      doc(allow([ADMIN], ['kms:DescribeKey', 'kms:DescribeCustomKeyStores'])),
    );
    // Assess
    expect(result.status).toBe('drift');
    expect(result.diff.severity).toBe('low');
    expect(result.diff.access).toEqual([]);
    expect(result.diff.statements[0]?.actions).toEqual({
      added: ['kms:DescribeCustomKeyStores', 'kms:DescribeKey'],
      removed: ['kms:Describe*'],
    });
  });

  it('NotAction statements keep their meaning: split, they are drift', () => {
    // Prepare
    const notAction = (actions: string[]): Statement => ({
      Effect: 'Deny',
      Principal: { AWS: APP },
      NotAction: actions,
      Resource: '*',
    });
    // Act
    const result = comparePolicies(
      doc(notAction(['kms:Decrypt', 'kms:Encrypt'])),
      doc(notAction(['kms:Decrypt']), notAction(['kms:Encrypt'])),
    );
    // Assess
    expect(result.status).toBe('drift');
  });

  it.each([
    ['kms:*', 'kms:decrypt', true],
    ['*', 'kms:*', true],
    ['kms:*', '*', false],
    ['kms:describe*', 'kms:describekey', true],
    ['kms:describe*', 'kms:describek*', true],
    ['kms:describekey', 'kms:describe*', false],
    ['kms:generatedatakey*', 'kms:generatedatakeypair', true],
    ['kms:re?ncrypt*', 'kms:reencryptfrom', true],
    ['kms:re?ncrypt*', 'kms:reencrypt*', false],
  ])('the action pattern %s covers %s: %s', (wide, narrow, covers) => {
    expect(actionCovers(wide, narrow)).toBe(covers);
  });
});

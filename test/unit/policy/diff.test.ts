import { diffPolicies, displayAction, matchStatements, maxSeverity } from '../../../src/policy/diff';
import { isUniqueIdPrincipal, normalizePolicy } from '../../../src/policy/normalize';
import type { PolicyStatement } from '../../../src/policy/types';

const ROLE_A = 'arn:aws:iam::111122223333:role/A';
const ROLE_B = 'arn:aws:iam::111122223333:role/B';

function normalized(...statements: PolicyStatement[]) {
  return normalizePolicy({ Version: '2012-10-17', Statement: statements });
}

const use: PolicyStatement = {
  Sid: 'Use',
  Effect: 'Allow',
  Principal: { AWS: ROLE_A },
  Action: ['kms:Decrypt', 'kms:Encrypt'],
  Resource: '*',
};
const admin: PolicyStatement = {
  Sid: 'Admin',
  Effect: 'Allow',
  Principal: { AWS: ROLE_B },
  Action: ['kms:Describe*', 'kms:Put*'],
  Resource: '*',
};
const denyDelete: PolicyStatement = {
  Sid: 'NoDelete',
  Effect: 'Deny',
  Principal: '*',
  Action: 'kms:ScheduleKeyDeletion',
  Resource: '*',
};

describe('matchStatements', () => {
  it('pairs identical statements regardless of position and Sid', () => {
    // Act
    const matching = matchStatements(
      normalized(use, admin),
      normalized({ ...admin, Sid: 'x' }, { ...use, Sid: 'y' }),
    );

    // Assess
    expect(matching.identical).toEqual([
      [0, 1],
      [1, 0],
    ]);
    expect(matching).toMatchObject({ changed: [], added: [], removed: [] });
  });

  it('pairs a changed statement with its most similar counterpart, not the one with the same Sid', () => {
    // Prepare
    const live = normalized({ ...admin, Sid: 'Use' }, { ...use, Sid: 'Admin', Action: ['kms:Decrypt'] });

    // Act
    const matching = matchStatements(normalized(use, admin), live);

    // Assess
    expect(matching.identical).toEqual([[1, 0]]);
    expect(matching.changed).toEqual([[0, 1]]);
  });

  it('leaves statements with nothing in common as added and removed', () => {
    // Act
    const matching = matchStatements(normalized(use), normalized(denyDelete));

    // Assess
    expect(matching).toMatchObject({ identical: [], changed: [], removed: [0], added: [0] });
  });

  it('never pairs two statements that change no access: each is regrouped on its own', () => {
    // Prepare: the use statement split by its actions
    const live = normalized({ ...use, Action: 'kms:Decrypt' }, { ...use, Action: 'kms:Encrypt' });

    // Act
    const matching = matchStatements(normalized(use), live);

    // Assess
    expect(matching).toMatchObject({ changed: [], removed: [], added: [] });
    expect(matching.regrouped).toEqual({ desired: [0], live: [0, 1] });
  });

  it('pairs a statement that changes access with the most similar one, even one that changes none', () => {
    // Prepare: role B joins the use statement; the desired statement's access is still granted live
    const live = normalized({ ...use, Principal: { AWS: [ROLE_A, ROLE_B] } });

    // Act
    const matching = matchStatements(normalized(use), live);

    // Assess
    expect(matching.changed).toEqual([[0, 0]]);
    expect(matching.regrouped).toEqual({ desired: [], live: [] });
  });

  it('records identical duplicates on either side', () => {
    // Act
    const matching = matchStatements(normalized(use, use), normalized(use, admin, use));

    // Assess
    expect(matching.desiredDuplicates).toEqual([[1, 0]]);
    expect(matching.liveDuplicates).toEqual([[2, 0]]);
    expect(matching.added).toEqual([1]);
  });
});

describe('diffPolicies', () => {
  it('reports the exact principals, actions and conditions that differ, with both indices', () => {
    // Prepare
    const desired = normalized(admin, {
      ...use,
      Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } },
    });
    const live = normalized(
      {
        ...use,
        Principal: { AWS: [ROLE_A, ROLE_B] },
        Action: 'kms:Decrypt',
        Condition: { StringEquals: { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' } },
      },
      admin,
    );

    // Act
    const diff = diffPolicies(desired, live);

    // Assess
    expect(diff.statements).toHaveLength(1);
    expect(diff.statements[0]).toMatchObject({
      kind: 'changed',
      desiredIndex: 1,
      liveIndex: 0,
      sid: 'Use',
      severity: 'high',
      principals: { added: [`AWS:${ROLE_B}`], removed: [] },
      actions: { added: [], removed: ['kms:Encrypt'] },
      conditions: {
        added: [{ operator: 'StringEquals', key: 'kms:viaservice', values: ['ec2.us-east-1.amazonaws.com'] }],
        removed: [
          { operator: 'StringEquals', key: 'kms:viaservice', values: ['s3.us-east-1.amazonaws.com'] },
        ],
      },
    });
    expect(diff.statements[0]?.summary).toContain(`adds principal ${ROLE_B}`);
    expect(diff.statements[0]?.summary).toContain('removes action kms:Encrypt');
  });

  it('writes added and removed statements as whole sentences', () => {
    // Act
    const diff = diffPolicies(normalized(use), normalized(denyDelete));

    // Assess
    expect(diff.statements.map((change) => [change.kind, change.severity, change.summary])).toEqual([
      ['removed', 'medium', `Live removes Allow statement "Use": ${ROLE_A} for kms:Decrypt, kms:Encrypt`],
      ['added', 'medium', 'Live adds Deny statement "NoDelete": * for kms:ScheduleKeyDeletion'],
    ]);
  });

  it('notes an Effect flip and a Principal -> NotPrincipal change', () => {
    // Act
    const diff = diffPolicies(
      normalized(use),
      normalized({ ...use, Effect: 'Deny', Principal: undefined, NotPrincipal: { AWS: ROLE_A } }),
    );

    // Assess
    expect(diff.statements[0]?.notes).toEqual([
      'Effect changed from Allow to Deny',
      'Principal became NotPrincipal',
    ]);
  });

  it('sorts statement changes most severe first', () => {
    // Act
    const diff = diffPolicies(
      normalized(use, admin),
      normalized({ ...use, Action: 'kms:Decrypt' }, { ...admin, Principal: '*' }),
    );

    // Assess
    expect(diff.statements.map((change) => change.severity)).toEqual(['critical', 'medium']);
    expect(diff.severity).toBe('critical');
  });

  it('skips the access view when the statements are identical', () => {
    expect(diffPolicies(normalized(use), normalized(use))).toEqual({
      statements: [],
      access: [],
      orphanedPrincipals: [],
      severity: 'info',
    });
  });

  it('reports a Version change as a document change', () => {
    // Act
    const diff = diffPolicies(normalized(use), normalizePolicy({ Statement: [use] }));

    // Assess
    expect(diff.documentChanges).toEqual([
      expect.objectContaining({ element: 'Version', desired: '2012-10-17', severity: 'medium' }),
    ]);
    expect(diff.documentChanges?.[0]?.live).toBeUndefined();
  });

  it('reports unique-ID principals with the path of their statement', () => {
    // Act
    const diff = diffPolicies(
      normalized(use),
      normalized(use, { ...admin, Principal: { AWS: ['AIDAJQABLZS4A3QDU576Q', ROLE_B] } }),
    );

    // Assess
    expect(diff.orphanedPrincipals).toEqual([
      expect.objectContaining({
        principal: 'AIDAJQABLZS4A3QDU576Q',
        where: 'live',
        path: '$.Statement[1].Principal.AWS',
      }),
    ]);
  });
});

describe('diff helpers', () => {
  it.each([
    ['AWS:AROAJ52OTH4H7LEXAMPLE', true],
    ['AWS:AIDAJQABLZS4A3QDU576Q', true],
    ['AWS:AGPAJQABLZS4A3QDU576Q', true],
    ['AWS:ANPAJQABLZS4A3QDU576Q', true],
    ['AWS:arn:aws:iam::111122223333:role/AROAJ52OTH4H7LEXAMPLE', false],
    ['AWS:AROAj52oth4h7lexample', false],
    ['Service:AROAJ52OTH4H7LEXAMPLE', false],
    ['AWS:111122223333', false],
  ])('recognises %s as a unique ID: %s', (principal, expected) => {
    expect(isUniqueIdPrincipal(principal)).toBe(expected);
  });

  it.each([
    [['low', 'critical', 'medium'], 'critical'],
    [['info', 'medium'], 'medium'],
    [[], 'info'],
  ] as const)('takes the highest of %j', (severities, expected) => {
    expect(maxSeverity(severities)).toBe(expected);
  });

  it.each([
    ['kms:putkeypolicy', 'kms:PutKeyPolicy'],
    ['kms:describe*', 'kms:Describe*'],
    ['kms:*', 'kms:*'],
    ['kms:decrpyt', 'kms:decrpyt'],
    ['kms:*key', 'kms:*key'],
  ])('displays action %s as %s', (action, expected) => {
    expect(displayAction(action)).toBe(expected);
  });
});

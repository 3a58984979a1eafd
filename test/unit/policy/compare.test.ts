import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { comparePolicies } from '../../../src/policy/compare';
import { SERVICE_DATA_DATE } from '../../../src/policy/service-data';
import type { PolicyDocument } from '../../../src/policy/types';

const exampleText = readFileSync(join(__dirname, 'fixtures', 'example-key-policy.json'), 'utf8');
const example = JSON.parse(exampleText) as PolicyDocument;

const ROOT = 'arn:aws:iam::111122223333:root';
const APP_ROLE = 'arn:aws:iam::111122223333:role/App';

function statement(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Sid: 'Use',
    Effect: 'Allow',
    Principal: { AWS: APP_ROLE },
    Action: ['kms:Decrypt', 'kms:Encrypt'],
    Resource: '*',
    ...overrides,
  };
}

function policy(...statements: Record<string, unknown>[]): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'Admin', Effect: 'Allow', Principal: { AWS: ROOT }, Action: 'kms:*', Resource: '*' },
      ...statements,
    ],
  };
}

// Each docs/architecture.md#comparing-two-key-policies equivalence rule, as [rule, desired statement, live statement].
const equivalentPairs: [string, Record<string, unknown>, Record<string, unknown>][] = [
  ['value order inside a list', statement(), statement({ Action: ['kms:Encrypt', 'kms:Decrypt'] })],
  [
    'duplicates inside a list',
    statement(),
    statement({ Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:Decrypt'] }),
  ],
  [
    'string vs one-element list (action)',
    statement({ Action: 'kms:Decrypt' }),
    statement({ Action: ['kms:Decrypt'] }),
  ],
  [
    'string vs one-element list (principal)',
    statement({ Principal: { AWS: APP_ROLE } }),
    statement({ Principal: { AWS: [APP_ROLE] } }),
  ],
  [
    'string vs one-element list (condition value)',
    statement({ Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } }),
    statement({ Condition: { StringEquals: { 'kms:ViaService': ['s3.us-east-1.amazonaws.com'] } } }),
  ],
  ['"*" vs {"AWS": "*"}', statement({ Principal: '*' }), statement({ Principal: { AWS: '*' } })],
  [
    '12-digit account vs account-root ARN',
    statement({ Principal: { AWS: '444455556666' } }),
    statement({ Principal: { AWS: 'arn:aws:iam::444455556666:root' } }),
  ],
  ['action name case', statement(), statement({ Action: ['KMS:decrypt', 'kms:ENCRYPT'] })],
  [
    'condition key case',
    statement({ Condition: { StringEquals: { 'kms:ViaService': 'ec2.us-east-1.amazonaws.com' } } }),
    statement({ Condition: { StringEquals: { 'KMS:viaservice': 'ec2.us-east-1.amazonaws.com' } } }),
  ],
  [
    'Bool typed value true vs "true"',
    statement({ Condition: { Bool: { 'kms:GrantIsForAWSResource': true } } }),
    statement({ Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } } }),
  ],
  [
    'Numeric typed value 1 vs "1" vs 1.0',
    statement({ Condition: { NumericLessThan: { 'aws:MultiFactorAuthAge': 3600 } } }),
    statement({ Condition: { NumericLessThan: { 'aws:MultiFactorAuthAge': '3600.0' } } }),
  ],
  [
    'Null typed value false vs "false"',
    statement({ Condition: { Null: { 'aws:SourceVpce': false } } }),
    statement({ Condition: { Null: { 'aws:SourceVpce': 'false' } } }),
  ],
  [
    'IgnoreCase operator values',
    statement({ Condition: { StringEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'Payments' } } }),
    statement({ Condition: { StringEqualsIgnoreCase: { 'aws:PrincipalTag/team': 'PAYMENTS' } } }),
  ],
  ['"Condition": {} vs no Condition', statement({ Condition: {} }), statement()],
  ['Sid differs', statement({ Sid: 'Use' }), statement({ Sid: 'Something else' })],
  ['Sid absent vs present', statement({ Sid: undefined }), statement({ Sid: 'Use' })],
];

// Each docs/architecture.md#comparing-two-key-policies drift rule, as [rule, desired statement, live statement].
const driftPairs: [string, Record<string, unknown>, Record<string, unknown>][] = [
  [
    'a principal added',
    statement(),
    statement({ Principal: { AWS: [APP_ROLE, 'arn:aws:iam::111122223333:role/Other'] } }),
  ],
  ['an action removed', statement(), statement({ Action: 'kms:Decrypt' })],
  ['a resource changed', statement(), statement({ Resource: 'arn:aws:kms:us-east-1:111122223333:key/abc' })],
  [
    'a condition operator changed',
    statement({ Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } }),
    statement({ Condition: { StringLike: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } }),
  ],
  [
    'a condition key changed',
    statement({ Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } }),
    statement({ Condition: { StringEquals: { 'kms:CallerAccount': 's3.us-east-1.amazonaws.com' } } }),
  ],
  [
    'a condition value changed',
    statement({ Condition: { StringEquals: { 'kms:CallerAccount': '111122223333' } } }),
    statement({ Condition: { StringEquals: { 'kms:CallerAccount': '444455556666' } } }),
  ],
  ['Effect changed', statement(), statement({ Effect: 'Deny' })],
  [
    'Principal became NotPrincipal',
    statement(),
    statement({ Principal: undefined, NotPrincipal: { AWS: APP_ROLE } }),
  ],
  [
    'Action became NotAction',
    statement(),
    statement({ Action: undefined, NotAction: ['kms:Decrypt', 'kms:Encrypt'] }),
  ],
  [
    'condition values are case-sensitive (StringEquals)',
    statement({ Condition: { StringEquals: { 'aws:PrincipalTag/team': 'Payments' } } }),
    statement({ Condition: { StringEquals: { 'aws:PrincipalTag/team': 'payments' } } }),
  ],
  [
    'ARN principals are case-sensitive',
    statement(),
    statement({ Principal: { AWS: 'arn:aws:iam::111122223333:role/app' } }),
  ],
  [
    '"*" is not a specific account',
    statement({ Principal: { AWS: '444455556666' } }),
    statement({ Principal: '*' }),
  ],
  [
    '"*" is not a specific principal (both written as strings)',
    statement({ Principal: { AWS: APP_ROLE } }),
    statement({ Principal: { AWS: '*' } }),
  ],
  [
    'typed values only for typed operators ("1" vs "1.0" under StringEquals)',
    statement({ Condition: { StringEquals: { 'kms:EncryptionContext:version': '1' } } }),
    statement({ Condition: { StringEquals: { 'kms:EncryptionContext:version': '1.0' } } }),
  ],
  [
    'condition operators are matched exactly as written',
    statement({ Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } }),
    statement({ Condition: { stringequals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } }),
  ],
  [
    'a condition added where there was none',
    statement({ Condition: {} }),
    statement({ Condition: { Bool: { 'aws:SecureTransport': true } } }),
  ],
];

describe('comparePolicies: docs/architecture.md#comparing-two-key-policies rules, both ways', () => {
  it.each(equivalentPairs)('treats "%s" as equivalent', (_rule, desiredStatement, liveStatement) => {
    // Prepare
    const desired = policy(desiredStatement);
    const live = policy(liveStatement);

    // Act
    const result = comparePolicies(desired, live);

    // Assess
    expect(result.status).toBe('equivalent');
    expect(result.diff.statements).toEqual([]);
    expect(result.diff.severity).toBe('info');
  });

  it.each(driftPairs)('treats "%s" as drift', (_rule, desiredStatement, liveStatement) => {
    // Prepare
    const desired = policy(desiredStatement);
    const live = policy(liveStatement);

    // Act
    const result = comparePolicies(desired, live);

    // Assess
    expect(result.status).toBe('drift');
    expect(result.diff.statements.length).toBeGreaterThan(0);
    expect(result.diff.severity).not.toBe('info');
  });

  it('treats action names case-insensitively but condition values case-sensitively in the same statement', () => {
    // Prepare
    const desired = policy(
      statement({ Condition: { StringEquals: { 'kms:EncryptionContext:app': 'Billing' } } }),
    );
    const liveSameValue = policy(
      statement({
        Action: ['KMS:DECRYPT', 'kms:encrypt'],
        Condition: { StringEquals: { 'kms:encryptioncontext:APP': 'Billing' } },
      }),
    );
    const liveOtherCase = policy(
      statement({
        Action: ['KMS:DECRYPT', 'kms:encrypt'],
        Condition: { StringEquals: { 'kms:EncryptionContext:app': 'BILLING' } },
      }),
    );

    // Act
    const same = comparePolicies(desired, liveSameValue);
    const different = comparePolicies(desired, liveOtherCase);

    // Assess
    expect(same.status).toBe('equivalent');
    expect(different.status).toBe('drift');
  });

  it('matches statements by content, never by Sid: swapped Sids are cosmetic', () => {
    // Prepare
    const first = statement({ Sid: 'A' });
    const second = statement({
      Sid: 'B',
      Principal: { AWS: 'arn:aws:iam::111122223333:role/Other' },
      Action: 'kms:DescribeKey',
    });
    const live = policy({ ...second, Sid: 'A' }, { ...first, Sid: 'B' });

    // Act
    const result = comparePolicies(policy(first, second), live);

    // Assess
    expect(result.status).toBe('equivalent');
    expect(result.cosmetic.filter((difference) => difference.kind === 'sid')).toHaveLength(2);
    expect(result.cosmetic.some((difference) => difference.kind === 'statement-order')).toBe(true);
  });

  it('treats an identical duplicate statement as one (cosmetic, not drift)', () => {
    // Act
    const result = comparePolicies(policy(statement()), policy(statement(), statement({ Sid: 'Copy' })));

    // Assess
    expect(result.status).toBe('equivalent');
    expect(result.cosmetic.some((difference) => difference.message.includes('repeats'))).toBe(true);
  });

  it('reports Id and whitespace differences as cosmetic only', () => {
    // Prepare
    const desiredText = JSON.stringify({ ...policy(statement()), Id: 'key-default-1' });
    const liveText = JSON.stringify({ ...policy(statement()), Id: 'other' }, null, 2);

    // Act
    const result = comparePolicies(desiredText, liveText);

    // Assess
    expect(result.status).toBe('equivalent');
    expect(result.cosmetic.map((difference) => difference.kind)).toEqual(['id']);
  });

  it('reports pure formatting (whitespace, key order) as a formatting cosmetic difference', () => {
    // Act
    const result = comparePolicies(exampleText, JSON.stringify(example));

    // Assess
    expect(result.status).toBe('equivalent');
    expect(result.cosmetic).toEqual([
      { kind: 'formatting', message: 'Whitespace or key order differs; the documents are the same' },
    ]);
  });

  it.each([
    ['missing Version live', '2012-10-17', undefined],
    ['missing Version desired', undefined, '2012-10-17'],
    ['older Version', '2012-10-17', '2008-10-17'],
  ])('treats %s as drift', (_case, desiredVersion, liveVersion) => {
    // Prepare
    const desired = { ...policy(statement()), Version: desiredVersion };
    const live = { ...policy(statement()), Version: liveVersion };

    // Act
    const result = comparePolicies(desired, live);

    // Assess
    expect(result.status).toBe('drift');
    expect(result.diff.documentChanges?.[0]).toMatchObject({ element: 'Version', severity: 'medium' });
  });

  it('treats the same Version on both sides as equivalent', () => {
    expect(comparePolicies(policy(statement()), policy(statement())).status).toBe('equivalent');
  });

  it.each([
    ['not JSON', '{"Version": "2012-10-17", "Statement": [}'],
    ['not an object', '[]'],
    ['Statement missing', '{"Version": "2012-10-17"}'],
  ])('never calls a live document that is %s equivalent', (_case, liveText) => {
    // Act
    const result = comparePolicies(exampleText, liveText);

    // Assess
    expect(result.status).toBe('drift');
    expect(result.problems).toEqual([{ document: 'live', issues: expect.any(Array) }]);
    expect(result.problems[0]?.issues.length).toBeGreaterThan(0);
  });

  it('never calls a document with a misspelt element equivalent, even when the rest matches', () => {
    // Prepare
    const live = policy(statement({ Actoin: 'kms:Decrypt' }));

    // Act
    const result = comparePolicies(policy(statement()), live);

    // Assess
    expect(result.status).toBe('drift');
    expect(result.problems[0]?.issues[0]?.path).toBe('$.Statement[1].Actoin');
  });

  it('reports a unique-ID principal in the live document as an orphaned principal and drift', () => {
    // Prepare
    const live = policy(statement({ Principal: { AWS: 'AROAJ52OTH4H7LEXAMPLE' } }));

    // Act
    const result = comparePolicies(policy(statement()), live);

    // Assess
    expect(result.status).toBe('drift');
    expect(result.diff.orphanedPrincipals).toEqual([
      expect.objectContaining({
        principal: 'AROAJ52OTH4H7LEXAMPLE',
        where: 'live',
        path: '$.Statement[1].Principal.AWS',
      }),
    ]);
    // The deleted role's replacement by its ID is a loss of access, not a gain.
    expect(result.diff.statements[0]?.severity).toBe('medium');
  });

  it('reports a unique-ID principal as drift even when the desired document has the same one', () => {
    // Prepare
    const both = policy(statement({ Principal: { AWS: 'AIDAJQABLZS4A3QDU576Q' } }));

    // Act
    const result = comparePolicies(both, both);

    // Assess
    expect(result.status).toBe('drift');
    expect(result.diff.orphanedPrincipals).toHaveLength(1);
  });

  it('reports a wildcard vs the explicit actions it matches today as low-severity drift with the service-data date', () => {
    // Prepare
    const desired = policy(statement({ Action: 'kms:Describe*' }));
    const live = policy(statement({ Action: ['kms:DescribeKey', 'kms:DescribeCustomKeyStores'] }));

    // Act
    const result = comparePolicies(desired, live);

    // Assess
    expect(result.status).toBe('drift');
    expect(result.diff.severity).toBe('low');
    expect(result.diff.statements[0]?.notes.join(' ')).toContain(
      `same effective actions as of ${SERVICE_DATA_DATE}`,
    );
    expect(result.serviceDataDate).toBe(SERVICE_DATA_DATE);
  });

  it('reports a wildcard that matches more than the explicit actions as widening', () => {
    // Act
    const result = comparePolicies(
      policy(statement({ Action: 'kms:DescribeKey' })),
      policy(statement({ Action: 'kms:Describe*' })),
    );

    // Assess
    expect(result.diff.severity).toBe('high');
    expect(result.diff.access[0]?.gained).toEqual(['kms:DescribeCustomKeyStores']);
  });

  it('answers equivalent for the seed example key policy compared with itself reordered', () => {
    // Prepare
    const live = { ...example, Statement: [...example.Statement].reverse() };

    // Act
    const result = comparePolicies(exampleText, live);

    // Assess
    expect(result.status).toBe('equivalent');
    expect(result.problems).toEqual([]);
  });
});

describe('comparePolicies: severity (docs/architecture.md#comparing-two-key-policies)', () => {
  const severityCases: [string, Record<string, unknown>[], Record<string, unknown>[], string][] = [
    ['"*" principal added', [statement()], [statement({ Principal: { AWS: [APP_ROLE, '*'] } })], 'critical'],
    [
      'cross-account principal added',
      [statement()],
      [statement({ Principal: { AWS: [APP_ROLE, 'arn:aws:iam::999988887777:root'] } })],
      'critical',
    ],
    [
      'Permissions management action gained (PutKeyPolicy)',
      [statement()],
      [statement({ Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:PutKeyPolicy'] })],
      'critical',
    ],
    [
      'Permissions management action gained (CreateGrant)',
      [statement()],
      [statement({ Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:CreateGrant'] })],
      'critical',
    ],
    ['kms:* gained', [statement()], [statement({ Action: 'kms:*' })], 'critical'],
    [
      'same-account principal added',
      [statement()],
      [statement({ Principal: { AWS: [APP_ROLE, 'arn:aws:iam::111122223333:role/Other'] } })],
      'high',
    ],
    [
      'ordinary action gained',
      [statement()],
      [statement({ Action: ['kms:Decrypt', 'kms:Encrypt', 'kms:DescribeKey'] })],
      'high',
    ],
    [
      'condition removed',
      [statement({ Condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } } })],
      [statement()],
      'high',
    ],
    ['Allow statement added', [], [statement()], 'high'],
    ['action removed (narrowing)', [statement()], [statement({ Action: 'kms:Decrypt' })], 'medium'],
    [
      'principal removed (narrowing)',
      [statement({ Principal: { AWS: [APP_ROLE, 'arn:aws:iam::111122223333:role/Other'] } })],
      [statement()],
      'medium',
    ],
    [
      'condition added (narrowing)',
      [statement()],
      [statement({ Condition: { Bool: { 'aws:SecureTransport': true } } })],
      'medium',
    ],
    ['Allow statement removed', [statement()], [], 'medium'],
    ['Deny statement added', [], [statement({ Effect: 'Deny' })], 'medium'],
    ['Effect flipped Allow -> Deny (narrowing)', [statement()], [statement({ Effect: 'Deny' })], 'medium'],
    ['Effect flipped Deny -> Allow (widening)', [statement({ Effect: 'Deny' })], [statement()], 'high'],
    [
      'Deny statement removed (widening)',
      [statement({ Effect: 'Deny', Principal: { AWS: APP_ROLE } })],
      [],
      'high',
    ],
    [
      'Deny of PutKeyPolicy removed',
      [statement({ Effect: 'Deny', Action: 'kms:PutKeyPolicy' })],
      [],
      'critical',
    ],
    [
      'Principal -> NotPrincipal',
      [statement()],
      [statement({ Principal: undefined, NotPrincipal: { AWS: APP_ROLE } })],
      'critical',
    ],
    [
      'Action -> NotAction',
      [statement()],
      [statement({ Action: undefined, NotAction: 'kms:ScheduleKeyDeletion' })],
      'critical',
    ],
    [
      'Action -> NotAction over harmless actions',
      [statement({ Action: 'kms:DescribeKey' })],
      [
        statement({
          Action: undefined,
          NotAction: ['kms:PutKeyPolicy', 'kms:CreateGrant', 'kms:RetireGrant', 'kms:RevokeGrant'],
        }),
      ],
      'high',
    ],
    [
      'cosmetic only',
      [statement()],
      [statement({ Sid: 'Renamed', Action: ['KMS:ENCRYPT', 'kms:decrypt'] })],
      'info',
    ],
  ];

  it.each(severityCases)('rates "%s" as %s', (_case, desiredStatements, liveStatements, expected) => {
    // Act
    const result = comparePolicies(policy(...desiredStatements), policy(...liveStatements));

    // Assess
    expect(result.diff.severity).toBe(expected);
  });
});

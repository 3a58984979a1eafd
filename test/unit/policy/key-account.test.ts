/**
 * The key's account (issue 11.1): stated (keyAccount, keyArn) wherever it can be; when inferred,
 * the account whose root or administrators keep kms:PutKeyPolicy wins over the one named most often,
 * a message that depends on it says it was inferred, and a lockout is never reported on a guess.
 */
import fc from 'fast-check';
import type { ValidateOptions } from '../../../src/policy/types';
import { validatePolicy } from '../../../src/policy/validate';

const OWNER = '111122223333';
const PARTNER = '444455556666';
const root = (account: string): string => `arn:aws:iam::${account}:root`;
const role = (account: string, name: string): string => `arn:aws:iam::${account}:role/${name}`;

/** A key of OWNER shared with PARTNER, whose principals are named far more often than OWNER's. */
const SHARED_KEY = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Owner', Effect: 'Allow', Principal: { AWS: root(OWNER) }, Action: 'kms:*', Resource: '*' },
    {
      Sid: 'Partner use',
      Effect: 'Allow',
      Principal: { AWS: [root(PARTNER), role(PARTNER, 'Etl'), role(PARTNER, 'Reports')] },
      Action: ['kms:Decrypt', 'kms:DescribeKey'],
      Resource: '*',
    },
    {
      Sid: 'Partner grants',
      Effect: 'Allow',
      Principal: { AWS: [root(PARTNER), role(PARTNER, 'Etl'), role(PARTNER, 'Reports')] },
      Action: 'kms:CreateGrant',
      Resource: '*',
      Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    },
  ],
};

function codes(input: unknown, options?: ValidateOptions): string[] {
  return validatePolicy(input, options).findings.map((finding) => finding.code);
}

function messageOf(input: unknown, code: string, options?: ValidateOptions): string | undefined {
  return validatePolicy(input, options).findings.find((finding) => finding.code === code)?.message;
}

describe("the key's account", () => {
  it.each<[string, ValidateOptions | undefined]>([
    ['inferred', undefined],
    ['stated with keyAccount', { keyAccount: OWNER }],
    [
      'stated with keyArn',
      { keyArn: `arn:aws:kms:eu-west-1:${OWNER}:key/1234abcd-12ab-34cd-56ef-1234567890ab` },
    ],
  ])('a shared key whose partner is named more often is accepted as it is (%s)', (_how, options) => {
    // Act
    const found = codes(SHARED_KEY, options);
    // Assess: the owner's kms:* is neither KMS303 nor KMS304, and there is no lockout
    expect(found).toEqual([]);
  });

  it('a stated account that is wrong still finds the partner-only administration', () => {
    // Act
    const found = codes(SHARED_KEY, { keyAccount: PARTNER });
    // Assess: the owner root (another account, seen from PARTNER) holds kms:* and PutKeyPolicy
    expect(found).toEqual(expect.arrayContaining(['KMS303', 'KMS304']));
  });

  it('a message that depends on an inferred account says so and how to state it', () => {
    // Prepare: two accounts hold kms:*; OWNER is named most often, so PARTNER's root is the odd one
    const document = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: [root(OWNER), role(OWNER, 'Admin')] },
          Action: 'kms:*',
          Resource: '*',
        },
        { Effect: 'Allow', Principal: { AWS: root(PARTNER) }, Action: 'kms:*', Resource: '*' },
      ],
    };
    // Act
    const inferred = messageOf(document, 'KMS303');
    const stated = messageOf(document, 'KMS303', {
      keyAccount: OWNER,
      adminPrincipals: [role(OWNER, 'Admin')],
    });
    // Assess
    expect(inferred).toContain(
      `(the key's account ${OWNER} was inferred from the policy; state it with --key-account or ValidateOptions.keyAccount)`,
    );
    expect(stated).toBeDefined();
    expect(stated).not.toContain('inferred');
  });

  it('an administrator of an account makes it the inferred one', () => {
    // Prepare: PARTNER is named most often; OWNER's administrator role holds PutKeyPolicy
    const admin = role(OWNER, 'KeyAdmin');
    const document = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: admin },
          Action: ['kms:PutKeyPolicy', 'kms:GetKeyPolicy'],
          Resource: '*',
        },
        SHARED_KEY.Statement[1],
      ],
    };
    // Act
    const found = codes(document, { adminPrincipals: [admin] });
    // Assess
    expect(found).not.toContain('KMS305');
  });

  it('a lockout on an inferred account holds for every account the policy names, and says so', () => {
    // Prepare: nobody keeps kms:PutKeyPolicy
    const document = { Version: '2012-10-17', Statement: [SHARED_KEY.Statement[1]] };
    // Act
    const message = messageOf(document, 'KMS305');
    // Assess
    expect(message).toBe(
      `Lockout risk: no Allow statement keeps the account root or a named administrator (${root(PARTNER)}) able to call kms:PutKeyPolicy; the key could become unmanageable; no other account the policy names keeps it either (the key's account ${PARTNER} was inferred from the policy; state it with --key-account or ValidateOptions.keyAccount)`,
    );
  });

  it('no lockout is reported on a guess when an account the policy does not name could manage the key', () => {
    // Prepare: everyone but PARTNER's root may change the policy; only PARTNER is named
    const document = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', NotPrincipal: { AWS: root(PARTNER) }, Action: 'kms:PutKeyPolicy', Resource: '*' },
        SHARED_KEY.Statement[1],
      ],
    };
    // Act
    const inferred = codes(document);
    const stated = codes(document, { keyAccount: PARTNER });
    // Assess
    expect(inferred).not.toContain('KMS305');
    expect(stated).toContain('KMS305');
  });

  it('never reports a lockout without a stated account while some named account root keeps kms:PutKeyPolicy', () => {
    const accounts = ['111111111111', '222222222222', '333333333333'];
    const statementArb = fc.record({
      Effect: fc.constantFrom('Allow', 'Allow', 'Deny'),
      Principal: fc.record({
        AWS: fc.uniqueArray(
          fc.oneof(
            fc.constantFrom(...accounts).map(root),
            fc.constantFrom(...accounts).map((account) => role(account, 'App')),
          ),
          { minLength: 1, maxLength: 4 },
        ),
      }),
      Action: fc.uniqueArray(fc.constantFrom('kms:*', 'kms:PutKeyPolicy', 'kms:Decrypt', 'kms:Describe*'), {
        minLength: 1,
        maxLength: 3,
      }),
      Resource: fc.constant('*'),
    });
    fc.assert(
      fc.property(fc.array(statementArb, { minLength: 1, maxLength: 6 }), (statements) => {
        // Prepare
        const document = { Version: '2012-10-17', Statement: statements };
        const keepers = accounts.filter(
          (account) => !codes(document, { keyAccount: account }).includes('KMS305'),
        );
        // Act
        const inferred = codes(document);
        // Assess
        expect(inferred.includes('KMS305')).toBe(keepers.length === 0);
      }),
    );
  });
});

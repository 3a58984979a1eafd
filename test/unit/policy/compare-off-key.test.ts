/**
 * Compare leaves out a statement whose Resource does not name the key (issue 11, compare
 * refinements b), as validate does (KMS104): it grants or denies nothing on the key, so adding or
 * removing one is cosmetic, and it counts neither in the access view nor as the document's own
 * account. Without the key's ARN, a KMS key ARN may be this key: such a statement still counts.
 */
import { comparePolicies } from '../../../src/policy/compare';
import type { NormalizeContext } from '../../../src/policy/types';

const KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OTHER_KEY_ARN = 'arn:aws:kms:us-east-1:111122223333:key/0987dcba-09ba-76dc-65fe-0987654321ba';
const ROOT = 'arn:aws:iam::111122223333:root';
const APP = 'arn:aws:iam::111122223333:role/App';
const PARTNER = 'arn:aws:iam::444455556666:root';
const KNOWN: NormalizeContext = { keyArn: KEY_ARN };

type Statement = Record<string, unknown>;
const statement = (principal: string | string[], actions: string[], resource: unknown = '*'): Statement => ({
  Effect: 'Allow',
  Principal: { AWS: principal },
  Action: actions,
  Resource: resource,
});
const doc = (...statements: Statement[]) => ({
  Version: '2012-10-17',
  Statement: [statement(ROOT, ['kms:*']), ...statements],
});

describe('compare leaves out statements whose Resource does not name the key', () => {
  it.each<[string, Statement, NormalizeContext | undefined]>([
    ['an S3 bucket ARN', statement('*', ['kms:Decrypt'], 'arn:aws:s3:::my-bucket'), undefined],
    ['an SNS topic ARN', statement(PARTNER, ['kms:*'], ['arn:aws:sns:us-east-1:111122223333:t']), undefined],
    ['another key, the key ARN known', statement('*', ['kms:Decrypt'], OTHER_KEY_ARN), KNOWN],
    [
      "a pattern of another account's keys, the key ARN known",
      statement(APP, ['kms:Decrypt'], 'arn:aws:kms:us-east-1:444455556666:key/*'),
      KNOWN,
    ],
    [
      'an S3 ARN, as an unconditional Deny',
      { ...statement('*', ['kms:*'], 'arn:aws:s3:::b'), Effect: 'Deny' },
      undefined,
    ],
  ])('a live statement on %s is cosmetic: equivalent, named as left out', (_what, extra, ctx) => {
    // Act
    const result = comparePolicies(
      doc(statement(APP, ['kms:Decrypt'])),
      doc(statement(APP, ['kms:Decrypt']), extra),
      ctx,
    );
    // Assess
    expect(result.status).toBe('equivalent');
    expect(result.diff.statements).toEqual([]);
    expect(result.cosmetic).toContainEqual(
      expect.objectContaining({
        path: '$.Statement[2].Resource',
        message: expect.stringContaining('does not name this key'),
      }),
    );
  });

  it('a desired statement on an S3 ARN missing live is cosmetic', () => {
    // Act
    const result = comparePolicies(doc(statement(APP, ['kms:Decrypt'], 'arn:aws:s3:::b')), doc());
    // Assess
    expect(result.status).toBe('equivalent');
    expect(result.cosmetic.map((difference) => difference.message)).toContainEqual(
      expect.stringMatching(/^The desired statement 1 is left out: its Resource does not name this key/),
    );
  });

  it('without the key ARN, another key ARN may be this key: the statement still counts', () => {
    // Act
    const result = comparePolicies(doc(), doc(statement('*', ['kms:Decrypt'], OTHER_KEY_ARN)));
    // Assess
    expect(result.status).toBe('drift');
    expect(result.diff.severity).toBe('critical');
  });

  it('a statement whose Resource moves from the key to an S3 ARN takes its grant away: the principal lost access', () => {
    // Act
    const result = comparePolicies(
      doc(statement(APP, ['kms:Decrypt'])),
      doc(statement(APP, ['kms:Decrypt'], 'arn:aws:s3:::b')),
    );
    // Assess
    expect(result.status).toBe('drift');
    expect(result.diff.severity).toBe('medium');
    expect(result.diff.statements).toEqual([
      expect.objectContaining({ kind: 'removed', desiredIndex: 1, severity: 'medium' }),
    ]);
    expect(result.diff.access).toEqual([
      expect.objectContaining({ principal: `AWS:${APP}`, gained: [], lost: ['kms:Decrypt'] }),
    ]);
  });

  it("a statement on an S3 ARN is not the document's own account: its account stays cross-account", () => {
    // Prepare: the desired document names the partner only on an S3 ARN; live gives it decrypt
    const desired = doc(statement(PARTNER, ['kms:Decrypt'], 'arn:aws:s3:::b'));
    const live = doc(
      statement(PARTNER, ['kms:Decrypt'], 'arn:aws:s3:::b'),
      statement(PARTNER, ['kms:Decrypt']),
    );
    // Act
    const result = comparePolicies(desired, live);
    // Assess
    expect(result.diff.access).toEqual([
      expect.objectContaining({ principal: `AWS:${PARTNER}`, crossAccount: true, severity: 'critical' }),
    ]);
  });

  it('an orphaned principal in a statement on an S3 ARN is not reported', () => {
    // Prepare
    const orphan = statement('AROAEXAMPLEID12345678', ['kms:Decrypt'], 'arn:aws:s3:::b');
    // Act
    const result = comparePolicies(doc(orphan), doc(orphan));
    // Assess
    expect(result.diff.orphanedPrincipals).toEqual([]);
    expect(result.status).toBe('equivalent');
  });
});

/**
 * Which strings of a live key policy become placeholders when `kms-guard init` adopts it
 * (src/manifest/templatize.ts, docs/cli.md#how-placeholders-are-chosen): the key's own partition, Region
 * and account, only where they denote them; and rendering the template gives the live document back.
 */
import { renderPlaceholders } from '../../../src/manifest';
import { PLACEHOLDER_LIKE_TEXT, templateDocument } from '../../../src/manifest/templatize';

const KEY = { partition: 'aws', region: 'eu-west-1', accountId: '111122223333' };
const OTHER = '444455556666';

function statementWith(element: string, value: unknown): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*', [element]: value }],
  };
}

function templated(document: unknown): { text: string; replacements: number } {
  const result = templateDocument(document, KEY);
  return { text: JSON.stringify(result.document), replacements: result.replacements };
}

describe('templateDocument', () => {
  it.each([
    ['the account root', 'arn:aws:iam::111122223333:root', 'arn:{{Partition}}:iam::{{AccountId}}:root'],
    [
      'a role of the key account',
      'arn:aws:iam::111122223333:role/App',
      'arn:{{Partition}}:iam::{{AccountId}}:role/App',
    ],
    ['a bare account ID of the key account', '111122223333', '{{AccountId}}'],
    [
      "the guard's own role in the key Region",
      'arn:aws:iam::111122223333:role/kms-policy-guard-eu-west-1',
      '{{GuardPrincipal}}',
    ],
    [
      "the guard's role of another Region (only the account)",
      'arn:aws:iam::111122223333:role/kms-policy-guard-us-east-1',
      'arn:{{Partition}}:iam::{{AccountId}}:role/kms-policy-guard-us-east-1',
    ],
    [
      'an IAM policy variable in the resource part',
      'arn:aws:iam::111122223333:user/${aws:username}',
      'arn:{{Partition}}:iam::{{AccountId}}:user/${aws:username}',
    ],
  ])('turns %s (a principal) into placeholders', (_case, principal, expected) => {
    // Act
    const result = templated(statementWith('Principal', { AWS: principal }));

    // Assess
    expect(result.text).toContain(JSON.stringify(expected));
    expect(result.replacements).toBe(1);
  });

  it.each([
    ["another account's root", `arn:aws:iam::${OTHER}:root`],
    ["another account's role", `arn:aws:iam::${OTHER}:role/Analytics`],
    ["another account's bare ID", OTHER],
    ['the same digits in another partition', 'arn:aws-cn:iam::111122223333:root'],
    ['anyone', '*'],
    ['an account field that is a policy variable', 'arn:aws:iam::${aws:PrincipalAccount}:root'],
  ])('keeps %s literal', (_case, principal) => {
    // Act
    const result = templated(statementWith('Principal', { AWS: principal }));

    // Assess
    expect(result.text).toContain(JSON.stringify(principal));
    expect(result.replacements).toBe(0);
  });

  it.each([
    [
      'a service principal in the key Region',
      { Service: 'logs.eu-west-1.amazonaws.com' },
      'logs.{{Region}}.amazonaws.com',
      1,
    ],
    [
      'a service principal in another Region',
      { Service: 'logs.us-east-1.amazonaws.com' },
      'logs.us-east-1.amazonaws.com',
      0,
    ],
    ['a global service principal', { Service: 'cloudtrail.amazonaws.com' }, 'cloudtrail.amazonaws.com', 0],
  ])('handles %s', (_case, principal, expected, replacements) => {
    // Act
    const result = templated(statementWith('Principal', principal));

    // Assess
    expect(result.text).toContain(JSON.stringify(expected));
    expect(result.replacements).toBe(replacements);
  });

  it.each([
    [
      'aws:PrincipalAccount equal to the key account',
      'StringEquals',
      'aws:PrincipalAccount',
      '111122223333',
      '{{AccountId}}',
    ],
    [
      'kms:CallerAccount equal to the key account',
      'StringEquals',
      'kms:CallerAccount',
      '111122223333',
      '{{AccountId}}',
    ],
    ['aws:SourceAccount of another account', 'StringEquals', 'aws:SourceAccount', OTHER, OTHER],
    [
      'kms:ViaService in the key Region',
      'StringEquals',
      'kms:ViaService',
      'ec2.eu-west-1.amazonaws.com',
      'ec2.{{Region}}.amazonaws.com',
    ],
    [
      'kms:ViaService in another Region',
      'StringEquals',
      'kms:ViaService',
      'ec2.us-east-1.amazonaws.com',
      'ec2.us-east-1.amazonaws.com',
    ],
    [
      'an ARN of the key account in the key Region',
      'ArnLike',
      'kms:EncryptionContext:aws:logs:arn',
      'arn:aws:logs:eu-west-1:111122223333:log-group:*',
      'arn:{{Partition}}:logs:{{Region}}:{{AccountId}}:log-group:*',
    ],
    [
      'an ARN of the key account in another Region',
      'ArnLike',
      'aws:SourceArn',
      'arn:aws:sns:us-east-1:111122223333:topic',
      'arn:{{Partition}}:sns:us-east-1:{{AccountId}}:topic',
    ],
    [
      'an encryption context value that happens to be the account digits',
      'StringEquals',
      'kms:EncryptionContext:order',
      '111122223333',
      '111122223333',
    ],
    [
      'a value that contains the account digits',
      'StringLike',
      'aws:userid',
      'AROAEXAMPLE:111122223333',
      'AROAEXAMPLE:111122223333',
    ],
    [
      'an IAM policy variable',
      'StringEquals',
      'aws:PrincipalTag/team',
      '${aws:ResourceTag/team}',
      '${aws:ResourceTag/team}',
    ],
  ])('in a condition: %s', (_case, operator, key, value, expected) => {
    // Act
    const result = templated(statementWith('Condition', { [operator]: { [key]: value } }));

    // Assess
    expect(result.text).toContain(JSON.stringify({ [operator]: { [key]: expected } }));
    expect(result.replacements).toBe(value === expected ? 0 : 1);
  });

  it('never changes Sid, Id, actions or condition keys, and keeps key order', () => {
    // Prepare
    const document = {
      Version: '2012-10-17',
      Id: 'arn:aws:iam::111122223333:root',
      Statement: [
        {
          Sid: 'x111122223333',
          Effect: 'Allow',
          Principal: { AWS: 'arn:aws:iam::111122223333:root' },
          Action: ['kms:*'],
          Resource: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
        },
      ],
    };

    // Act
    const result = templated(document);

    // Assess
    expect(result.text).toBe(
      '{"Version":"2012-10-17","Id":"arn:aws:iam::111122223333:root","Statement":[{"Sid":"x111122223333","Effect":"Allow","Principal":{"AWS":"arn:{{Partition}}:iam::{{AccountId}}:root"},"Action":["kms:*"],"Resource":"arn:{{Partition}}:kms:{{Region}}:{{AccountId}}:key/1234abcd-12ab-34cd-56ef-1234567890ab"}]}',
    );
  });

  it('renders back to the live document exactly', () => {
    // Prepare
    const live = statementWith('Principal', {
      AWS: ['arn:aws:iam::111122223333:root', `arn:aws:iam::${OTHER}:root`, '111122223333'],
      Service: ['logs.eu-west-1.amazonaws.com'],
    });

    // Act
    const template = JSON.stringify(templateDocument(live, KEY).document);

    // Assess
    expect(JSON.parse(renderPlaceholders(template, KEY, 'test'))).toEqual(live);
  });

  it('keeps a "__proto__" element as an own property (it is not a prototype)', () => {
    // Prepare
    const live = JSON.parse('{"Version":"2012-10-17","__proto__":{"x":1},"Statement":[]}');

    // Act
    const result = templated(live);

    // Assess
    expect(result.text).toBe('{"Version":"2012-10-17","__proto__":{"x":1},"Statement":[]}');
  });

  it('recognises {{…}} text a live document cannot keep', () => {
    expect(PLACEHOLDER_LIKE_TEXT.test('{"Sid":"{{AccountId}}"}')).toBe(true);
    expect(PLACEHOLDER_LIKE_TEXT.test('{"Sid":"${aws:username}"}')).toBe(false);
  });
});

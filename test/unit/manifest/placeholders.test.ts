import fc from 'fast-check';
import {
  GUARD_ROLE_ARN_TEMPLATE,
  guardRoleArn,
  type ManagedKey,
  ManifestError,
  placeholderValuesFromArn,
  renderDesiredPolicy,
  renderPlaceholders,
} from '../../../src/manifest';

const CHINA = { partition: 'aws-cn', region: 'cn-north-1', accountId: '210987654321' };

function managedKey(policyTemplate: string): ManagedKey {
  return {
    name: 'k',
    match: { alias: 'alias/k' },
    mode: 'alert',
    policyFile: 'k.json',
    policyTemplate,
    grants: { allowServiceGrants: true, allow: [] },
    state: { enabled: true },
  };
}

describe('renderDesiredPolicy', () => {
  it('substitutes partition, region and account inside the JSON text', () => {
    // Prepare
    const key = managedKey(
      '{"Principal":{"AWS":"arn:{{Partition}}:iam::{{AccountId}}:root"},"Svc":"dynamodb.{{Region}}.amazonaws.com"}',
    );

    // Act
    const rendered = renderDesiredPolicy(key, CHINA);

    // Assess
    expect(JSON.parse(rendered)).toEqual({
      Principal: { AWS: 'arn:aws-cn:iam::210987654321:root' },
      Svc: 'dynamodb.cn-north-1.amazonaws.com',
    });
  });

  it('leaves ${aws:PrincipalTag/team} and other IAM variables byte-for-byte', () => {
    // Prepare
    const template =
      '{ "StringEquals": { "aws:ResourceTag/team": "${aws:PrincipalTag/team}", "a": "${aws:username}-{{AccountId}}", "q": "${*}${?}${$}" } }';

    // Act
    const rendered = renderDesiredPolicy(managedKey(template), CHINA);

    // Assess
    expect(rendered).toBe(template.replace('{{AccountId}}', '210987654321'));
  });

  it('keeps any ${…} text untouched and produces valid JSON (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9:/_-]{1,30}$/), (variableName) => {
        // Prepare
        const template = JSON.stringify({ value: `\${${variableName}}`, account: '{{AccountId}}' });

        // Act
        const rendered = renderDesiredPolicy(managedKey(template), CHINA);

        // Assess
        expect(JSON.parse(rendered)).toEqual({ value: `\${${variableName}}`, account: '210987654321' });
      }),
    );
  });

  it.each([
    ['a misspelt name', '{"a":"{{AccountID}}"}', '{{AccountID}}'],
    ['spaces inside the braces', '{"a":"{{ Region }}"}', '{{ Region }}'],
    ['an empty placeholder', '{"a":"{{}}"}', '{{}}'],
  ])('rejects %s, naming the file and the placeholder', (_case, template, placeholder) => {
    // Act
    const render = () => renderDesiredPolicy(managedKey(template), CHINA);

    // Assess
    expect(render).toThrow(ManifestError);
    expect(render).toThrow(
      `k.json: unknown placeholder ${placeholder} (known: {{Partition}}, {{Region}}, {{AccountId}}, {{GuardPrincipal}})`,
    );
  });

  it.each([
    ['a quote in the region', { ...CHINA, region: 'us-east-1"' }],
    ['a short account ID', { ...CHINA, accountId: '1234' }],
    ['an unknown partition shape', { ...CHINA, partition: 'AWS' }],
  ])('rejects %s so the rendered text stays valid JSON', (_case, values) => {
    // Act
    const render = () => renderPlaceholders('{"a":"{{Region}}"}', values, 'x.json');

    // Assess
    expect(render).toThrow(/^x\.json: invalid placeholder values/);
  });
});

describe('placeholderValuesFromArn', () => {
  it.each([
    [
      'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      'aws',
      'eu-west-1',
      '111122223333',
    ],
    [
      'arn:aws-us-gov:kms:us-gov-west-1:444455556666:key/mrk-1234abcd12ab34cd56ef1234567890ab',
      'aws-us-gov',
      'us-gov-west-1',
      '444455556666',
    ],
    ['arn:aws-cn:kms:cn-north-1:210987654321:alias/payments', 'aws-cn', 'cn-north-1', '210987654321'],
  ])('reads partition, region and account from %s', (arn, partition, region, accountId) => {
    // Act
    const values = placeholderValuesFromArn(arn);

    // Assess
    expect(values).toEqual({ partition, region, accountId });
  });

  it.each([
    'not-an-arn',
    'arn:aws:s3:::bucket',
    'arn:aws:kms:us-east-1:1111:key/x',
    'arn:aws:kms:us-east-1:111122223333',
  ])('rejects %s', (arn) => {
    // Act
    const read = () => placeholderValuesFromArn(arn);

    // Assess
    expect(read).toThrow(ManifestError);
    expect(read).toThrow(`not a KMS key ARN: ${JSON.stringify(arn)}`);
  });
});

describe('guard role ARN', () => {
  it('is the role serverless.yml creates, kms-policy-guard-<region>', () => {
    // Act
    const arn = guardRoleArn({ partition: 'aws', region: 'eu-central-1', accountId: '111122223333' });

    // Assess
    expect(GUARD_ROLE_ARN_TEMPLATE).toBe(
      'arn:{{Partition}}:iam::{{AccountId}}:role/kms-policy-guard-{{Region}}',
    );
    expect(arn).toBe('arn:aws:iam::111122223333:role/kms-policy-guard-eu-central-1');
  });
});

describe('{{GuardPrincipal}}', () => {
  const template = '{"Principal":{"AWS":"{{GuardPrincipal}}"},"Account":"{{AccountId}}"}';

  it.each([
    [
      "the guard's own role in the key's account and Region when no principal is given (one account)",
      { partition: 'aws', region: 'eu-west-1', accountId: '111122223333' },
      'arn:aws:iam::111122223333:role/kms-policy-guard-eu-west-1',
    ],
    [
      'the given principal: the spoke role of a member account',
      {
        partition: 'aws',
        region: 'eu-west-1',
        accountId: '222233334444',
        guardPrincipal: 'arn:aws:iam::222233334444:role/kms-policy-guard-spoke',
      },
      'arn:aws:iam::222233334444:role/kms-policy-guard-spoke',
    ],
    [
      'the given principal with a role path',
      { ...CHINA, guardPrincipal: 'arn:aws-cn:iam::210987654321:role/security/kms-policy-guard-spoke' },
      'arn:aws-cn:iam::210987654321:role/security/kms-policy-guard-spoke',
    ],
  ])('renders as %s', (_case, values, expected) => {
    // Act
    const rendered = JSON.parse(renderPlaceholders(template, values, 'k.json')) as {
      Principal: { AWS: string };
      Account: string;
    };

    // Assess
    expect(rendered.Principal.AWS).toBe(expected);
    expect(rendered.Account).toBe(values.accountId);
  });

  it.each([
    ['a quote that would break the JSON', 'arn:aws:iam::222233334444:role/x"},"Effect":"Allow'],
    ['a user, not a role', 'arn:aws:iam::222233334444:user/alice'],
    ['an account root', 'arn:aws:iam::222233334444:root'],
  ])('refuses a guard principal that is %s, naming the file', (_case, guardPrincipal) => {
    // Act
    const render = () => renderPlaceholders(template, { ...CHINA, guardPrincipal }, 'k.json');

    // Assess
    expect(render).toThrow(ManifestError);
    expect(render).toThrow(
      `k.json: invalid placeholder values: guard principal ${JSON.stringify(guardPrincipal)}`,
    );
  });
});

/**
 * deploy/scp-protect-spoke.json, the recommended SCP: a principal of a member account, even one with full IAM,
 * EventBridge and SQS rights (THREAT-MODEL A2), cannot silence or widen the spoke. The resources it protects are
 * derived from deploy/spoke.yml as rendered for real stack instances, so renaming a resource in the template
 * without updating the SCP fails here.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as z from 'zod';
import { createdArns, loadTemplate, type StackInstance } from '../support/cloudformation';

const ROOT = resolve(__dirname, '../../..');
const SCP_TEXT = readFileSync(join(ROOT, 'deploy/scp-protect-spoke.json'), 'utf8');
const TEMPLATE = loadTemplate(join(ROOT, 'deploy/spoke.yml'));

/** AWS Organizations quota: an SCP document holds at most 5,120 characters (as sent, whitespace included). */
const SCP_MAX_CHARACTERS = 5120;
/** The execution role service-managed StackSets create in every member account (docs/operations.md). */
const STACKSETS_EXECUTION_ROLE = 'arn:*:iam::*:role/stacksets-exec-*';

const stringOrList = z.union([z.string(), z.array(z.string()).min(1)]);
const ScpSchema = z
  .object({
    Version: z.literal('2012-10-17'),
    Statement: z
      .array(
        z
          .object({
            Sid: z.string().regex(/^[A-Za-z0-9]+$/),
            Effect: z.literal('Deny'),
            Action: stringOrList,
            Resource: stringOrList,
            Condition: z.record(z.string(), z.record(z.string(), stringOrList)).optional(),
          })
          .strict(),
      )
      .min(1),
  })
  .strict();
type ScpStatement = z.infer<typeof ScpSchema>['Statement'][number];

const SCP = ScpSchema.parse(JSON.parse(SCP_TEXT));

const list = (value: string | string[]): string[] => (Array.isArray(value) ? value : [value]);

/** `ArnLike`: each of the six colon-separated parts matched on its own, `*` and `?` never crossing a colon. */
function arnLike(pattern: string, arn: string): boolean {
  const split = (text: string) => {
    const parts = text.split(':');
    return [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const patternParts = split(pattern);
  const arnParts = split(arn);
  if (patternParts.length !== 6 || arnParts.length !== 6) return false;
  return patternParts.every((part, index) => {
    const glob = part
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.');
    return new RegExp(`^${glob}$`).test(arnParts[index] ?? '');
  });
}

/** What the spoke template creates in one account: the role Region and two other Regions of the StackSet. */
const ACCOUNT = '111122223333';
const PARAMETERS = {
  HubAccountId: '999988887777',
  HubRegion: 'eu-west-1',
  HubGuardRoleName: 'kms-policy-guard-eu-west-1',
  OrganizationId: 'o-a1b2c3d4e5',
  RoleRegion: 'eu-west-1',
};
const INSTANCES: StackInstance[] = ['eu-west-1', 'us-east-1', 'ap-southeast-2'].map((region) => ({
  accountId: ACCOUNT,
  region,
  parameters: PARAMETERS,
}));
const CREATED = INSTANCES.flatMap((stack) => createdArns(TEMPLATE, stack));

/** What nobody but the StackSet execution role may do to each kind of spoke resource. */
const MUST_DENY: Record<string, string[]> = {
  'AWS::Events::Rule': [
    'events:PutRule',
    'events:DeleteRule',
    'events:DisableRule',
    'events:PutTargets',
    'events:RemoveTargets',
  ],
  'AWS::IAM::Role': [
    'iam:DeleteRole',
    'iam:UpdateAssumeRolePolicy',
    'iam:PutRolePolicy',
    'iam:DeleteRolePolicy',
    'iam:AttachRolePolicy',
    'iam:DetachRolePolicy',
    'iam:UpdateRole',
    'iam:PutRolePermissionsBoundary',
    'iam:DeleteRolePermissionsBoundary',
    'iam:TagRole',
    'iam:UntagRole',
  ],
  'AWS::SQS::Queue': [
    'sqs:DeleteQueue',
    'sqs:SetQueueAttributes',
    'sqs:PurgeQueue',
    'sqs:AddPermission',
    'sqs:RemovePermission',
  ],
};

const protectsSpoke = (statement: ScpStatement) => statement.Condition !== undefined;

describe('deploy/scp-protect-spoke.json', () => {
  it('is a valid SCP: JSON within the 5,120-character quota, Version 2012-10-17, Deny statements only', () => {
    // Act
    const parsed = ScpSchema.safeParse(JSON.parse(SCP_TEXT));

    // Assess
    expect(parsed.success).toBe(true);
    expect(SCP_TEXT.length).toBeLessThanOrEqual(SCP_MAX_CHARACTERS);
    expect(new Set(SCP.Statement.map((statement) => statement.Sid)).size).toBe(SCP.Statement.length);
  });

  it('denies changing the forward rule and its targets, the spoke and forwarder roles and the dead-letter queue, in every Region', () => {
    // Prepare
    const kinds = [...new Set(CREATED.map((resource) => resource.Type))].sort();

    // Act
    const missing = CREATED.flatMap(({ Type, arn }) => {
      const denied = new Set(
        SCP.Statement.filter((statement) =>
          list(statement.Resource).some((pattern) => arnLike(pattern, arn)),
        ).flatMap((statement) => list(statement.Action)),
      );
      return (MUST_DENY[Type] ?? ['(no protection defined)'])
        .filter((action) => !denied.has(action))
        .map((a) => `${arn}: ${a}`);
    });

    // Assess
    expect(kinds).toEqual(Object.keys(MUST_DENY).sort());
    expect(CREATED.map(({ logicalId }) => logicalId)).toEqual(
      expect.arrayContaining(['SpokeRole', 'ForwarderRole']),
    );
    expect(missing).toEqual([]);
  });

  it('names only resources the spoke template creates, each with actions of its own service', () => {
    // Act
    const unmatched = SCP.Statement.filter(protectsSpoke).flatMap((statement) =>
      list(statement.Resource).filter((pattern) => !CREATED.some(({ arn }) => arnLike(pattern, arn))),
    );
    const foreignActions = SCP.Statement.filter(protectsSpoke).flatMap((statement) => {
      const services = new Set(list(statement.Resource).map((pattern) => pattern.split(':')[2]));
      return list(statement.Action).filter((action) => !services.has(action.split(':')[0]));
    });

    // Assess
    expect(SCP.Statement.filter(protectsSpoke).length).toBeGreaterThanOrEqual(3);
    expect(unmatched).toEqual([]);
    expect(foreignActions).toEqual([]);
  });

  it('exempts only the StackSet execution role, by ArnNotLike on aws:PrincipalArn', () => {
    // Prepare
    const exempt = (principalArn: string) => arnLike(STACKSETS_EXECUTION_ROLE, principalArn);

    // Act
    const conditions = SCP.Statement.filter(protectsSpoke).map((statement) => statement.Condition);

    // Assess
    for (const condition of conditions) {
      expect(condition).toEqual({ ArnNotLike: { 'aws:PrincipalArn': STACKSETS_EXECUTION_ROLE } });
    }
    expect(exempt('arn:aws:iam::111122223333:role/stacksets-exec-0123456789abcdef0123456789abcdef')).toBe(
      true,
    );
    expect(
      exempt('arn:aws-us-gov:iam::111122223333:role/stacksets-exec-0123456789abcdef0123456789abcdef'),
    ).toBe(true);
    expect(exempt('arn:aws:iam::111122223333:role/AdministratorAccess')).toBe(false);
    expect(exempt('arn:aws:iam::111122223333:role/kms-policy-guard-spoke')).toBe(false);
    expect(exempt('arn:aws:iam::111122223333:user/stacksets-exec-impostor')).toBe(false);
  });

  it('stops anyone from creating or taking over a role that the exemption would match', () => {
    // Act
    const guard = SCP.Statement.filter((statement) =>
      list(statement.Resource).includes(STACKSETS_EXECUTION_ROLE),
    );

    // Assess
    expect(guard).toHaveLength(1);
    expect(guard[0]?.Condition).toBeUndefined();
    expect(list(guard[0]?.Action ?? [])).toEqual(
      expect.arrayContaining([
        'iam:CreateRole',
        'iam:UpdateAssumeRolePolicy',
        'iam:PutRolePolicy',
        'iam:AttachRolePolicy',
        'iam:PutRolePermissionsBoundary',
      ]),
    );
  });
});

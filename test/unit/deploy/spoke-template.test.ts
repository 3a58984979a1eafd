/**
 * deploy/spoke.yml, the StackSet template of every guarded account, rendered offline for concrete stack
 * instances (test/unit/support/cloudformation.ts): what it forwards and where, whom the spoke role trusts and
 * exactly what it may do (src/guard/permissions.ts is the one list), and that a StackSet deployed to many Regions
 * creates each IAM name once. cfn-lint runs over the same file in test/integration/spoke-template.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  DEFAULT_HUB_EVENT_BUS,
  hubBusArn,
  SPOKE_FORWARD_RULE_NAME,
  spokeForwarderRoleArn,
} from '../../../src/core/spoke-names';
import { KMS_POLICY_CHANGE_EVENT_PATTERN } from '../../../src/guard/event-pattern';
import {
  GUARD_KMS_ACTIONS,
  GUARD_KMS_UNSCOPED_ACTIONS,
  SPOKE_HEALTH_ACTIONS,
  SPOKE_SECURITY_HUB_ACTIONS,
} from '../../../src/guard/permissions';
import {
  failingRuleAssertions,
  isObject,
  type Json,
  type JsonObject,
  loadTemplate,
  type RenderedResource,
  type RenderedStack,
  renderStack,
  type StackInstance,
} from '../support/cloudformation';

const ROOT = resolve(__dirname, '../../..');
const TEMPLATE = loadTemplate(join(ROOT, 'deploy/spoke.yml'));

const SPOKE_ACCOUNT = '111122223333';
const HUB_ACCOUNT = '999988887777';
const ROLE_REGION = 'eu-west-1';
const OTHER_REGIONS = ['us-east-1', 'ap-southeast-2'];
const HUB_PARAMETERS = {
  HubAccountId: HUB_ACCOUNT,
  HubRegion: 'eu-west-1',
  HubGuardRoleName: 'kms-policy-guard-eu-west-1',
  RoleRegion: ROLE_REGION,
  OrganizationId: 'o-a1b2c3d4e5',
};
// What the organization audit expects of each spoke's rule target (src/app/spoke-feed.ts).
const HUB_BUS_ARN = hubBusArn('aws', 'eu-west-1', HUB_ACCOUNT, DEFAULT_HUB_EVENT_BUS);
const HUB_GUARD_ROLE_ARN = `arn:aws:iam::${HUB_ACCOUNT}:role/kms-policy-guard-eu-west-1`;

function instance(region: string, parameters: Record<string, string> = {}): StackInstance {
  return { accountId: SPOKE_ACCOUNT, region, parameters: { ...HUB_PARAMETERS, ...parameters } };
}

function render(region: string, parameters: Record<string, string> = {}): RenderedStack {
  return renderStack(TEMPLATE, instance(region, parameters));
}

function resourceIn(stack: RenderedStack, logicalId: string): RenderedResource {
  const found = stack.resources.find((resource) => resource.logicalId === logicalId);
  if (!found) throw new Error(`the rendered stack has no ${logicalId}`);
  return found;
}

function objects(value: Json | undefined, what: string): JsonObject[] {
  if (!Array.isArray(value) || !value.every(isObject)) throw new Error(`${what} must be a list of objects`);
  return value;
}

function only<T>(items: T[], what: string): T {
  const [item] = items;
  if (items.length !== 1 || item === undefined)
    throw new Error(`expected exactly one ${what}, found ${items.length}`);
  return item;
}

/** Every statement of a role's inline policies. */
function permissionStatements(role: RenderedResource): JsonObject[] {
  return objects(role.Properties.Policies, `${role.logicalId}.Policies`).flatMap((policy) => {
    const document = policy.PolicyDocument;
    if (!isObject(document)) throw new Error(`${role.logicalId} has a policy without a document`);
    return objects(document.Statement, `${role.logicalId} policy statements`);
  });
}

function trustStatements(role: RenderedResource): JsonObject[] {
  const document = role.Properties.AssumeRolePolicyDocument;
  if (!isObject(document)) throw new Error(`${role.logicalId} has no trust policy`);
  return objects(document.Statement, `${role.logicalId} trust statements`);
}

function actionsOf(statement: JsonObject): string[] {
  const { Action } = statement;
  if (typeof Action === 'string') return [Action];
  if (Array.isArray(Action) && Action.every((action) => typeof action === 'string'))
    return Action as string[];
  throw new Error(`statement ${String(statement.Sid)} has no Action list`);
}

function resourcesOf(statement: JsonObject): Json[] {
  const { Resource } = statement;
  return Array.isArray(Resource) ? Resource : [Resource ?? null];
}

function allowedActions(role: RenderedResource): string[] {
  const allowed = permissionStatements(role).filter((statement) => statement.Effect === 'Allow');
  return [...new Set(allowed.flatMap(actionsOf))].sort();
}

function physicalName(logicalId: string, property: string): string {
  const name = TEMPLATE.Resources[logicalId]?.Properties[property];
  if (typeof name !== 'string') throw new Error(`${logicalId}.${property} must be a literal name`);
  return name;
}

const FORWARD_RULE_NAME = physicalName('ForwardRule', 'Name');
const DEAD_LETTER_QUEUE_NAME = physicalName('DeadLetterQueue', 'QueueName');

describe('deploy/spoke.yml', () => {
  describe('forwarding to the hub', () => {
    it('forwards exactly the drift rule’s event pattern (KMS_POLICY_CHANGE_EVENT_PATTERN), enabled, from the default bus', () => {
      // Act
      const rule = TEMPLATE.Resources.ForwardRule;

      // Assess
      expect(rule?.Type).toBe('AWS::Events::Rule');
      // The name the organization audit checks in every member account (src/app/spoke-feed.ts).
      expect(FORWARD_RULE_NAME).toBe(SPOKE_FORWARD_RULE_NAME);
      expect(rule?.Properties.EventPattern).toEqual(KMS_POLICY_CHANGE_EVENT_PATTERN);
      expect(rule?.Properties.State).toBe('ENABLED');
      expect(rule?.Properties.EventBusName).toBeUndefined();
    });

    it('sends each event to the hub bus in the hub Region through the forwarder role, retrying 24 h before dead-lettering it', () => {
      // Prepare
      const stack = render('ap-southeast-2');

      // Act
      const target = only(
        objects(resourceIn(stack, 'ForwardRule').Properties.Targets, 'Targets'),
        'rule target',
      );

      // Assess
      expect(target).toEqual({
        Id: expect.any(String),
        Arn: HUB_BUS_ARN,
        RoleArn: spokeForwarderRoleArn('aws', SPOKE_ACCOUNT, 'ap-southeast-2'),
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
        DeadLetterConfig: { Arn: `arn:aws:sqs:ap-southeast-2:${SPOKE_ACCOUNT}:${DEAD_LETTER_QUEUE_NAME}` },
      });
    });

    it('lets only EventBridge, for this account’s forward rule, assume the forwarder role, and only to put events on the hub bus', () => {
      // Prepare
      const role = resourceIn(render('us-east-1'), 'ForwarderRole');

      // Act
      const trust = trustStatements(role);
      const permissions = permissionStatements(role);

      // Assess
      expect(trust).toEqual([
        {
          Sid: expect.any(String),
          Effect: 'Allow',
          Principal: { Service: 'events.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: {
            StringEquals: { 'aws:SourceAccount': SPOKE_ACCOUNT },
            ArnEquals: {
              'aws:SourceArn': `arn:aws:events:us-east-1:${SPOKE_ACCOUNT}:rule/${FORWARD_RULE_NAME}`,
            },
          },
        },
      ]);
      expect(permissions).toEqual([
        { Sid: expect.any(String), Effect: 'Allow', Action: 'events:PutEvents', Resource: HUB_BUS_ARN },
      ]);
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.PermissionsBoundary).toBeUndefined();
    });

    it('keeps dead letters 14 days, encrypted, accepts them only from the forward rule, and names the queue in the outputs', () => {
      // Prepare
      const stack = render('us-east-1');
      const queueArn = `arn:aws:sqs:us-east-1:${SPOKE_ACCOUNT}:${DEAD_LETTER_QUEUE_NAME}`;

      // Act
      const queue = resourceIn(stack, 'DeadLetterQueue').Properties;
      const policy = resourceIn(stack, 'DeadLetterQueuePolicy').Properties;

      // Assess
      expect(queue).toMatchObject({ MessageRetentionPeriod: 1209600, SqsManagedSseEnabled: true });
      expect(policy.Queues).toEqual([
        `https://sqs.us-east-1.amazonaws.com/${SPOKE_ACCOUNT}/${DEAD_LETTER_QUEUE_NAME}`,
      ]);
      expect(policy.PolicyDocument).toEqual({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: expect.any(String),
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Resource: queueArn,
            Condition: {
              ArnEquals: {
                'aws:SourceArn': `arn:aws:events:us-east-1:${SPOKE_ACCOUNT}:rule/${FORWARD_RULE_NAME}`,
              },
            },
          },
        ],
      });
      expect(TEMPLATE.Outputs.DeadLetterQueueUrl?.Value).toEqual({ Ref: 'DeadLetterQueue' });
    });
  });

  describe('the spoke role', () => {
    it.each<[string, Record<string, string>, Record<string, string>]>([
      ['the organization ID only', { ExternalId: '' }, { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' }],
      [
        'the external ID only',
        { OrganizationId: '', ExternalId: 'guard-7f3a' },
        { 'sts:ExternalId': 'guard-7f3a' },
      ],
      [
        'both the organization ID and the external ID',
        { ExternalId: 'guard-7f3a' },
        { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5', 'sts:ExternalId': 'guard-7f3a' },
      ],
    ])(
      'trusts only the hub guard role, with %s, for sessions of at most an hour',
      (_, parameters, conditions) => {
        // Prepare
        const role = resourceIn(render(ROLE_REGION, parameters), 'SpokeRole');

        // Act
        const trust = trustStatements(role);

        // Assess
        expect(trust).toEqual([
          {
            Sid: expect.any(String),
            Effect: 'Allow',
            Principal: { AWS: HUB_GUARD_ROLE_ARN },
            Action: 'sts:AssumeRole',
            Condition: { StringEquals: conditions },
          },
        ]);
        expect(role.Properties.MaxSessionDuration).toBe(3600);
        expect(role.Properties.RoleName).toBe('kms-policy-guard-spoke');
      },
    );

    const EITHER_OR_BOTH: Record<string, string>[] = [
      { ExternalId: '' },
      { OrganizationId: '', ExternalId: 'guard-7f3a' },
      { ExternalId: 'guard-7f3a' },
    ];

    it('refuses a stack without OrganizationId and ExternalId, so the role never trusts the hub role ARN alone', () => {
      // Act
      const neither = failingRuleAssertions(
        TEMPLATE,
        instance(ROLE_REGION, { OrganizationId: '', ExternalId: '' }),
      );
      const eitherOrBoth = EITHER_OR_BOTH.map((parameters) =>
        failingRuleAssertions(TEMPLATE, instance(ROLE_REGION, parameters)),
      );

      // Assess
      expect(neither).toEqual([expect.stringContaining('OrganizationId')]);
      expect(eitherOrBoth).toEqual([[], [], []]);
    });

    it.each([
      ['false', []],
      ['true', SPOKE_SECURITY_HUB_ACTIONS],
    ])(
      'allows exactly GUARD_KMS_ACTIONS and SPOKE_HEALTH_ACTIONS (and Security Hub only when SecurityHubFindings=true): %s',
      (securityHubFindings, securityHubActions) => {
        // Prepare
        const role = resourceIn(
          render(ROLE_REGION, { SecurityHubFindings: securityHubFindings }),
          'SpokeRole',
        );

        // Act
        const actions = allowedActions(role);

        // Assess
        expect(actions).toEqual(
          [...new Set([...GUARD_KMS_ACTIONS, ...SPOKE_HEALTH_ACTIONS, ...securityHubActions])].sort(),
        );
        // What the Security Hub sink calls (src/aws/security-hub.ts), each on the one resource it needs.
        expect(
          permissionStatements(role)
            .filter((statement) => actionsOf(statement).some((action) => action.startsWith('securityhub:')))
            .map((statement) => [actionsOf(statement), resourcesOf(statement)]),
        ).toEqual(
          securityHubActions.length === 0
            ? []
            : [
                [
                  ['securityhub:BatchImportFindings'],
                  [`arn:aws:securityhub:*:${SPOKE_ACCOUNT}:product/${SPOKE_ACCOUNT}/default`],
                ],
                [['securityhub:GetFindings'], [`arn:aws:securityhub:*:${SPOKE_ACCOUNT}:hub/default`]],
              ],
        );
      },
    );

    it('scopes every KMS action but ListKeys and ListAliases to this account’s keys', () => {
      // Prepare
      const role = resourceIn(render(ROLE_REGION), 'SpokeRole');
      const kmsAllows = permissionStatements(role).filter(
        (statement) => statement.Effect === 'Allow' && actionsOf(statement).some((a) => a.startsWith('kms:')),
      );

      // Act
      const byResource = kmsAllows.map((statement) => [resourcesOf(statement), actionsOf(statement).sort()]);

      // Assess
      expect(byResource).toEqual([
        [['*'], [...GUARD_KMS_UNSCOPED_ACTIONS].sort()],
        [
          [`arn:aws:kms:*:${SPOKE_ACCOUNT}:key/*`],
          GUARD_KMS_ACTIONS.filter(
            (action) => !(GUARD_KMS_UNSCOPED_ACTIONS as readonly string[]).includes(action),
          ).sort(),
        ],
      ]);
    });

    it('denies PutKeyPolicy to any request that bypasses the policy lockout safety check', () => {
      // Prepare
      const role = resourceIn(render(ROLE_REGION), 'SpokeRole');

      // Act
      const denies = permissionStatements(role).filter((statement) => statement.Effect === 'Deny');

      // Assess
      expect(denies).toEqual([
        {
          Sid: expect.any(String),
          Effect: 'Deny',
          Action: 'kms:PutKeyPolicy',
          Resource: '*',
          Condition: { Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' } },
        },
      ]);
    });

    it('reads only this account’s forward rule and the trails for the health checks, in any Region, and nothing of SQS', () => {
      // Prepare
      const role = resourceIn(render(ROLE_REGION), 'SpokeRole');
      const statements = permissionStatements(role);

      // Act
      const resourcesFor = (prefix: string) =>
        statements
          .filter((statement) => actionsOf(statement).some((action) => action.startsWith(prefix)))
          .flatMap(resourcesOf);

      // Assess
      expect(resourcesFor('events:')).toEqual([
        `arn:aws:events:*:${SPOKE_ACCOUNT}:rule/${SPOKE_FORWARD_RULE_NAME}`,
      ]);
      // The organization audit reads no queue (src/app/spoke-feed.ts): no sqs action at all.
      expect(resourcesFor('sqs:')).toEqual([]);
      expect(resourcesFor('cloudtrail:').sort()).toEqual(['*', 'arn:aws:cloudtrail:*:*:trail/*']);
    });
  });

  describe('least privilege', () => {
    const everyInstance = [ROLE_REGION, ...OTHER_REGIONS].flatMap((region) =>
      ['false', 'true'].map((securityHubFindings) =>
        render(region, { SecurityHubFindings: securityHubFindings }),
      ),
    );

    it('allows no wildcard action, no kms:*, no iam: action at all, and names Action and Resource in every statement', () => {
      // Act
      const statements = everyInstance.flatMap((stack) =>
        stack.resources
          .filter((resource) => resource.Type === 'AWS::IAM::Role')
          .flatMap((role) => [...permissionStatements(role), ...trustStatements(role)]),
      );
      const permissionActions = everyInstance.flatMap((stack) =>
        stack.resources
          .filter((resource) => resource.Type === 'AWS::IAM::Role')
          .flatMap((role) => permissionStatements(role).flatMap(actionsOf)),
      );

      // Assess
      expect(statements.length).toBeGreaterThan(0);
      for (const statement of statements) {
        expect(Object.keys(statement)).not.toEqual(
          expect.arrayContaining([expect.stringMatching(/^Not(Action|Resource|Principal)$/)]),
        );
        expect(actionsOf(statement).length).toBeGreaterThan(0);
      }
      expect(permissionActions.filter((action) => action.includes('*') || action.startsWith('iam:'))).toEqual(
        [],
      );
      for (const role of everyInstance.flatMap((stack) =>
        stack.resources.filter((r) => r.Type === 'AWS::IAM::Role'),
      )) {
        for (const statement of permissionStatements(role)) expect(statement.Resource).toBeDefined();
      }
    });
  });

  describe('one StackSet, many Regions', () => {
    it('creates the spoke role only in RoleRegion, and no IAM role name twice across the Regions of one account', () => {
      // Act
      const stacks = [ROLE_REGION, ...OTHER_REGIONS].map((region) => ({ region, stack: render(region) }));
      const roleNames = stacks.flatMap(({ stack }) =>
        stack.resources
          .filter((resource) => resource.Type === 'AWS::IAM::Role')
          .map((role) => role.Properties.RoleName),
      );

      // Assess
      expect(
        stacks.map(({ region, stack }) => [region, stack.resources.some((r) => r.logicalId === 'SpokeRole')]),
      ).toEqual([[ROLE_REGION, true], ...OTHER_REGIONS.map((region) => [region, false])]);
      expect(roleNames).toHaveLength(1 + stacks.length);
      expect(new Set(roleNames).size).toBe(roleNames.length);
    });

    it('puts the RoleRegion condition on every account-level resource (IAM whose name does not carry the Region)', () => {
      // Prepare
      const namesIn = (region: string) =>
        new Map(
          renderStack(TEMPLATE, {
            ...instance(region),
            parameters: { ...HUB_PARAMETERS, RoleRegion: region },
          })
            .resources.filter((resource) => resource.Type.startsWith('AWS::IAM::'))
            .map((resource) => [
              resource.logicalId,
              JSON.stringify(resource.Properties.RoleName ?? resource.Properties),
            ]),
        );
      const [first, second] = [namesIn('us-east-1'), namesIn('eu-central-1')];

      // Act
      const accountLevel = [...first.keys()].filter(
        (logicalId) => first.get(logicalId) === second.get(logicalId),
      );

      // Assess
      expect(accountLevel).toEqual(['SpokeRole']);
      for (const logicalId of accountLevel)
        expect(TEMPLATE.Resources[logicalId]?.Condition).toBe('IsRoleRegion');
      expect(TEMPLATE.Conditions.IsRoleRegion).toEqual({
        'Fn::Equals': [{ Ref: 'AWS::Region' }, { Ref: 'RoleRegion' }],
      });
      expect(TEMPLATE.Outputs.SpokeRoleArn?.Condition).toBe('IsRoleRegion');
    });
  });
});

describe('the documented create-stack-set commands', () => {
  /** The ParameterKey values of the `aws cloudformation create-stack-set` block of a Markdown file. */
  function documentedParameters(file: string): string[] {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const block = /aws cloudformation create-stack-set \\\n([\s\S]*?)\n```/.exec(text)?.[1];
    if (block === undefined) throw new Error(`${file}: no create-stack-set command`);
    return [...block.matchAll(/ParameterKey=(\w+),ParameterValue=/g)].map((match) => match[1] ?? '');
  }

  it.each(['README.md', 'docs/operations.md'])(
    'in %s names only parameters of deploy/spoke.yml, and every one without a default',
    (file) => {
      // Prepare
      const parameters = Object.entries(TEMPLATE.Parameters);
      const required = parameters.filter(([, parameter]) => !('Default' in parameter)).map(([name]) => name);

      // Act
      const documented = documentedParameters(file);

      // Assess
      expect(documented.filter((name) => !(name in TEMPLATE.Parameters))).toEqual([]);
      expect(required.filter((name) => !documented.includes(name))).toEqual([]);
      expect(required.length).toBeGreaterThan(0);
    },
  );
});

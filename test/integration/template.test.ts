/**
 * Packages serverless.yml offline (no credentials, a temp --package directory) and checks the
 * CloudFormation template and the zips: least-privilege IAM per role (the guard role of drift and audit,
 * notify-slack's own role), the drift rule pattern, the audit schedule, failure handling, alarms, the
 * state table, configuration without secrets (the one secret, the Slack webhook URL, is read from SSM),
 * and policies/ shipped next to the handlers.
 * It lives with the integration tests because packaging takes seconds, not milliseconds.
 *
 * That the Slack notifier never logs the webhook URL is proven at run time, not here:
 * test/unit/handlers/notify-slack.test.ts ("never logs the webhook URL, on success or on failure" and
 * "refuses a parameter value … never the value") runs the handler over a mocked SSM GetParameter that
 * returns a recognisable URL and captures every log line.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { findOnPath } from '../../dev/moto-server';
import { EMITTED_METRICS, GUARD_METRICS } from '../../src/app/metrics';
import { KMS_POLICY_CHANGE_EVENT_PATTERN } from '../../src/guard/event-pattern';
import { GUARD_KMS_ACTIONS, GUARD_KMS_UNSCOPED_ACTIONS } from '../../src/guard/permissions';
import { guardRoleArn, loadManifest } from '../../src/manifest';
import { SLACK_FILTER_POLICIES } from './support/severity-routing';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const SERVERLESS = join(ROOT, 'node_modules/.bin/serverless');
const PACKAGE_TIMEOUT_MS = 180_000;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Resource {
  Type: string;
  Condition?: string;
  Properties: Record<string, Json>;
}
interface Template {
  Parameters?: Record<string, Record<string, Json>>;
  Conditions?: Record<string, Json>;
  Resources: Record<string, Resource>;
}
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Resource: Json;
  Condition?: Json;
}

/** Packages into a fresh directory with a clean environment: no AWS credentials, a throwaway HOME. */
async function packageService(args: string[]): Promise<{ dir: string; template: Template }> {
  const dir = mkdtempSync(join(tmpdir(), 'kms-guard-package-'));
  const home = mkdtempSync(join(tmpdir(), 'kms-guard-home-'));
  await run(SERVERLESS, ['package', '--stage', 'dev', '--package', dir, ...args], {
    cwd: ROOT,
    timeout: PACKAGE_TIMEOUT_MS,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      SLS_TELEMETRY_DISABLED: '1',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  });
  rmSync(home, { recursive: true, force: true });
  const template = JSON.parse(
    readFileSync(join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template;
  return { dir, template };
}

/** Names of the entries in a zip file, read from its central directory (no unzip binary needed). */
function zipEntryNames(file: string): string[] {
  const zip = readFileSync(file);
  const endOfCentralDirectory = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (endOfCentralDirectory < 0) throw new Error(`${file} is not a zip file`);
  const entryCount = zip.readUInt16LE(endOfCentralDirectory + 10);
  let offset = zip.readUInt32LE(endOfCentralDirectory + 16);
  const names: string[] = [];
  for (let index = 0; index < entryCount; index += 1) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error(`${file}: bad central directory entry`);
    const nameLength = zip.readUInt16LE(offset + 28);
    const extraLength = zip.readUInt16LE(offset + 30);
    const commentLength = zip.readUInt16LE(offset + 32);
    names.push(zip.toString('utf8', offset + 46, offset + 46 + nameLength));
    offset += 46 + nameLength + extraLength + commentLength;
  }
  return names;
}

function resourcesOfType(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

function resource(template: Template, logicalId: string): Resource {
  const found = template.Resources[logicalId];
  if (!found) throw new Error(`the template has no resource ${logicalId}`);
  return found;
}

/** Every statement of one role: its inline policies and any AWS::IAM::Policy attached to it. */
function roleStatements(template: Template, roleId: string): Statement[] {
  const role = resource(template, roleId);
  const policies = (role.Properties.Policies ?? []) as unknown as {
    PolicyDocument: { Statement: Statement[] };
  }[];
  const statements = policies.flatMap((policy) => policy.PolicyDocument.Statement);
  for (const [, policy] of resourcesOfType(template, 'AWS::IAM::Policy')) {
    const roles = (policy.Properties.Roles ?? []) as Json[];
    if (roles.some((role) => JSON.stringify(role) === JSON.stringify({ Ref: roleId }))) {
      statements.push(
        ...(policy.Properties.PolicyDocument as unknown as { Statement: Statement[] }).Statement,
      );
    }
  }
  return statements;
}

/** Every statement of every role and every standalone policy in the template. */
function iamStatements(template: Template): Statement[] {
  const statements: Statement[] = [];
  for (const [, role] of resourcesOfType(template, 'AWS::IAM::Role')) {
    const policies = (role.Properties.Policies ?? []) as unknown as {
      PolicyDocument: { Statement: Statement[] };
    }[];
    for (const policy of policies) statements.push(...policy.PolicyDocument.Statement);
  }
  for (const [, policy] of resourcesOfType(template, 'AWS::IAM::Policy')) {
    statements.push(...(policy.Properties.PolicyDocument as unknown as { Statement: Statement[] }).Statement);
  }
  for (const [, policy] of resourcesOfType(template, 'AWS::IAM::ManagedPolicy')) {
    statements.push(...(policy.Properties.PolicyDocument as unknown as { Statement: Statement[] }).Statement);
  }
  return statements;
}

function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

function withActionPrefix(statements: Statement[], prefix: string): Statement[] {
  return statements.filter((statement) =>
    actionsOf(statement).some((action) => action.toLowerCase().startsWith(prefix)),
  );
}

function single<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`);
  const [item] = items;
  if (item === undefined) throw new Error(`expected exactly one ${what}`);
  return item;
}

function environmentOf(template: Template, functionId: string): Record<string, Json> {
  const environment = resource(template, functionId).Properties.Environment as
    | { Variables: Record<string, Json> }
    | undefined;
  return environment?.Variables ?? {};
}

/** The EventBridge rule that routes CloudTrail KMS events to the drift function (on the hub bus). */
function driftRule(template: Template): Resource {
  const [, rule] = single(
    resourcesOfType(template, 'AWS::Events::Rule').filter(
      ([, rule]) => rule.Properties.EventPattern && rule.Properties.EventBusName,
    ),
    'drift rule',
  );
  return rule;
}

/** The rule that forwards this account's CloudTrail KMS events from the default bus to the hub bus. */
function forwardRule(template: Template): Resource {
  return resource(template, 'HubForwardRule');
}

/** The EventBridge rule that runs the audit (the one with a schedule). */
function scheduleRule(template: Template): Resource {
  const [, rule] = single(
    resourcesOfType(template, 'AWS::Events::Rule').filter(([, rule]) => rule.Properties.ScheduleExpression),
    'schedule rule',
  );
  return rule;
}

/** The template as CloudFormation deploys it for the given condition values: resources of a false condition gone. */
function deployedWith(template: Template, conditions: Record<string, boolean>): Template {
  return {
    ...template,
    Resources: Object.fromEntries(
      Object.entries(template.Resources).filter(
        ([, resource]) => resource.Condition === undefined || conditions[resource.Condition] !== false,
      ),
    ),
  };
}

const GUARD_ROLE = 'IamRoleLambdaExecution';
const SLACK_ROLE = 'SlackNotifierRole';
const FUNCTIONS = {
  drift: 'DriftLambdaFunction',
  audit: 'AuditLambdaFunction',
  notifySlack: 'NotifyDashslackLambdaFunction',
  notifySlackUrgent: 'NotifyDashslackDashurgentLambdaFunction',
  auditWorker: 'AuditDashworkerLambdaFunction',
} as const;
const ALERTS_KEY = { 'Fn::GetAtt': ['AlertsKey', 'Arn'] };

function allows(statements: Statement[]): Statement[] {
  return statements.filter((statement) => statement.Effect === 'Allow');
}
const KEYS_OF_THIS_ACCOUNT_AND_REGION = {
  'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*',
};
const WEBHOOK_PARAMETER_ARN = {
  'Fn::Sub':
    'arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${SlackWebhookParameterName}',
};
const DEAD_LETTER_QUEUE = { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] };
const SECRET_LOOKING_NAME = /secret|token|password|passwd|credential|webhook_?url|api_?key|private/i;
const SECRET_LOOKING_VALUE = /hooks\.slack\.com|https?:\/\/|AKIA[0-9A-Z]{16}|-----BEGIN|xox[abpr]-/;

describe('serverless package (offline)', () => {
  let defaultPackage: { dir: string; template: Template };
  let template: Template;

  beforeAll(async () => {
    defaultPackage = await packageService([]);
    // What CloudFormation creates with the default parameters: Security Hub off.
    template = deployedWith(defaultPackage.template, { SecurityHubEnabled: false });
  }, PACKAGE_TIMEOUT_MS);

  afterAll(() => {
    rmSync(defaultPackage.dir, { recursive: true, force: true });
  });

  describe('least privilege', () => {
    it('has exactly three roles: the guard role, the Slack notifier’s and the hub forwarder’s, and no other IAM policy resource', () => {
      // Act
      const roles = resourcesOfType(template, 'AWS::IAM::Role').map(([id]) => id);
      const otherPolicies = [
        ...resourcesOfType(template, 'AWS::IAM::ManagedPolicy'),
        ...resourcesOfType(template, 'AWS::IAM::Policy'),
      ];

      // Assess
      // The forwarder role only lets EventBridge put this account's KMS events on the hub bus.
      expect(roles.sort()).toEqual(['HubForwarderRole', GUARD_ROLE, SLACK_ROLE]);
      expect(roleStatements(template, 'HubForwarderRole')).toEqual([
        { Effect: 'Allow', Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': ['HubEventBus', 'Arn'] } },
      ]);
      expect(otherPolicies).toEqual([]);
    });

    it('grants no "*" action and no wildcard action (kms:*, kms:*Key*, …) in any statement of any role', () => {
      // Act
      const actions = iamStatements(template).flatMap(actionsOf);

      // Assess
      expect(actions.length).toBeGreaterThan(0);
      expect(actions.filter((action) => action.includes('*') || action.includes('?'))).toEqual([]);
    });

    it('grants Allow statements with Action and Resource (no NotAction, no NotResource), and denies only a lockout-check bypass', () => {
      // Act
      const statements = iamStatements(template);
      const denies = statements.filter((statement) => statement.Effect !== 'Allow');

      // Assess
      // The one Deny: the guard role can never call PutKeyPolicy with BypassPolicyLockoutSafetyCheck.
      expect(denies).toEqual([
        {
          Sid: 'NeverBypassTheLockoutSafetyCheck',
          Effect: 'Deny',
          Action: ['kms:PutKeyPolicy'],
          Resource: '*',
          Condition: { Bool: { 'kms:BypassPolicyLockoutSafetyCheck': 'true' } },
        },
      ]);
      expect(roleStatements(template, GUARD_ROLE)).toContain(single(denies, 'Deny statement'));
      for (const statement of statements) {
        expect(Object.keys(statement)).not.toContain('NotAction');
        expect(Object.keys(statement)).not.toContain('NotResource');
        expect(statement.Resource).toBeDefined();
      }
    });

    it('grants the guard role exactly the KMS actions it needs, key actions scoped to this account and region', () => {
      // Act
      const kms = withActionPrefix(allows(roleStatements(template, GUARD_ROLE)), 'kms:').map((statement) => ({
        actions: [...actionsOf(statement)].sort(),
        resource: statement.Resource,
        condition: statement.Condition,
      }));

      // Assess
      expect(kms).toEqual([
        { actions: ['kms:ListAliases', 'kms:ListKeys'], resource: '*', condition: undefined },
        {
          // Exactly the guard's key actions (src/guard/permissions.ts), the same the spoke role holds.
          actions: GUARD_KMS_ACTIONS.filter(
            (action) => !(GUARD_KMS_UNSCOPED_ACTIONS as readonly string[]).includes(action),
          ).sort(),
          resource: KEYS_OF_THIS_ACCOUNT_AND_REGION,
          condition: undefined,
        },
        // The findings topic and the dead-letter queue are encrypted with the stack's alerts key.
        { actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resource: ALERTS_KEY, condition: undefined },
      ]);
    });

    it('grants kms:PutKeyPolicy in one statement only, on keys of this account and region', () => {
      // Act
      const writers = allows(iamStatements(template)).filter((statement) =>
        actionsOf(statement).some((action) => action.toLowerCase() === 'kms:putkeypolicy'),
      );

      // Assess
      expect(writers.map((statement) => statement.Resource)).toEqual([KEYS_OF_THIS_ACCOUNT_AND_REGION]);
      expect(roleStatements(template, GUARD_ROLE)).toContain(single(writers, 'PutKeyPolicy statement'));
    });

    it('allows Resource "*" only for kms:ListKeys, kms:ListAliases, cloudtrail:DescribeTrails and the Organizations listings', () => {
      // Act
      const unscoped = allows(iamStatements(template)).filter((statement) =>
        JSON.stringify(statement.Resource).match(/^"\*"$|^\[.*"\*".*\]$/),
      );

      // Assess
      // IAM supports no resource for these; each only lists names and settings.
      expect(unscoped.flatMap(actionsOf).sort()).toEqual([
        'cloudtrail:DescribeTrails',
        'kms:ListAliases',
        'kms:ListKeys',
        'organizations:ListAccounts',
        'organizations:ListParents',
      ]);
    });

    it('lets the Slack role use KMS only to decrypt the webhook parameter through SSM and to dead-letter, and touch no key policy', () => {
      // Act
      const kms = withActionPrefix(roleStatements(template, SLACK_ROLE), 'kms:');

      // Assess
      expect(kms).toEqual([
        {
          Sid: 'DecryptSlackWebhookParameter',
          Effect: 'Allow',
          Action: 'kms:Decrypt',
          Resource: KEYS_OF_THIS_ACCOUNT_AND_REGION,
          Condition: {
            StringEquals: {
              'kms:ViaService': { 'Fn::Sub': 'ssm.${AWS::Region}.amazonaws.com' },
              'kms:EncryptionContext:PARAMETER_ARN': WEBHOOK_PARAMETER_ARN,
            },
          },
        },
        {
          Sid: 'UseTheAlertsKeyForDeadLetters',
          Effect: 'Allow',
          Action: ['kms:GenerateDataKey', 'kms:Decrypt'],
          Resource: ALERTS_KEY,
        },
      ]);
    });

    it('lets only the Slack role read SSM, and only GetParameter on the one webhook parameter', () => {
      // Act
      const ssmAnywhere = withActionPrefix(iamStatements(template), 'ssm:');
      const ssmOfSlack = withActionPrefix(roleStatements(template, SLACK_ROLE), 'ssm:');
      const secretsManager = withActionPrefix(iamStatements(template), 'secretsmanager:');

      // Assess
      expect(ssmOfSlack.map((statement) => [actionsOf(statement), statement.Resource])).toEqual([
        [['ssm:GetParameter'], WEBHOOK_PARAMETER_ARN],
      ]);
      expect(ssmAnywhere).toEqual(ssmOfSlack);
      expect(secretsManager).toEqual([]);
      // Outside the Slack role, kms:Decrypt only on the stack's own alerts key.
      expect(
        iamStatements(template)
          .filter(
            (statement) =>
              !roleStatements(template, SLACK_ROLE).includes(statement) &&
              actionsOf(statement).some((action) => action.toLowerCase() === 'kms:decrypt'),
          )
          .map((statement) => statement.Resource),
      ).toEqual([ALERTS_KEY]);
    });

    it('gives the Slack role nothing but its own logs, the webhook parameter and the (encrypted) dead-letter queue', () => {
      // Act
      const granted = roleStatements(template, SLACK_ROLE).map((statement) => [
        [...actionsOf(statement)].sort(),
        statement.Resource,
      ]);
      const trust = resource(template, SLACK_ROLE).Properties.AssumeRolePolicyDocument;

      // Assess
      expect(granted).toEqual([
        [
          ['logs:CreateLogStream', 'logs:PutLogEvents'],
          ['notify-slack', 'notify-slack-urgent'].map((name) => ({
            'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/kms-policy-guard-dev-${name}:*`,
          })),
        ],
        [['ssm:GetParameter'], WEBHOOK_PARAMETER_ARN],
        [['kms:Decrypt'], KEYS_OF_THIS_ACCOUNT_AND_REGION],
        [['sqs:SendMessage'], DEAD_LETTER_QUEUE],
        [['kms:Decrypt', 'kms:GenerateDataKey'], ALERTS_KEY],
      ]);
      expect(trust).toEqual({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      });
    });

    it('runs drift and audit under the guard role and both Slack notifiers under their own role', () => {
      // Act
      const roles = Object.fromEntries(
        Object.entries(FUNCTIONS).map(([name, id]) => [name, resource(template, id).Properties.Role]),
      );

      // Assess
      expect(roles).toEqual({
        drift: { 'Fn::GetAtt': [GUARD_ROLE, 'Arn'] },
        audit: { 'Fn::GetAtt': [GUARD_ROLE, 'Arn'] },
        notifySlack: { 'Fn::Sub': `\${${SLACK_ROLE}.Arn}` },
        notifySlackUrgent: { 'Fn::Sub': `\${${SLACK_ROLE}.Arn}` },
        auditWorker: { 'Fn::GetAtt': [GUARD_ROLE, 'Arn'] },
      });
    });

    it('grants DynamoDB item actions on the state table only, in the guard’s own partitions; the ledger is append-only', () => {
      // Act
      const dynamo = withActionPrefix(iamStatements(template), 'dynamodb:').map((statement) => ({
        actions: [...actionsOf(statement)].sort(),
        resource: statement.Resource,
        condition: statement.Condition,
        ofGuard: roleStatements(template, GUARD_ROLE).includes(statement),
      }));
      const table = { 'Fn::GetAtt': ['StateTable', 'Arn'] };
      const leadingKeys = (keys: string[]) => ({
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': keys },
      });

      // Assess
      expect(dynamo).toEqual([
        {
          actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
          resource: table,
          condition: leadingKeys([
            'idempotency#drift',
            'key#arn:*:kms:*',
            'bindings#*',
            'outbox#*',
            'fold#*',
            'run#*',
          ]),
          ofGuard: true,
        },
        {
          // Never on key#… (the ledger of overwritten documents and revoked grants): once recorded, the
          // guard's own role cannot rewrite or delete the evidence.
          actions: ['dynamodb:DeleteItem', 'dynamodb:UpdateItem'],
          resource: table,
          condition: leadingKeys(['idempotency#drift', 'bindings#*', 'outbox#*', 'fold#*', 'run#*']),
          ofGuard: true,
        },
      ]);
    });

    it('grants events:DescribeRule and ListTargetsByRule on the drift, forward and audit rules only; the forwarder only PutEvents on the hub bus', () => {
      // Prepare
      const ruleArn = (name: Json | undefined) => ({
        'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/${String(name)}`,
      });

      // Act
      const events = withActionPrefix(roleStatements(template, GUARD_ROLE), 'events:');
      const others = withActionPrefix(iamStatements(template), 'events:').filter(
        (statement) => !events.includes(statement),
      );

      // Assess
      expect(events.map((statement) => [[...actionsOf(statement)].sort(), statement.Resource])).toEqual([
        [
          ['events:DescribeRule', 'events:ListTargetsByRule'],
          [
            // A rule on a custom bus has the bus in its ARN.
            ruleArn(`kms-policy-guard/${String(driftRule(template).Properties.Name)}`),
            ruleArn(forwardRule(template).Properties.Name),
            ruleArn(scheduleRule(template).Properties.Name),
          ],
        ],
      ]);
      expect(others.map((statement) => [actionsOf(statement), statement.Resource])).toEqual([
        [['events:PutEvents'], { 'Fn::GetAtt': ['HubEventBus', 'Arn'] }],
      ]);
    });

    it('grants lambda:GetFunctionConcurrency on the guard’s five functions only, and no other Lambda action', () => {
      // Prepare
      const functionArns = Object.values(FUNCTIONS).map((id) => ({
        'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${String(resource(template, id).Properties.FunctionName)}`,
      }));

      // Act
      const lambda = withActionPrefix(iamStatements(template), 'lambda:');

      // Assess
      expect(lambda.map((statement) => [actionsOf(statement), statement.Resource])).toEqual([
        [['lambda:GetFunctionConcurrency'], functionArns],
      ]);
      expect(roleStatements(template, GUARD_ROLE)).toContain(single(lambda, 'lambda statement'));
    });

    it('grants only the CloudTrail reads the trail check needs: DescribeTrails (no resource type), status and selectors of trails', () => {
      // Act
      const cloudTrail = withActionPrefix(iamStatements(template), 'cloudtrail:').map((statement) => [
        [...actionsOf(statement)].sort(),
        statement.Resource,
      ]);

      // Assess
      expect(cloudTrail).toEqual([
        [['cloudtrail:DescribeTrails'], '*'],
        [
          ['cloudtrail:GetEventSelectors', 'cloudtrail:GetTrailStatus'],
          // Any Region (a multi-Region trail lives in its home Region), any account (organization trails).
          { 'Fn::Sub': 'arn:${AWS::Partition}:cloudtrail:*:*:trail/*' },
        ],
      ]);
      for (const statement of withActionPrefix(iamStatements(template), 'cloudtrail:')) {
        expect(roleStatements(template, GUARD_ROLE)).toContain(statement);
      }
    });

    it('publishes only to the findings topic, sends only to the dead-letter queue and the audit-work queue, and the worker only consumes that queue', () => {
      // Prepare
      const statements = iamStatements(template);

      // Act
      const sns = withActionPrefix(statements, 'sns:');
      const sqs = withActionPrefix(statements, 'sqs:');

      // Assess
      expect(sns.map((s) => [actionsOf(s), s.Resource])).toEqual([
        [['sns:Publish'], { Ref: 'FindingsTopic' }],
        // The subscriptions check (src/aws/topic-health.ts): read-only, the same topic.
        [['sns:ListSubscriptionsByTopic'], { Ref: 'FindingsTopic' }],
      ]);
      for (const statement of sns) expect(roleStatements(template, GUARD_ROLE)).toContain(statement);
      expect(sqs.length).toBeGreaterThan(0);
      const workQueue = { 'Fn::GetAtt': ['AuditWorkQueue', 'Arn'] };
      for (const statement of sqs) {
        expect([
          [['sqs:SendMessage'], DEAD_LETTER_QUEUE],
          [['sqs:SendMessage'], workQueue],
          // The framework's statement for the worker's SQS event source.
          [['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], [workQueue]],
        ]).toContainEqual([actionsOf(statement), statement.Resource]);
      }
    });

    it('grants every statement only services the guard uses', () => {
      // Act
      const services = new Set(
        iamStatements(template).flatMap((statement) => actionsOf(statement).map((a) => a.split(':')[0])),
      );

      // Assess
      expect([...services].sort()).toEqual([
        'cloudtrail',
        'dynamodb',
        'events',
        'kms',
        'lambda',
        'logs',
        'organizations',
        'sns',
        'sqs',
        'ssm',
        'sts',
      ]);
    });
  });

  describe('secrets', () => {
    it('configures no function with anything that looks like a secret, a URL or a token', () => {
      // Act
      const environments = Object.values(FUNCTIONS).map((id) => environmentOf(template, id));

      // Assess
      for (const variables of environments) {
        for (const [name, value] of Object.entries(variables)) {
          expect(name).not.toMatch(SECRET_LOOKING_NAME);
          expect(JSON.stringify(value)).not.toMatch(SECRET_LOOKING_VALUE);
        }
      }
    });

    it('gives notify-slack the NAME of the SSM parameter that holds the webhook URL, and nothing of the guard’s', () => {
      // Act
      const variables = environmentOf(template, FUNCTIONS.notifySlack);

      // Assess
      expect(Object.keys(variables).sort()).toEqual([
        'LOG_LEVEL',
        'POWERTOOLS_SERVICE_NAME',
        'SLACK_WEBHOOK_PARAM',
      ]);
      expect(variables.SLACK_WEBHOOK_PARAM).toEqual({ Ref: 'SlackWebhookParameterName' });
      expect(template.Parameters?.SlackWebhookParameterName).toMatchObject({
        Type: 'String',
        Default: '/kms-policy-guard/slack-webhook-url',
      });
      expect(template.Parameters?.SlackWebhookParameterName?.NoEcho).toBeUndefined();
    });

    it('accepts only hierarchical SSM parameter names, so the IAM parameter ARN is right', () => {
      // Prepare
      const pattern = new RegExp(String(template.Parameters?.SlackWebhookParameterName?.AllowedPattern));

      // Act
      const verdicts = [
        '/kms-policy-guard/slack-webhook-url',
        '/team.a/slack_url-1',
        'kms-policy-guard/slack-webhook-url',
        '/x/',
        'https://hooks.slack.com/services/T000/B000/XXXX',
        '',
      ].map((name) => [name, pattern.test(name)]);

      // Assess
      expect(verdicts).toEqual([
        ['/kms-policy-guard/slack-webhook-url', true],
        ['/team.a/slack_url-1', true],
        ['kms-policy-guard/slack-webhook-url', false],
        ['/x/', false],
        ['https://hooks.slack.com/services/T000/B000/XXXX', false],
        ['', false],
      ]);
    });
  });

  it('names the guard role as the desired policies expect (kms-policy-guard-<region>)', () => {
    // Act
    const role = resource(template, GUARD_ROLE);

    // Assess
    expect(role.Properties.RoleName).toBe('kms-policy-guard-us-east-1');
    expect(guardRoleArn({ partition: 'aws', region: 'us-east-1', accountId: '111122223333' })).toBe(
      `arn:aws:iam::111122223333:role/${role.Properties.RoleName}`,
    );
  });

  it('routes CloudTrail KMS events with exactly the pattern the code and the moto harness use', () => {
    // Act
    const rule = driftRule(template);

    // Assess
    expect(rule.Properties.EventPattern).toEqual(KMS_POLICY_CHANGE_EVENT_PATTERN);
    expect(rule.Properties.Name).toBe('kms-policy-guard-dev-drift');
    // The drift rule listens on the hub bus; this account's own events reach it through the forward rule.
    expect(rule.Properties.EventBusName).toEqual({ 'Fn::GetAtt': ['HubEventBus', 'Name'] });
    expect(rule.Properties.State).toBe('ENABLED');
    expect(forwardRule(template).Properties.EventPattern).toEqual(KMS_POLICY_CHANGE_EVENT_PATTERN);
    expect(forwardRule(template).Properties.EventBusName).toBeUndefined();
    expect(forwardRule(template).Properties.Targets).toEqual([
      expect.objectContaining({
        Arn: { 'Fn::GetAtt': ['HubEventBus', 'Arn'] },
        RoleArn: { 'Fn::GetAtt': ['HubForwarderRole', 'Arn'] },
        DeadLetterConfig: { Arn: DEAD_LETTER_QUEUE },
      }),
    ]);
    expect(resource(template, 'HubEventBus').Properties.Name).toBe('kms-policy-guard');
  });

  it('lets only the organization (aws:PrincipalOrgID) or the listed member accounts put events on the hub bus', () => {
    // Act
    const organization = resource(template, 'HubEventBusOrganizationPolicy');
    const members = resource(template, 'HubEventBusMemberAccountsPolicy');

    // Assess
    // Neither policy exists without its parameter: a single-account hub takes events only from itself.
    expect(organization.Condition).toBe('HasOrganizationId');
    expect(organization.Properties.Statement).toEqual({
      Effect: 'Allow',
      Principal: '*',
      Action: 'events:PutEvents',
      Resource: { 'Fn::GetAtt': ['HubEventBus', 'Arn'] },
      Condition: { StringEquals: { 'aws:PrincipalOrgID': { Ref: 'OrganizationId' } } },
    });
    expect(members.Condition).toBe('HasMemberAccounts');
    expect(members.Properties.Statement).toEqual({
      Effect: 'Allow',
      Principal: { AWS: { 'Fn::Split': [',', { Ref: 'MemberAccounts' }] } },
      Action: 'events:PutEvents',
      Resource: { 'Fn::GetAtt': ['HubEventBus', 'Arn'] },
    });
    expect(template.Parameters?.OrganizationId?.Default).toBe('');
    expect(template.Parameters?.MemberAccounts?.Default).toBe('');
    expect(
      new RegExp(String(template.Parameters?.MemberAccounts?.AllowedPattern)).test(
        '111122223333,444455556666',
      ),
    ).toBe(true);
    expect(new RegExp(String(template.Parameters?.MemberAccounts?.AllowedPattern)).test('1111,x')).toBe(
      false,
    );
  });

  it('lets the guard role assume only the spoke role by its name, and list the organization read-only', () => {
    // Act
    const sts = withActionPrefix(roleStatements(template, GUARD_ROLE), 'sts:');
    const organizations = withActionPrefix(roleStatements(template, GUARD_ROLE), 'organizations:');

    // Assess
    expect(sts.map((statement) => [actionsOf(statement), statement.Resource])).toEqual([
      [['sts:AssumeRole'], { 'Fn::Sub': 'arn:${AWS::Partition}:iam::*:role/${SpokeRoleName}' }],
    ]);
    expect(template.Parameters?.SpokeRoleName?.Default).toBe('kms-policy-guard-spoke');
    expect(organizations.flatMap(actionsOf).sort()).toEqual([
      'organizations:ListAccounts',
      'organizations:ListParents',
    ]);
  });

  it('retries delivery and dead-letters what EventBridge and Lambda could not process', () => {
    // Prepare
    const rule = driftRule(template);
    const invokeConfigs = resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig').map(
      ([, config]) => config.Properties,
    );

    // Act
    const target = single(rule.Properties.Targets as Record<string, Json>[], 'rule target');
    const byFunction = Object.fromEntries(
      invokeConfigs.map((config) => [JSON.stringify(config.FunctionName), config]),
    );

    // Assess
    expect(template.Resources.DeadLetterQueue?.Type).toBe('AWS::SQS::Queue');
    expect(target.Arn).toEqual({ 'Fn::GetAtt': [FUNCTIONS.drift, 'Arn'] });
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 });
    expect(target.DeadLetterConfig).toEqual({ Arn: DEAD_LETTER_QUEUE });
    expect(invokeConfigs).toHaveLength(4);
    expect(byFunction[JSON.stringify({ Ref: FUNCTIONS.drift })]).toMatchObject({
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: DEAD_LETTER_QUEUE } },
    });
    expect(byFunction[JSON.stringify({ Ref: FUNCTIONS.audit })]).toMatchObject({
      MaximumRetryAttempts: 0,
      DestinationConfig: { OnFailure: { Destination: DEAD_LETTER_QUEUE } },
    });
    for (const notifier of [FUNCTIONS.notifySlack, FUNCTIONS.notifySlackUrgent]) {
      expect(byFunction[JSON.stringify({ Ref: notifier })]).toMatchObject({
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: DEAD_LETTER_QUEUE } },
      });
    }
    // Dead letters carry whole CloudTrail records and findings: encrypted with the stack's alerts key.
    expect(template.Resources.DeadLetterQueue?.Properties.KmsMasterKeyId).toEqual({ Ref: 'AlertsKey' });
    const queuePolicy = template.Resources.DeadLetterQueuePolicy?.Properties.PolicyDocument as unknown as {
      Statement: { Principal: Json; Condition: Json }[];
    };
    expect(queuePolicy.Statement[0]?.Principal).toEqual({ Service: 'events.amazonaws.com' });
    expect(queuePolicy.Statement[0]?.Condition).toEqual({
      ArnEquals: {
        'aws:SourceArn': [
          {
            'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/kms-policy-guard/${rule.Properties.Name}`,
          },
          {
            'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/${forwardRule(template).Properties.Name}`,
          },
        ],
      },
    });
  });

  it('alarms on drift and audit errors and on dead-letter queue depth, notifying the findings topic', () => {
    // Act
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    const functionErrors = (functionId: string) =>
      expect.objectContaining({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionId } }],
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        AlarmActions: [{ Ref: 'FindingsTopic' }],
      });

    // Assess
    expect(alarms).toEqual(
      expect.arrayContaining([
        functionErrors(FUNCTIONS.drift),
        functionErrors(FUNCTIONS.audit),
        expect.objectContaining({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['DeadLetterQueue', 'QueueName'] } }],
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          AlarmActions: [{ Ref: 'FindingsTopic' }],
        }),
      ]),
    );
  });

  it('runs every function on nodejs22.x arm64 with modest reserved concurrency', () => {
    // Act
    const functions = Object.values(FUNCTIONS).map((id) => resource(template, id).Properties);

    // Assess
    expect(functions.map((fn) => fn.Handler)).toEqual([
      'handlers/drift.handler',
      'handlers/audit.handler',
      'handlers/notify-slack.handler',
      'handlers/notify-slack.handler',
      'handlers/audit-worker.handler',
    ]);
    for (const fn of functions) {
      expect(fn).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
      expect(fn.ReservedConcurrentExecutions).toBeGreaterThan(0);
      expect(fn.ReservedConcurrentExecutions).toBeLessThanOrEqual(10);
    }
  });

  it('configures drift with the topic, the manifest, the guard role and the state table', () => {
    // Act
    const variables = environmentOf(template, FUNCTIONS.drift);

    // Assess
    expect(Object.keys(variables).sort()).toEqual([
      'GUARDED_REGIONS',
      'GUARD_ROLE_ARN',
      'LOG_LEVEL',
      'MANIFEST_PATH',
      'MEMBER_ACCOUNTS',
      'ORGANIZATION_ID',
      'POWERTOOLS_SERVICE_NAME',
      'SECURITY_HUB',
      'SPOKE_EXTERNAL_ID',
      'SPOKE_ROLE_NAME',
      'STATE_TABLE',
      'TOPIC_ARN',
    ]);
    expect(variables.ORGANIZATION_ID).toEqual({ Ref: 'OrganizationId' });
    expect(variables.MEMBER_ACCOUNTS).toEqual({ Ref: 'MemberAccounts' });
    expect(variables.GUARDED_REGIONS).toBe('');
    expect(variables.SECURITY_HUB).toEqual({ Ref: 'SecurityHub' });
    expect(variables.TOPIC_ARN).toEqual({ Ref: 'FindingsTopic' });
    expect(variables.GUARD_ROLE_ARN).toEqual({ 'Fn::GetAtt': [GUARD_ROLE, 'Arn'] });
    expect(variables.STATE_TABLE).toEqual({ Ref: 'StateTable' });
  });

  it('runs the audit on an EventBridge schedule for up to 15 minutes, configured from the params', () => {
    // Prepare
    const scheduleRules = resourcesOfType(template, 'AWS::Events::Rule').filter(
      ([, rule]) => rule.Properties.ScheduleExpression !== undefined,
    );

    // Act
    const [, schedule] = single(scheduleRules, 'schedule rule');
    const audit = resource(template, FUNCTIONS.audit).Properties;
    const variables = environmentOf(template, FUNCTIONS.audit);

    // Assess
    expect(schedule.Properties.ScheduleExpression).toBe('rate(1 hour)');
    expect(schedule.Properties.State).toBe('ENABLED');
    expect(schedule.Properties.Targets).toEqual([
      expect.objectContaining({ Arn: { 'Fn::GetAtt': [FUNCTIONS.audit, 'Arn'] } }),
    ]);
    expect(audit.Timeout).toBe(900);
    expect(audit.ReservedConcurrentExecutions).toBe(1);
    expect(variables).toEqual({
      POWERTOOLS_SERVICE_NAME: 'kms-policy-guard',
      LOG_LEVEL: 'INFO',
      MANIFEST_PATH: 'policies/manifest.yaml',
      TOPIC_ARN: { Ref: 'FindingsTopic' },
      GUARD_ROLE_ARN: { 'Fn::GetAtt': [GUARD_ROLE, 'Arn'] },
      STATE_TABLE: { Ref: 'StateTable' },
      GUARDED_REGIONS: '',
      SECURITY_HUB: { Ref: 'SecurityHub' },
      ORGANIZATION_ID: { Ref: 'OrganizationId' },
      MEMBER_ACCOUNTS: { Ref: 'MemberAccounts' },
      SPOKE_ROLE_NAME: { Ref: 'SpokeRoleName' },
      SPOKE_EXTERNAL_ID: '',
      DRIFT_RULE_NAME: driftRule(template).Properties.Name,
      DRIFT_EVENT_BUS: 'kms-policy-guard',
      FORWARD_RULE_NAME: forwardRule(template).Properties.Name,
      DRIFT_FUNCTION_ARN: { 'Fn::GetAtt': [FUNCTIONS.drift, 'Arn'] },
      AUDIT_RULE_NAME: schedule.Properties.Name,
      AUDIT_FUNCTION_ARN: {
        'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${String(audit.FunctionName)}`,
      },
      FUNCTION_NAMES: Object.values(FUNCTIONS)
        .map((id) => resource(template, id).Properties.FunctionName)
        .join(','),
      AUDIT_CONCURRENCY: '8',
      AUDIT_REPORT_UNMANAGED: 'true',
      AUDIT_QUEUE_URL: { Ref: 'AuditWorkQueue' },
    });
  });

  it('fans the audit out on SQS: one worker per unit, partial batch failures, bounded concurrency, a DLQ with an alarm', () => {
    // Act
    const worker = resource(template, FUNCTIONS.auditWorker).Properties;
    const [, mapping] = single(
      resourcesOfType(template, 'AWS::Lambda::EventSourceMapping'),
      'event source mapping',
    );
    const queue = resource(template, 'AuditWorkQueue').Properties;
    const variables = environmentOf(template, FUNCTIONS.auditWorker);
    const alarm = resource(template, 'AuditWorkDeadLetterAlarm').Properties;

    // Assess
    expect(worker.Timeout).toBe(900);
    expect(worker.ReservedConcurrentExecutions).toBe(5);
    expect(mapping.Properties).toMatchObject({
      EventSourceArn: { 'Fn::GetAtt': ['AuditWorkQueue', 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      ScalingConfig: { MaximumConcurrency: 5 },
    });
    // Visibility at least six times the worker's timeout; three receives, then the DLQ.
    expect(Number(queue.VisibilityTimeout)).toBeGreaterThanOrEqual(6 * 900);
    expect(queue.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['AuditWorkDeadLetterQueue', 'Arn'] },
      maxReceiveCount: 3,
    });
    expect(variables.AUDIT_MAX_RECEIVES).toBe('3');
    expect(variables.AUDIT_QUEUE_URL).toEqual({ Ref: 'AuditWorkQueue' });
    expect(alarm).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['AuditWorkDeadLetterQueue', 'QueueName'] } }],
      AlarmActions: [{ Ref: 'FindingsTopic' }],
    });
  });

  it('alarms when audits stop: no AuditHeartbeat in a period of at least the audit rate is breaching', () => {
    // Prepare
    const schedule = scheduleRule(template);
    const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(
      String(schedule.Properties.ScheduleExpression),
    );
    const unit = { minute: 60, minutes: 60, hour: 3600, hours: 3600, day: 86_400, days: 86_400 } as const;
    const rateSeconds = Number(rate?.[1]) * unit[(rate?.[2] ?? 'day') as keyof typeof unit];

    // Act
    const alarm = resource(template, 'AuditHeartbeatAlarm').Properties;

    // Assess
    expect(alarm).toEqual({
      AlarmName: 'kms-policy-guard-dev-audit-heartbeat',
      AlarmDescription: expect.stringContaining('No complete KMS policy audit'),
      // The names the audit emits (src/app/metrics.ts), and the one dimension Powertools puts on them.
      Namespace: GUARD_METRICS.namespace,
      MetricName: GUARD_METRICS.auditHeartbeat,
      Dimensions: [{ Name: GUARD_METRICS.dimensions.service, Value: GUARD_METRICS.service }],
      Statistic: 'Sum',
      Period: 3600,
      // One empty period alarms: a missed run alarms within two schedule periods of the last complete audit.
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
      AlarmActions: [{ Ref: 'FindingsTopic' }],
      OKActions: [{ Ref: 'FindingsTopic' }],
    });
    expect(rateSeconds).toBe(3600);
    expect(alarm.Period).toBeGreaterThanOrEqual(rateSeconds);
  });

  it('subscribes the two Slack notifiers by severity: critical, high and the alarms to the urgent one, the rest to the routine one', () => {
    // Act
    const subscriptions = resourcesOfType(template, 'AWS::SNS::Subscription')
      .map(([, subscription]) => subscription.Properties)
      .filter((properties) => properties.Protocol === 'lambda');

    // Assess
    // The filters themselves are proven on SNS (moto) by test/integration/severity-routing.test.ts, with
    // these exact policies (SLACK_FILTER_POLICIES).
    expect(subscriptions).toEqual([
      {
        TopicArn: { Ref: 'FindingsTopic' },
        Protocol: 'lambda',
        Endpoint: { 'Fn::GetAtt': [FUNCTIONS.notifySlack, 'Arn'] },
        FilterPolicyScope: 'MessageAttributes',
        FilterPolicy: SLACK_FILTER_POLICIES.routine,
      },
      {
        TopicArn: { Ref: 'FindingsTopic' },
        Protocol: 'lambda',
        Endpoint: { 'Fn::GetAtt': [FUNCTIONS.notifySlackUrgent, 'Arn'] },
        FilterPolicyScope: 'MessageAttributes',
        FilterPolicy: SLACK_FILTER_POLICIES.urgent,
      },
    ]);
    expect(resource(template, FUNCTIONS.notifySlackUrgent).Properties.ReservedConcurrentExecutions).toBe(1);
  });

  it('lets only the guard role and this stack’s alarms publish to the findings topic, encrypted with the alerts key', () => {
    // Act
    const topic = resource(template, 'FindingsTopic').Properties;
    const policy = resource(template, 'FindingsTopicPolicy').Properties;
    const key = resource(template, 'AlertsKey').Properties.KeyPolicy as unknown as {
      Statement: { Principal: Json; Action: Json; Condition?: Json }[];
    };

    // Assess
    expect(topic.KmsMasterKeyId).toEqual({ Ref: 'AlertsKey' });
    expect(policy.Topics).toEqual([{ Ref: 'FindingsTopic' }]);
    expect((policy.PolicyDocument as unknown as { Statement: Json[] }).Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { AWS: { 'Fn::GetAtt': [GUARD_ROLE, 'Arn'] } },
        Action: 'sns:Publish',
      }),
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: {
            'aws:SourceArn': {
              'Fn::Sub':
                'arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:kms-policy-guard-dev-*',
            },
          },
        },
      }),
      expect.objectContaining({
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'sns:Publish',
        Condition: {
          ArnNotEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [GUARD_ROLE, 'Arn'] } },
          Bool: { 'aws:PrincipalIsAWSService': 'false' },
        },
      }),
    ]);
    // Every alarm is one the topic policy lets publish.
    for (const [, alarm] of resourcesOfType(template, 'AWS::CloudWatch::Alarm')) {
      expect(String(alarm.Properties.AlarmName)).toMatch(/^kms-policy-guard-dev-/);
    }
    // The services that encrypt for the topic and the queue, for this account only.
    expect(key.Statement[1]).toMatchObject({
      Principal: { Service: ['sns.amazonaws.com', 'cloudwatch.amazonaws.com', 'events.amazonaws.com'] },
      Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    });
  });

  it('keeps the state table (pk/sk, TTL expiresAt, PITR, encrypted) when the stack is deleted', () => {
    // Act
    const table = resource(template, 'StateTable') as Resource & Record<string, Json>;

    // Assess
    expect(table.DeletionPolicy).toBe('Retain');
    expect(table.UpdateReplacePolicy).toBe('Retain');
    expect(table.Properties).toMatchObject({
      TableName: 'kms-policy-guard-dev-state',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      DeletionProtectionEnabled: true,
    });
  });

  it('creates the findings topic, and the e-mail subscription only when alertEmail is set', () => {
    // Act
    const subscription = template.Resources.AlertEmailSubscription;

    // Assess
    expect(template.Resources.FindingsTopic?.Properties.TopicName).toBe('kms-policy-guard-findings');
    expect(subscription?.Condition).toBe('HasAlertEmail');
    expect(subscription?.Properties).toMatchObject({ Protocol: 'email', Endpoint: { Ref: 'AlertEmail' } });
    expect(template.Conditions?.HasAlertEmail).toEqual({
      'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'AlertEmail' }, ''] }],
    });
    expect(template.Parameters?.AlertEmail?.Default).toBe('');
  });

  it.each([
    ['drift', 'drift', true],
    ['audit', 'audit', true],
    ['audit-worker', 'audit-worker', true],
    ['notify-slack', 'notify-slack', false],
    ['notify-slack-urgent', 'notify-slack', false],
  ])(
    'packages %s in its own zip (handler %s; manifest and desired documents needed: %s), without node_modules, its source map beside the package',
    (name, handler, needsPolicies) => {
      // Prepare
      const manifest = loadManifest(join(ROOT, 'policies/manifest.yaml'));
      const policyFiles = [
        'policies/manifest.yaml',
        ...manifest.keys.map((key) => `policies/${key.policyFile}`),
      ];

      // Act
      const entries = zipEntryNames(join(defaultPackage.dir, `${name}.zip`));

      // Assess
      // An ES module and its own chunks only (handlers/<handler>.chunks/, scripts/esbuild-plugins.cjs).
      expect(entries).toContain(`handlers/${handler}.mjs`);
      expect(
        entries.filter(
          (entry) => entry.startsWith('handlers/') && !entry.startsWith(`handlers/${handler}.chunks/`),
        ),
      ).toEqual([`handlers/${handler}.mjs`]);
      expect(entries.filter((entry) => entry.startsWith('handlers/') && !entry.endsWith('.mjs'))).toEqual([]);
      if (needsPolicies) expect(entries).toEqual(expect.arrayContaining(policyFiles));
      expect(entries.filter((entry) => entry.startsWith('node_modules/'))).toEqual([]);
      expect(entries.filter((entry) => entry.endsWith('.map'))).toEqual([]);
      const map = JSON.parse(
        readFileSync(join(defaultPackage.dir, 'sourcemaps', 'handlers', `${handler}.mjs.map`), 'utf8'),
      ) as { sources: string[] };
      expect(map.sources.filter((source) => /(^|\/)src\//.test(source)).length).toBeGreaterThan(0);
      // The Security Hub client is the Lambda runtime's (serverless.yml custom.esbuild.exclude): none of its code
      // is bundled, whichever function loads it.
      expect(map.sources.filter((source) => source.includes('@aws-sdk/client-securityhub/'))).toEqual([]);
    },
  );

  describe('the dashboard (docs/operations.md#the-dashboard)', () => {
    interface NamedMetric {
      namespace: string;
      name: string;
      dimensions: Record<string, string>;
      /** A SEARCH expression: the dimension names only. */
      search?: boolean;
    }
    const SEARCH = /^SEARCH\('\{([^}]+)\} MetricName="([^"]+)"', '[A-Za-z0-9.]+', \d+\)$/;

    /** The dashboard body as CloudFormation renders it here (Region and queue names substituted). */
    function dashboardBody(): { widgets: { type: string; properties: Record<string, unknown> }[] } {
      const body = resource(template, 'GuardDashboard').Properties.DashboardBody as { 'Fn::Sub': string };
      const queueNames: Record<string, string> = Object.fromEntries(
        resourcesOfType(template, 'AWS::SQS::Queue').map(([id, queue]) => [
          `${id}.QueueName`,
          String(queue.Properties.QueueName),
        ]),
      );
      const text = body['Fn::Sub'].replace(/\$\{([^}]+)\}/g, (_, name: string) =>
        name === 'AWS::Region' ? 'STACK_REGION' : (queueNames[name] ?? `UNRESOLVED(${name})`),
      );
      return JSON.parse(text);
    }

    /** Every metric a widget names: [namespace, name, dim, value, …, options?] rows and SEARCH expressions. */
    function namedMetrics(): { widget: string; metric: NamedMetric; stat?: string }[] {
      return dashboardBody().widgets.flatMap((widget) =>
        ((widget.properties.metrics ?? []) as unknown[][]).map((row) => {
          const title = String(widget.properties.title);
          const [first] = row;
          if (typeof first === 'object' && first !== null && 'expression' in first) {
            const match = SEARCH.exec(String((first as { expression: string }).expression));
            if (!match) throw new Error(`${title}: an expression that is not a SEARCH by metric name`);
            const [namespace = '', ...dimensionNames] = (match[1] ?? '').split(',');
            return {
              widget: title,
              metric: {
                namespace,
                name: match[2] ?? '',
                dimensions: Object.fromEntries(dimensionNames.map((dimension) => [dimension, '*'])),
                search: true,
              },
            };
          }
          const options = row.find((item) => typeof item === 'object') as { stat?: string } | undefined;
          const [namespace, name, ...pairs] = row.filter((item) => typeof item === 'string') as string[];
          const dimensions: Record<string, string> = {};
          for (let index = 0; index < pairs.length; index += 2)
            dimensions[pairs[index] ?? ''] = pairs[index + 1] ?? '';
          const stat = options?.stat ?? (widget.properties.stat as string | undefined);
          return {
            widget: title,
            metric: { namespace: namespace ?? '', name: name ?? '', dimensions },
            ...(stat ? { stat } : {}),
          };
        }),
      );
    }

    /** The stack's dead-letter queues: the functions' onFailure queue and every queue's redrive target. */
    function deadLetterQueueNames(): string[] {
      const targets = resourcesOfType(template, 'AWS::SQS::Queue').flatMap(([, queue]) => {
        const redrive = queue.Properties.RedrivePolicy as
          | { deadLetterTargetArn?: { 'Fn::GetAtt': string[] } }
          | undefined;
        return redrive?.deadLetterTargetArn ? [redrive.deadLetterTargetArn['Fn::GetAtt'][0] ?? ''] : [];
      });
      return [...new Set(['DeadLetterQueue', ...targets])].map((id) =>
        String(resource(template, id).Properties.QueueName),
      );
    }

    it('is one dashboard named kms-policy-guard-<stage>, in the Region of the stack', () => {
      // Act
      const dashboards = resourcesOfType(template, 'AWS::CloudWatch::Dashboard');

      // Assess
      expect(dashboards.map(([id, dashboard]) => [id, dashboard.Properties.DashboardName])).toEqual([
        ['GuardDashboard', 'kms-policy-guard-dev'],
      ]);
      for (const widget of dashboardBody().widgets) expect(widget.properties.region).toBe('STACK_REGION');
    });

    it("names only metrics the code emits: the guard's by namespace, name and dimension set (GUARD_METRICS), and the dead-letter queues' depth", () => {
      // Act
      const named = namedMetrics();

      // Assess
      expect(named.length).toBeGreaterThan(0);
      for (const { widget, metric } of named) {
        if (metric.namespace === 'AWS/SQS') {
          expect([widget, metric.name]).toEqual([widget, 'ApproximateNumberOfMessagesVisible']);
          expect(deadLetterQueueNames()).toContain(metric.dimensions.QueueName);
          continue;
        }
        expect([widget, metric.namespace]).toEqual([widget, GUARD_METRICS.namespace]);
        expect([widget, metric.name, Object.keys(metric.dimensions).sort()]).toEqual([
          widget,
          metric.name,
          [...(EMITTED_METRICS[metric.name] ?? ['not a metric the code emits'])].sort(),
        ]);
        if (!metric.search)
          expect(metric.dimensions[GUARD_METRICS.dimensions.service]).toBe(GUARD_METRICS.service);
      }
    });

    it('shows events by outcome, findings by kind and severity, restores, refusals, the audit, every dead-letter queue and the p50/p99 event-to-finding latency', () => {
      // Act
      const named = namedMetrics();
      const shown = (name: string) => named.filter(({ metric }) => metric.name === name);

      // Assess
      expect(shown(GUARD_METRICS.eventsHandled).map(({ metric }) => metric.search)).toEqual([true]);
      expect(shown(GUARD_METRICS.eventFindings)).toHaveLength(1);
      expect(shown(GUARD_METRICS.findings)).toHaveLength(1);
      for (const name of [
        GUARD_METRICS.restores,
        GUARD_METRICS.refusals,
        GUARD_METRICS.auditDurationMs,
        GUARD_METRICS.keysChecked,
      ]) {
        expect([name, shown(name).length]).toEqual([name, 1]);
      }
      expect(
        shown(GUARD_METRICS.eventToFindingMs)
          .map(({ stat }) => stat)
          .sort(),
      ).toEqual(['p50', 'p99']);
      const depth = shown('ApproximateNumberOfMessagesVisible').map(
        ({ metric }) => metric.dimensions.QueueName,
      );
      expect(depth.sort()).toEqual(deadLetterQueueNames().sort());
      expect(depth).toEqual(
        expect.arrayContaining(['kms-policy-guard-dev-dlq', 'kms-policy-guard-dev-audit-work-dlq']),
      );
    });
  });

  describe('Security Hub (docs/architecture.md#security-hub)', () => {
    // Any Region of this account only: a hub guards its own account in every guarded Region.
    const PRODUCT = {
      'Fn::Sub': 'arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:product/${AWS::AccountId}/default',
    };
    const HUB = {
      'Fn::Sub': 'arn:${AWS::Partition}:securityhub:*:${AWS::AccountId}:hub/default',
    };

    it('is off by default: a stack parameter false, the functions told so, and no securityhub: permission at all', () => {
      // Act
      const parameter = defaultPackage.template.Parameters?.SecurityHub;
      const securityHubActions = iamStatements(template)
        .flatMap(actionsOf)
        .filter((action) => action.startsWith('securityhub:'));

      // Assess
      expect(parameter).toMatchObject({ Type: 'String', Default: 'false', AllowedValues: ['true', 'false'] });
      expect(defaultPackage.template.Conditions?.SecurityHubEnabled).toEqual({
        'Fn::Equals': [{ Ref: 'SecurityHub' }, 'true'],
      });
      for (const fn of [FUNCTIONS.drift, FUNCTIONS.audit]) {
        expect(environmentOf(template, fn).SECURITY_HUB).toEqual({ Ref: 'SecurityHub' });
      }
      expect(securityHubActions).toEqual([]);
    });

    it('grants the guard role, when on, exactly BatchImportFindings on this account’s default product and GetFindings on its hub', () => {
      // Prepare
      const on = deployedWith(defaultPackage.template, { SecurityHubEnabled: true });

      // Act
      const statements = withActionPrefix(iamStatements(on), 'securityhub:').map((statement) => ({
        actions: actionsOf(statement),
        resource: statement.Resource,
        condition: statement.Condition,
      }));
      const policy = resource(on, 'GuardSecurityHubPolicy');

      // Assess
      expect(statements).toEqual([
        { actions: ['securityhub:BatchImportFindings'], resource: PRODUCT, condition: undefined },
        { actions: ['securityhub:GetFindings'], resource: HUB, condition: undefined },
      ]);
      expect(policy.Condition).toBe('SecurityHubEnabled');
      expect(policy.Properties.Roles).toEqual([{ Ref: GUARD_ROLE }]);
      for (const statement of withActionPrefix(iamStatements(on), 'securityhub:')) {
        expect(roleStatements(on, GUARD_ROLE)).toContainEqual(statement);
        expect(statement.Effect).toBe('Allow');
      }
    });

    it('keeps every least-privilege rule with Security Hub on: no wildcard action, no Resource "*", one more service only', () => {
      // Prepare
      const on = deployedWith(defaultPackage.template, { SecurityHubEnabled: true });

      // Act
      const statements = iamStatements(on);
      const services = new Set(
        statements.flatMap((statement) => actionsOf(statement).map((a) => a.split(':')[0])),
      );
      const servicesOff = new Set(
        iamStatements(template).flatMap((statement) => actionsOf(statement).map((a) => a.split(':')[0])),
      );

      // Assess
      expect(statements.flatMap(actionsOf).filter((action) => /[*?]/.test(action))).toEqual([]);
      expect(
        withActionPrefix(statements, 'securityhub:').filter((statement) => statement.Resource === '*'),
      ).toEqual([]);
      expect([...services].filter((service) => !servicesOff.has(service))).toEqual(['securityhub']);
      expect(servicesOff.size).toBe(services.size - 1);
    });
  });

  it('passes cfn-lint', async () => {
    // Prepare
    const cfnLint = findOnPath('cfn-lint');
    if (!cfnLint) throw new Error('cfn-lint not found: pip install cfn-lint');

    // Act
    const linted = run(cfnLint, [join(defaultPackage.dir, 'cloudformation-template-update-stack.json')]);

    // Assess
    await expect(linted).resolves.toBeDefined();
  }, 120_000);

  it(
    'follows --region and the params (alertEmail, slackWebhookParam, auditRate, auditConcurrency, auditHeartbeatPeriod) when given',
    async () => {
      // Act
      const { dir, template: regional } = await packageService([
        '--region',
        'eu-west-1',
        '--param=alertEmail=ops@example.com',
        '--param=slackWebhookParam=/team-a/slack/kms-guard',
        '--param=auditRate=rate(30 minutes)',
        '--param=auditConcurrency=4',
        '--param=auditHeartbeatPeriod=7200',
      ]);
      rmSync(dir, { recursive: true, force: true });

      // Assess
      expect(resource(regional, GUARD_ROLE).Properties.RoleName).toBe('kms-policy-guard-eu-west-1');
      expect(regional.Parameters?.AlertEmail?.Default).toBe('ops@example.com');
      expect(regional.Parameters?.SlackWebhookParameterName?.Default).toBe('/team-a/slack/kms-guard');
      const [, schedule] = single(
        resourcesOfType(regional, 'AWS::Events::Rule').filter(
          ([, rule]) => rule.Properties.ScheduleExpression,
        ),
        'schedule rule',
      );
      expect(schedule.Properties.ScheduleExpression).toBe('rate(30 minutes)');
      expect(environmentOf(regional, FUNCTIONS.audit).AUDIT_CONCURRENCY).toBe('4');
      // A --param arrives as a string; CloudFormation (and cfn-lint) take "7200" for an integer.
      expect(Number(resource(regional, 'AuditHeartbeatAlarm').Properties.Period)).toBe(7200);
      expect(environmentOf(regional, FUNCTIONS.audit).AUDIT_FUNCTION_ARN).toEqual({
        'Fn::Sub':
          'arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:kms-policy-guard-dev-audit',
      });
      expect(existsSync(dir)).toBe(false);
    },
    PACKAGE_TIMEOUT_MS,
  );
});

/**
 * Packages serverless.yml offline (no credentials, a temp --package directory) and checks the
 * CloudFormation template and the zip: least-privilege IAM, the drift rule pattern, failure handling,
 * alarms, configuration without secrets, and policies/ shipped next to the handler.
 * It lives with the integration tests because packaging takes seconds, not milliseconds.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { KMS_POLICY_CHANGE_EVENT_PATTERN } from '../../src/guard/event-pattern';
import { findOnPath } from '../../src/local/moto-server';
import { guardRoleArn, loadManifest } from '../../src/manifest';

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
  return statements;
}

function actionsOf(statement: Statement): string[] {
  return Array.isArray(statement.Action) ? statement.Action : [statement.Action];
}

function single<T>(items: T[], what: string): T {
  if (items.length !== 1) throw new Error(`expected exactly one ${what}, found ${items.length}`);
  const [item] = items;
  if (item === undefined) throw new Error(`expected exactly one ${what}`);
  return item;
}

describe('serverless package (offline)', () => {
  let defaultPackage: { dir: string; template: Template };
  let template: Template;

  beforeAll(async () => {
    defaultPackage = await packageService([]);
    template = defaultPackage.template;
  }, PACKAGE_TIMEOUT_MS);

  afterAll(() => {
    rmSync(defaultPackage.dir, { recursive: true, force: true });
  });

  it('grants no "*" action, no kms:* and no KMS wildcard action', () => {
    // Act
    const actions = iamStatements(template).flatMap(actionsOf);

    // Assess
    expect(actions.length).toBeGreaterThan(0);
    expect(actions).not.toContain('*');
    expect(
      actions.filter((action) => action.toLowerCase().startsWith('kms:') && action.includes('*')),
    ).toEqual([]);
  });

  it('grants exactly the KMS actions the guard needs, key actions scoped to this account and region', () => {
    // Prepare
    const kmsStatements = iamStatements(template).filter((statement) =>
      actionsOf(statement).some((action) => action.startsWith('kms:')),
    );

    // Act
    const byResource = kmsStatements.map((statement) => ({
      actions: [...actionsOf(statement)].sort(),
      resource: statement.Resource,
      effect: statement.Effect,
    }));

    // Assess
    expect(byResource).toEqual([
      { actions: ['kms:ListAliases', 'kms:ListKeys'], resource: '*', effect: 'Allow' },
      {
        actions: ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:ListResourceTags', 'kms:PutKeyPolicy'],
        resource: { 'Fn::Sub': 'arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*' },
        effect: 'Allow',
      },
    ]);
  });

  it('allows Resource "*" only for kms:ListKeys and kms:ListAliases', () => {
    // Act
    const unscoped = iamStatements(template).filter(
      (statement) =>
        statement.Resource === '*' || (Array.isArray(statement.Resource) && statement.Resource.includes('*')),
    );

    // Assess
    expect(unscoped.flatMap(actionsOf).sort()).toEqual(['kms:ListAliases', 'kms:ListKeys']);
  });

  it('publishes only to the findings topic and sends only to the dead-letter queue', () => {
    // Prepare
    const statements = iamStatements(template);

    // Act
    const snsStatements = statements.filter((statement) =>
      actionsOf(statement).some((a) => a.startsWith('sns:')),
    );
    const sqsStatements = statements.filter((statement) =>
      actionsOf(statement).some((a) => a.startsWith('sqs:')),
    );

    // Assess
    expect(snsStatements.map((s) => [actionsOf(s), s.Resource])).toEqual([
      [['sns:Publish'], { Ref: 'FindingsTopic' }],
    ]);
    expect(sqsStatements.map((s) => [actionsOf(s), s.Resource])).toEqual([
      [['sqs:SendMessage'], { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] }],
    ]);
  });

  it('names the function role as the desired policies expect (kms-policy-guard-<region>)', () => {
    // Act
    const [, role] = single(resourcesOfType(template, 'AWS::IAM::Role'), 'IAM role');

    // Assess
    expect(role.Properties.RoleName).toBe('kms-policy-guard-us-east-1');
    expect(guardRoleArn({ partition: 'aws', region: 'us-east-1', accountId: '111122223333' })).toBe(
      `arn:aws:iam::111122223333:role/${role.Properties.RoleName}`,
    );
  });

  it('routes CloudTrail KMS events with exactly the pattern the code and the moto harness use', () => {
    // Act
    const [, rule] = single(resourcesOfType(template, 'AWS::Events::Rule'), 'EventBridge rule');

    // Assess
    expect(rule.Properties.EventPattern).toEqual(KMS_POLICY_CHANGE_EVENT_PATTERN);
    expect(rule.Properties.EventBusName).toBeUndefined();
    expect(rule.Properties.State).toBe('ENABLED');
  });

  it('retries delivery and dead-letters what EventBridge and Lambda could not process', () => {
    // Prepare
    const [, rule] = single(resourcesOfType(template, 'AWS::Events::Rule'), 'EventBridge rule');
    const [, invokeConfig] = single(
      resourcesOfType(template, 'AWS::Lambda::EventInvokeConfig'),
      'invoke config',
    );
    const deadLetterQueue = { 'Fn::GetAtt': ['DeadLetterQueue', 'Arn'] };

    // Act
    const target = single(rule.Properties.Targets as Record<string, Json>[], 'rule target');

    // Assess
    expect(template.Resources.DeadLetterQueue?.Type).toBe('AWS::SQS::Queue');
    expect(target.Arn).toEqual({ 'Fn::GetAtt': ['DriftLambdaFunction', 'Arn'] });
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 8, MaximumEventAgeInSeconds: 3600 });
    expect(target.DeadLetterConfig).toEqual({ Arn: deadLetterQueue });
    expect(invokeConfig.Properties).toMatchObject({
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: deadLetterQueue } },
    });
    const queuePolicy = template.Resources.DeadLetterQueuePolicy?.Properties.PolicyDocument as unknown as {
      Statement: { Principal: Json; Condition: Json }[];
    };
    expect(queuePolicy.Statement[0]?.Principal).toEqual({ Service: 'events.amazonaws.com' });
    expect(queuePolicy.Statement[0]?.Condition).toEqual({
      ArnEquals: {
        'aws:SourceArn': {
          'Fn::Sub': `arn:\${AWS::Partition}:events:\${AWS::Region}:\${AWS::AccountId}:rule/${rule.Properties.Name}`,
        },
      },
    });
  });

  it('alarms on function errors and on dead-letter queue depth, notifying the findings topic', () => {
    // Act
    const alarms = resourcesOfType(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);

    // Assess
    expect(alarms).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          Namespace: 'AWS/Lambda',
          MetricName: 'Errors',
          Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'DriftLambdaFunction' } }],
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          AlarmActions: [{ Ref: 'FindingsTopic' }],
        }),
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

  it('runs drift on nodejs22.x arm64 with modest reserved concurrency', () => {
    // Act
    const drift = template.Resources.DriftLambdaFunction?.Properties;

    // Assess
    expect(drift).toMatchObject({
      Handler: 'handlers/drift.handler',
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
    });
    expect(drift?.ReservedConcurrentExecutions).toBeGreaterThan(0);
    expect(drift?.ReservedConcurrentExecutions).toBeLessThanOrEqual(10);
  });

  it('configures the function without anything that looks like a secret', () => {
    // Act
    const environment = template.Resources.DriftLambdaFunction?.Properties.Environment as
      | { Variables: Record<string, Json> }
      | undefined;
    const variables = environment?.Variables ?? {};

    // Assess
    expect(Object.keys(variables).sort()).toEqual([
      'GUARD_ROLE_ARN',
      'LOG_LEVEL',
      'MANIFEST_PATH',
      'NODE_OPTIONS',
      'POWERTOOLS_SERVICE_NAME',
      'TOPIC_ARN',
    ]);
    for (const [name, value] of Object.entries(variables)) {
      expect(name).not.toMatch(/secret|token|password|passwd|credential|webhook|api_?key|private/i);
      expect(JSON.stringify(value)).not.toMatch(/hooks\.slack\.com|AKIA[0-9A-Z]{16}|-----BEGIN|xox[abp]-/);
    }
    expect(variables.TOPIC_ARN).toEqual({ Ref: 'FindingsTopic' });
    expect(variables.GUARD_ROLE_ARN).toEqual({ 'Fn::GetAtt': ['IamRoleLambdaExecution', 'Arn'] });
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

  it('ships the manifest and every desired document in the deployment zip, next to the handler', () => {
    // Prepare
    const manifest = loadManifest(join(ROOT, 'policies/manifest.yaml'));

    // Act
    const entries = zipEntryNames(join(defaultPackage.dir, 'kms-policy-guard.zip'));

    // Assess
    expect(entries).toEqual(
      expect.arrayContaining([
        'handlers/drift.js',
        'policies/manifest.yaml',
        ...manifest.keys.map((key) => `policies/${key.policyFile}`),
      ]),
    );
    expect(entries.filter((entry) => entry.startsWith('node_modules/'))).toEqual([]);
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
    'follows --region and --param="alertEmail=…" when given',
    async () => {
      // Act
      const { dir, template: regional } = await packageService([
        '--region',
        'eu-west-1',
        '--param=alertEmail=ops@example.com',
      ]);
      rmSync(dir, { recursive: true, force: true });

      // Assess
      const [, role] = single(resourcesOfType(regional, 'AWS::IAM::Role'), 'IAM role');
      expect(role.Properties.RoleName).toBe('kms-policy-guard-eu-west-1');
      expect(regional.Parameters?.AlertEmail?.Default).toBe('ops@example.com');
      expect(existsSync(dir)).toBe(false);
    },
    PACKAGE_TIMEOUT_MS,
  );
});

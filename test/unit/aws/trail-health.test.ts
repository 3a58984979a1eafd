import {
  type AdvancedEventSelector,
  CloudTrailClient,
  DescribeTrailsCommand,
  type EventSelector,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
  type Trail,
} from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { CloudTrailHealth, selectorGap } from '../../../src/aws/trail-health';
import type { HealthCheck } from '../../../src/guard/health';

const cloudTrail = mockClient(CloudTrailClient);
const REGION = 'eu-west-3';
const LOCAL = 'arn:aws:cloudtrail:eu-west-3:111122223333:trail/local';
const ORG = 'arn:aws:cloudtrail:us-east-1:999988887777:trail/org-trail';

function trail(arn: string, fields: Partial<Trail> = {}): Trail {
  return {
    Name: arn.slice(arn.lastIndexOf('/') + 1),
    TrailARN: arn,
    HomeRegion: arn.split(':')[3],
    IsMultiRegionTrail: false,
    IsOrganizationTrail: false,
    ...fields,
  };
}

function awsError(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

interface Built {
  source: CloudTrailHealth;
  /** The Region of every client the source asked for, in order. */
  regions: string[];
}

function build(): Built {
  const regions: string[] = [];
  const source = new CloudTrailHealth(REGION, (region) => {
    regions.push(region);
    return new CloudTrailClient({ region, maxAttempts: 1 });
  });
  return { source, regions };
}

function only(checks: HealthCheck[]): HealthCheck {
  expect(checks).toHaveLength(1);
  const [check] = checks;
  if (!check) throw new Error('no check');
  return check;
}

describe('CloudTrailHealth', () => {
  beforeEach(() => {
    cloudTrail.reset();
    cloudTrail.on(DescribeTrailsCommand).resolves({ trailList: [trail(LOCAL)] });
    cloudTrail.on(GetTrailStatusCommand).resolves({ IsLogging: true });
    cloudTrail
      .on(GetEventSelectorsCommand)
      .resolves({ EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true }] });
  });

  it('passes a logging trail of this Region that logs all management events: three calls', async () => {
    // Act
    const checks = await build().source.checks();

    // Assess
    expect(checks).toEqual([{ check: 'CloudTrail trail', ok: true }]);
    expect(cloudTrail.commandCalls(DescribeTrailsCommand).map((call) => call.args[0].input)).toEqual([
      { includeShadowTrails: true },
    ]);
    expect(cloudTrail.commandCalls(GetTrailStatusCommand).map((call) => call.args[0].input)).toEqual([
      { Name: LOCAL },
    ]);
    expect(cloudTrail.commandCalls(GetEventSelectorsCommand).map((call) => call.args[0].input)).toEqual([
      { TrailName: LOCAL },
    ]);
  });

  it('names a stopped trail, since when, and the command that restarts it', async () => {
    // Prepare
    cloudTrail
      .on(GetTrailStatusCommand)
      .resolves({ IsLogging: false, StopLoggingTime: new Date('2026-03-02T05:59:00Z') });

    // Act
    const check = only(await build().source.checks());

    // Assess
    expect(check).toEqual({
      check: 'CloudTrail trail',
      ok: false,
      problem: `no CloudTrail trail delivers eu-west-3's KMS management write events, so EventBridge receives none and the drift rule never fires: trail ${LOCAL} is not logging since 2026-03-02T05:59:00.000Z`,
      fix: `Start it: aws cloudtrail start-logging --name ${LOCAL}, then find who called cloudtrail:StopLogging.`,
    });
  });

  it.each<[string, EventSelector[], AdvancedEventSelector[]]>([
    ['read-only management events', [{ ReadWriteType: 'ReadOnly', IncludeManagementEvents: true }], []],
    ['no management events', [{ ReadWriteType: 'All', IncludeManagementEvents: false }], []],
    [
      'management events without KMS',
      [
        {
          ReadWriteType: 'WriteOnly',
          IncludeManagementEvents: true,
          ExcludeManagementEventSources: ['kms.amazonaws.com'],
        },
      ],
      [],
    ],
    [
      'advanced: read-only management events',
      [],
      [
        {
          FieldSelectors: [
            { Field: 'eventCategory', Equals: ['Management'] },
            { Field: 'readOnly', Equals: ['true'] },
          ],
        },
      ],
    ],
    [
      'advanced: management events without KMS',
      [],
      [
        {
          FieldSelectors: [
            { Field: 'eventCategory', Equals: ['Management'] },
            { Field: 'eventSource', NotEquals: ['kms.amazonaws.com'] },
          ],
        },
      ],
    ],
    ['advanced: data events only', [], [{ FieldSelectors: [{ Field: 'eventCategory', Equals: ['Data'] }] }]],
  ])('names selectors that log %s', async (_what, basic, advanced) => {
    // Prepare
    cloudTrail
      .on(GetEventSelectorsCommand)
      .resolves({ EventSelectors: basic, AdvancedEventSelectors: advanced });

    // Act
    const check = only(await build().source.checks());

    // Assess
    expect(check.ok).toBe(false);
    expect(check.problem).toContain(
      `trail ${LOCAL}: its event selectors log no KMS management write event (management events need ReadWriteType All or WriteOnly, and kms.amazonaws.com must not be excluded)`,
    );
    expect(check.fix).toBe(
      `Log management events again: aws cloudtrail put-event-selectors --trail-name ${LOCAL} --event-selectors '[{"ReadWriteType":"All","IncludeManagementEvents":true}]'`,
    );
  });

  it.each<[string, EventSelector[], AdvancedEventSelector[]]>([
    ['no selectors (AWS default: all management events)', [], []],
    ['write-only management events', [{ ReadWriteType: 'WriteOnly' }], []],
    [
      'a data selector beside a management one',
      [
        {
          ReadWriteType: 'All',
          IncludeManagementEvents: false,
          DataResources: [{ Type: 'AWS::S3::Object', Values: ['arn:aws:s3'] }],
        },
        {},
      ],
      [],
    ],
    [
      'advanced: write management events, RDS Data API excluded',
      [],
      [
        {
          FieldSelectors: [
            { Field: 'eventCategory', Equals: ['Management'] },
            { Field: 'readOnly', Equals: ['false'] },
            { Field: 'eventSource', NotEquals: ['rdsdata.amazonaws.com'] },
          ],
        },
      ],
    ],
  ])('passes selectors with %s', async (_what, basic, advanced) => {
    // Prepare
    cloudTrail
      .on(GetEventSelectorsCommand)
      .resolves({ EventSelectors: basic, AdvancedEventSelectors: advanced });

    // Act
    const checks = await build().source.checks();

    // Assess
    expect(checks).toEqual([{ check: 'CloudTrail trail', ok: true }]);
  });

  it('names the KMS events advanced selectors leave out when they pick event names', () => {
    // Act
    const gap = selectorGap(
      [],
      [
        {
          FieldSelectors: [
            { Field: 'eventCategory', Equals: ['Management'] },
            { Field: 'eventName', NotStartsWith: ['Create', 'Tag', 'Untag'] },
          ],
        },
      ],
    );

    // Assess
    expect(gap).toBe(
      'its event selectors log not CreateKey, TagResource, UntagResource, CreateAlias, CreateGrant (management events need ReadWriteType All or WriteOnly, and kms.amazonaws.com must not be excluded)',
    );
  });

  it('asks a shadow trail (an organization trail from another Region) in its home Region, and stops at the first good trail', async () => {
    // Prepare
    cloudTrail.on(DescribeTrailsCommand).resolves({
      trailList: [
        trail(ORG, { IsMultiRegionTrail: true, IsOrganizationTrail: true }),
        trail(LOCAL),
        trail('arn:aws:cloudtrail:us-west-2:111122223333:trail/elsewhere'),
      ],
    });
    cloudTrail.on(GetTrailStatusCommand, { Name: ORG }).resolves({ IsLogging: true });

    // Act
    const built = build();
    const checks = await built.source.checks();

    // Assess
    expect(checks).toEqual([{ check: 'CloudTrail trail', ok: true }]);
    expect(built.regions).toEqual(['eu-west-3', 'us-east-1']);
    expect(cloudTrail.commandCalls(GetTrailStatusCommand).map((call) => call.args[0].input)).toEqual([
      { Name: ORG },
    ]);
    expect(cloudTrail.commandCalls(GetEventSelectorsCommand)).toHaveLength(1);
  });

  it('passes when one trail qualifies though another is stopped, and lists every trail when none does', async () => {
    // Prepare
    const second = 'arn:aws:cloudtrail:eu-west-3:111122223333:trail/second';
    cloudTrail.on(DescribeTrailsCommand).resolves({ trailList: [trail(LOCAL), trail(second)] });
    cloudTrail.on(GetTrailStatusCommand, { Name: LOCAL }).resolves({ IsLogging: false });

    // Act
    const passing = await build().source.checks();
    cloudTrail.on(GetTrailStatusCommand, { Name: second }).resolves({ IsLogging: false });
    const failing = only(await build().source.checks());

    // Assess
    expect(passing).toEqual([{ check: 'CloudTrail trail', ok: true }]);
    expect(failing.problem).toContain(`trail ${LOCAL} is not logging; trail ${second} is not logging`);
    expect(cloudTrail.commandCalls(GetTrailStatusCommand)).toHaveLength(4);
  });

  it.each([
    ['no trail at all', [], 'there is no trail for eu-west-3'],
    [
      'a single-Region trail of us-west-2 only',
      [trail('arn:aws:cloudtrail:us-west-2:111122223333:trail/elsewhere')],
      'there is no trail for eu-west-3 (1 trail(s) of other Regions only)',
    ],
  ])('names a Region without a trail (%s) and how to create one', async (_what, trails, said) => {
    // Prepare
    cloudTrail.on(DescribeTrailsCommand).resolves({ trailList: trails });

    // Act
    const check = only(await build().source.checks());

    // Assess
    expect(check.ok).toBe(false);
    expect(check.problem).toMatch(new RegExp(`: ${said.replace(/[()]/g, '\\$&')}$`));
    expect(check.fix).toContain('aws cloudtrail create-trail');
    expect(cloudTrail.commandCalls(GetTrailStatusCommand)).toHaveLength(0);
  });

  it('reports a trail listing it may not read as a check that could not be done', async () => {
    // Prepare
    cloudTrail
      .on(DescribeTrailsCommand)
      .rejects(
        awsError('AccessDeniedException', 'not authorized to perform: cloudtrail:DescribeTrails', 403),
      );

    // Act
    const check = only(await build().source.checks());

    // Assess
    expect(check).toMatchObject({
      check: 'CloudTrail trail',
      ok: false,
      problem:
        'could not be checked: DescribeTrails failed: not authorized to perform: cloudtrail:DescribeTrails (AccessDeniedException)',
    });
  });

  it('reports a trail whose status or selectors it may not read, naming the trail and the call', async () => {
    // Prepare
    cloudTrail.on(GetTrailStatusCommand).rejects(awsError('AccessDeniedException', 'denied', 403));
    cloudTrail.on(GetEventSelectorsCommand).rejects(awsError('ThrottlingException', 'Rate exceeded', 400));

    // Act
    const check = only(await build().source.checks());

    // Assess
    expect(check.ok).toBe(false);
    expect(check.problem).toContain(
      `trail ${LOCAL}: could not be checked: GetTrailStatus failed: denied (AccessDeniedException); trail ${LOCAL}: could not be checked: GetEventSelectors failed after retries: Rate exceeded (ThrottlingException)`,
    );
    expect(check.fix).toBe(
      'Give the guard role cloudtrail:GetTrailStatus on the trail (redeploy the stack). Give the guard role cloudtrail:GetEventSelectors on the trail (redeploy the stack).',
    );
  });
});

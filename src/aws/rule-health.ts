/**
 * The EventBridge share of the guard's health (docs/architecture.md#guard-health): is the drift rule
 * there and enabled (DescribeRule: `guard-disabled` otherwise), is its pattern the guard's
 * (KMS_POLICY_CHANGE_EVENT_PATTERN, compared semantically) and does it target the drift function
 * (ListTargetsByRule); is the audit's schedule rule enabled and targeting the audit function.
 *
 * The organization audit asks the same forward-rule checks of every member account and Region
 * (forwardRuleChecks, through the spoke role's client: src/app/spoke-feed.ts), with the spoke's rule, the
 * hub bus, the spoke's forwarder role and the spoke's own fix texts.
 *
 * Calls per audit: DescribeRule and ListTargetsByRule once per rule (ListTargetsByRule pages past 100
 * targets). Only the drift rule's DescribeRule throws; every other failed call is a failed check.
 */
import {
  DescribeRuleCommand,
  type DescribeRuleCommandOutput,
  EventBridgeClient,
  ListTargetsByRuleCommand,
} from '@aws-sdk/client-eventbridge';
import { eventPatternDifferences } from '../guard/event-pattern';
import {
  type GuardHealth,
  type GuardHealthProbe,
  type HealthCheck,
  type RuleHealth,
  uncheckable,
} from '../guard/health';
import { AWS_RETRY_CONFIG, type AwsClientSettings } from './client-settings';
import { sdkErrorShape, toAwsError } from './errors';

/** What a forward rule must be: its name, the bus it targets and (a spoke) the role EventBridge assumes for it. */
export interface ForwardRuleExpectation {
  name: string;
  busArn: string;
  /** The target's RoleArn (a spoke's forwarder role); absent: not checked. */
  roleArn?: string;
  /** How to restore it (default: redeploy the hub stack). */
  redeploy?: string;
  /** Appended to the AWS CLI commands of the fixes (` --region eu-west-1`). */
  cliSuffix?: string;
  /** The fix of a call that failed (default: the guard role's permission in serverless.yml). */
  permissionFix?: string;
}

/** A target a rule must have: its ARN and, when given, the role EventBridge assumes to deliver to it. */
interface ExpectedTarget {
  arn: string;
  roleArn?: string;
}

export interface EventBridgeHealthOptions {
  /** The drift rule's bus (the hub bus `kms-policy-guard`; default: `default`). */
  eventBusName?: string;
  /**
   * The rule on the default bus that forwards this account's KMS events to the hub bus, and that bus's ARN:
   * it must exist, be enabled, have the guard's pattern and target the bus. Absent: not checked.
   */
  forwardRule?: ForwardRuleExpectation;
  /** The drift function's ARN, which the drift rule must target. Absent (the CLI): any target will do. */
  driftFunctionArn?: string;
  /** The audit's schedule rule and the function it must target. Absent (the CLI): not checked. */
  auditRule?: { name: string; functionArn: string };
}

const REDEPLOY = 'Redeploy the stack (serverless deploy), which restores it';

export class EventBridgeRuleHealth implements GuardHealthProbe {
  private readonly eventBusName: string;

  constructor(
    private readonly client: EventBridgeClient,
    private readonly ruleName: string,
    private readonly options: EventBridgeHealthOptions = {},
  ) {
    this.eventBusName = options.eventBusName ?? 'default';
  }

  /** A probe with its own EventBridge client (one per container). */
  static create(
    settings: AwsClientSettings,
    ruleName: string,
    options: EventBridgeHealthOptions = {},
  ): EventBridgeRuleHealth {
    return new EventBridgeRuleHealth(
      new EventBridgeClient({ ...AWS_RETRY_CONFIG, ...settings }),
      ruleName,
      options,
    );
  }

  /** Releases the client's sockets (the CLI and the demo; a Lambda container never needs to). */
  destroy(): void {
    this.client.destroy();
  }

  /** The drift rule's state only (DescribeRule); throws a typed error when it cannot be described. */
  async driftRuleHealth(): Promise<RuleHealth> {
    const rule = await this.describeDriftRule();
    return { ruleName: this.ruleName, state: rule === undefined ? 'missing' : (rule.State ?? 'missing') };
  }

  async checkHealth(): Promise<GuardHealth> {
    const { auditRule } = this.options;
    // The two rules are independent: ask about both at once.
    const { forwardRule } = this.options;
    const [drift, forward, schedule] = await Promise.all([
      this.driftRuleChecks(),
      forwardRule ? this.forwardRuleChecks(forwardRule) : Promise.resolve([]),
      auditRule ? this.auditScheduleChecks(auditRule) : Promise.resolve([]),
    ]);
    return { driftRule: drift.driftRule, checks: [...drift.checks, ...forward, ...schedule] };
  }

  private async driftRuleChecks(): Promise<GuardHealth> {
    const rule = await this.describeDriftRule();
    const driftRule: RuleHealth = {
      ruleName: this.ruleName,
      state: rule === undefined ? 'missing' : (rule.State ?? 'missing'),
    };
    // A missing rule is guard-disabled already: it has neither a pattern nor targets to check.
    if (rule === undefined) return { driftRule, checks: [] };
    const { driftFunctionArn } = this.options;
    const target = await this.targetCheck(
      'drift rule target',
      this.ruleName,
      driftFunctionArn === undefined ? undefined : { arn: driftFunctionArn },
      'drift',
      this.eventBusName,
    );
    return {
      driftRule,
      checks: [this.patternCheck('drift rule pattern', this.ruleName, rule.EventPattern), target],
    };
  }

  /**
   * An account's events reach the hub bus only through a forward rule on its default bus: it must exist, be
   * ENABLED, have the guard's pattern and target the hub bus (with the forwarder role, when one is expected).
   * Never throws: a call that fails is a failed check.
   */
  async forwardRuleChecks(forward: ForwardRuleExpectation): Promise<HealthCheck[]> {
    const check = 'forward rule';
    const redeploy = forward.redeploy ?? REDEPLOY;
    const suffix = forward.cliSuffix ?? '';
    let rule: DescribeRuleCommandOutput;
    try {
      rule = await this.describe(forward.name, 'default');
    } catch (error) {
      if (sdkErrorShape(error).name !== 'ResourceNotFoundException')
        return [uncheckable(check, toAwsError(error, 'DescribeRule'), forward.permissionFix)];
      return [
        {
          check,
          ok: false,
          problem: `the rule ${forward.name} that forwards this account's KMS events to the hub bus does not exist: changes to this account's keys never reach the drift function`,
          fix: `${redeploy}, then find who called events:DeleteRule on ${forward.name} in CloudTrail.`,
        },
      ];
    }
    const enabled: HealthCheck =
      rule.State === 'ENABLED'
        ? { check, ok: true }
        : {
            check,
            ok: false,
            problem: `the rule ${forward.name} that forwards this account's KMS events to the hub bus is ${rule.State ?? 'in no state'}`,
            fix: `Enable it again: aws events enable-rule --name ${forward.name}${suffix}, then find who called events:DisableRule in CloudTrail.`,
          };
    const target: ExpectedTarget = { arn: forward.busArn };
    if (forward.roleArn !== undefined) target.roleArn = forward.roleArn;
    return [
      enabled,
      this.patternCheck('forward rule pattern', forward.name, rule.EventPattern, redeploy),
      await this.targetCheck('forward rule target', forward.name, target, 'hub bus', 'default', {
        redeploy,
        ...(forward.permissionFix !== undefined ? { permissionFix: forward.permissionFix } : {}),
      }),
    ];
  }

  private async describeDriftRule(): Promise<DescribeRuleCommandOutput | undefined> {
    try {
      return await this.describe(this.ruleName);
    } catch (error) {
      if (sdkErrorShape(error).name === 'ResourceNotFoundException') return undefined;
      throw toAwsError(error, 'DescribeRule');
    }
  }

  private describe(name: string, bus: string = this.eventBusName): Promise<DescribeRuleCommandOutput> {
    // DescribeRule without EventBusName looks on the default bus only: a rule on the hub bus needs its name.
    return this.client.send(new DescribeRuleCommand({ Name: name, EventBusName: bus }));
  }

  private patternCheck(
    check: string,
    ruleName: string,
    pattern: string | undefined,
    redeploy: string = REDEPLOY,
  ): HealthCheck {
    const differences = eventPatternDifferences(pattern);
    if (differences.length === 0) return { check, ok: true };
    return {
      check,
      ok: false,
      problem: `the event pattern of rule ${ruleName} is not the guard's, so KMS changes it does not match never reach the drift function: ${differences.join('; ')}`,
      fix: `${redeploy} (KMS_POLICY_CHANGE_EVENT_PATTERN), then find who called events:PutRule on ${ruleName} in CloudTrail.`,
    };
  }

  /** Every target of a rule, its ARN and role (ListTargetsByRule, all pages). */
  private async targets(ruleName: string, bus: string): Promise<ExpectedTarget[]> {
    const targets: ExpectedTarget[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListTargetsByRuleCommand({
          Rule: ruleName,
          EventBusName: bus,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const target of page.Targets ?? []) {
        if (target.Arn)
          targets.push({ arn: target.Arn, ...(target.RoleArn ? { roleArn: target.RoleArn } : {}) });
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return targets;
  }

  private async targetCheck(
    check: string,
    ruleName: string,
    expected: ExpectedTarget | undefined,
    what: 'drift' | 'audit' | 'hub bus',
    bus: string,
    texts: { redeploy?: string; permissionFix?: string } = {},
  ): Promise<HealthCheck> {
    let targets: ExpectedTarget[];
    try {
      targets = await this.targets(ruleName, bus);
    } catch (error) {
      return uncheckable(check, toAwsError(error, 'ListTargetsByRule'), texts.permissionFix);
    }
    const ok =
      expected === undefined
        ? targets.length > 0
        : targets.some(
            (target) =>
              target.arn === expected.arn &&
              (expected.roleArn === undefined || target.roleArn === expected.roleArn),
          );
    if (ok) return { check, ok: true };
    const wanted =
      expected === undefined
        ? `any target`
        : `the ${what}${what === 'hub bus' ? '' : ' function'} ${expected.arn}${expected.roleArn ? ` as ${expected.roleArn}` : ''}`;
    const shown = (target: ExpectedTarget) => `${target.arn}${target.roleArn ? ` as ${target.roleArn}` : ''}`;
    const has =
      targets.length === 0 ? 'it has no target' : `its targets are ${targets.map(shown).join(', ')}`;
    return {
      check,
      ok: false,
      problem: `rule ${ruleName} does not deliver to ${wanted}: ${has}`,
      fix: `${texts.redeploy ?? REDEPLOY}, then find who called events:RemoveTargets or events:PutTargets on ${ruleName} in CloudTrail.`,
    };
  }

  private async auditScheduleChecks(auditRule: {
    name: string;
    functionArn: string;
  }): Promise<HealthCheck[]> {
    const check = 'audit schedule';
    let rule: DescribeRuleCommandOutput;
    try {
      rule = await this.describe(auditRule.name, 'default');
    } catch (error) {
      if (sdkErrorShape(error).name === 'ResourceNotFoundException') {
        return [
          {
            check,
            ok: false,
            problem: `the audit's schedule rule ${auditRule.name} does not exist: no audit runs after this one`,
            fix: `${REDEPLOY}.`,
          },
        ];
      }
      return [uncheckable(check, toAwsError(error, 'DescribeRule'))];
    }
    const scheduled: HealthCheck =
      rule.State === 'ENABLED'
        ? { check, ok: true }
        : {
            check,
            ok: false,
            problem: `the audit's schedule rule ${auditRule.name} is ${rule.State ?? 'in no state'}: no audit runs after this one`,
            fix: `Enable it again: aws events enable-rule --name ${auditRule.name}`,
          };
    const target = await this.targetCheck(
      'audit schedule target',
      auditRule.name,
      { arn: auditRule.functionArn },
      'audit',
      'default',
    );
    return [scheduled, target];
  }
}

/**
 * The EventBridge share of the guard's health (docs/architecture.md#guard-health): is the drift rule
 * there and enabled (DescribeRule: `guard-disabled` otherwise), is its pattern the guard's
 * (KMS_POLICY_CHANGE_EVENT_PATTERN, compared semantically) and does it target the drift function
 * (ListTargetsByRule); is the audit's schedule rule enabled and targeting the audit function.
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
import { AWS_RETRY_CONFIG, type AwsClientSettings } from './clients';
import { sdkErrorShape, toAwsError } from './errors';

export interface EventBridgeHealthOptions {
  /** The drift rule's bus (the hub bus `kms-policy-guard`; default: `default`). */
  eventBusName?: string;
  /**
   * The rule on the default bus that forwards this account's KMS events to the hub bus, and that bus's ARN:
   * it must exist, be enabled, have the guard's pattern and target the bus. Absent: not checked.
   */
  forwardRule?: { name: string; busArn: string };
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
    const target = await this.targetCheck(
      'drift rule target',
      this.ruleName,
      this.options.driftFunctionArn,
      'drift',
      this.eventBusName,
    );
    return {
      driftRule,
      checks: [this.patternCheck('drift rule pattern', this.ruleName, rule.EventPattern), target],
    };
  }

  /** This account's own events reach the hub bus only through the forward rule on the default bus. */
  private async forwardRuleChecks(forward: { name: string; busArn: string }): Promise<HealthCheck[]> {
    const check = 'forward rule';
    let rule: DescribeRuleCommandOutput;
    try {
      rule = await this.describe(forward.name, 'default');
    } catch (error) {
      if (sdkErrorShape(error).name !== 'ResourceNotFoundException')
        return [uncheckable(check, toAwsError(error, 'DescribeRule'))];
      return [
        {
          check,
          ok: false,
          problem: `the rule ${forward.name} that forwards this account's KMS events to the hub bus does not exist: changes to this account's keys never reach the drift function`,
          fix: `${REDEPLOY}, then find who called events:DeleteRule on ${forward.name} in CloudTrail.`,
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
            fix: `Enable it again: aws events enable-rule --name ${forward.name}`,
          };
    return [
      enabled,
      this.patternCheck('forward rule pattern', forward.name, rule.EventPattern),
      await this.targetCheck('forward rule target', forward.name, forward.busArn, 'hub bus', 'default'),
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

  private patternCheck(check: string, ruleName: string, pattern: string | undefined): HealthCheck {
    const differences = eventPatternDifferences(pattern);
    if (differences.length === 0) return { check, ok: true };
    return {
      check,
      ok: false,
      problem: `the event pattern of rule ${ruleName} is not the guard's, so KMS changes it does not match never reach the drift function: ${differences.join('; ')}`,
      fix: `${REDEPLOY} (KMS_POLICY_CHANGE_EVENT_PATTERN), then find who called events:PutRule on ${ruleName} in CloudTrail.`,
    };
  }

  /** Every target ARN of a rule (ListTargetsByRule, all pages). */
  private async targetArns(ruleName: string, bus: string): Promise<string[]> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListTargetsByRuleCommand({
          Rule: ruleName,
          EventBusName: bus,
          ...(nextToken ? { NextToken: nextToken } : {}),
        }),
      );
      for (const target of page.Targets ?? []) if (target.Arn) arns.push(target.Arn);
      nextToken = page.NextToken;
    } while (nextToken);
    return arns;
  }

  private async targetCheck(
    check: string,
    ruleName: string,
    functionArn: string | undefined,
    what: 'drift' | 'audit' | 'hub bus',
    bus: string,
  ): Promise<HealthCheck> {
    let arns: string[];
    try {
      arns = await this.targetArns(ruleName, bus);
    } catch (error) {
      return uncheckable(check, toAwsError(error, 'ListTargetsByRule'));
    }
    const ok = functionArn === undefined ? arns.length > 0 : arns.includes(functionArn);
    if (ok) return { check, ok: true };
    const wanted =
      functionArn === undefined
        ? `any target`
        : `the ${what}${what === 'hub bus' ? '' : ' function'} ${functionArn}`;
    const has = arns.length === 0 ? 'it has no target' : `its targets are ${arns.join(', ')}`;
    return {
      check,
      ok: false,
      problem: `rule ${ruleName} does not deliver to ${wanted}: ${has}`,
      fix: `${REDEPLOY}, then find who called events:RemoveTargets or events:PutTargets on ${ruleName} in CloudTrail.`,
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
      auditRule.functionArn,
      'audit',
      'default',
    );
    return [scheduled, target];
  }
}

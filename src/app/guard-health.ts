/**
 * The audit's guard-health probe, wired from configuration (docs/architecture.md#guard-health): one
 * adapter per service, each with its own client, asked at once by combineHealthProbes. The audit
 * function, the integration tests (over moto) and the demo build it here.
 */
import type { AwsClientSettings } from '../aws/client-settings';
import { LambdaConcurrencyHealth } from '../aws/function-health';
import { EventBridgeRuleHealth } from '../aws/rule-health';
import { SnsSubscriptionHealth } from '../aws/topic-health';
import { CloudTrailHealth } from '../aws/trail-health';
import { hubBusArn } from '../core/spoke-names';
import { combineHealthProbes, type GuardHealthProbe } from '../guard/health';
import type { AuditConfig } from './config';

export type GuardHealthConfig = Pick<
  AuditConfig,
  | 'region'
  | 'topicArn'
  | 'driftRuleName'
  | 'driftFunctionArn'
  | 'auditRuleName'
  | 'auditFunctionArn'
  | 'functionNames'
> &
  Partial<Pick<AuditConfig, 'driftEventBus' | 'forwardRuleName'>>;

/** `arn:<partition>:events:<region>:<account>:event-bus/<name>` in the drift function's account and Region. */
function busArnOf(config: GuardHealthConfig, bus: string): string {
  const [, partition = 'aws', , region = config.region, account = ''] = config.driftFunctionArn.split(':');
  return hubBusArn(partition, region, account, bus);
}

export interface GuardHealthWiring {
  probe: GuardHealthProbe;
  /** Releases every client's sockets (tests, the CLI; a Lambda container never needs to). */
  destroy(): void;
}

export function buildGuardHealth(config: GuardHealthConfig, aws: AwsClientSettings): GuardHealthWiring {
  const settings = { ...aws, region: aws.region ?? config.region };
  const bus = config.driftEventBus;
  const rules = EventBridgeRuleHealth.create(settings, config.driftRuleName, {
    driftFunctionArn: config.driftFunctionArn,
    auditRule: { name: config.auditRuleName, functionArn: config.auditFunctionArn },
    ...(bus ? { eventBusName: bus } : {}),
    ...(bus && config.forwardRuleName
      ? { forwardRule: { name: config.forwardRuleName, busArn: busArnOf(config, bus) } }
      : {}),
  });
  const functions = LambdaConcurrencyHealth.create(settings, config.functionNames);
  const trails = CloudTrailHealth.create(settings, settings.region);
  const topic = SnsSubscriptionHealth.create(settings, config.topicArn);
  return {
    probe: combineHealthProbes(rules, [functions, trails, topic]),
    destroy: () => {
      rules.destroy();
      functions.destroy();
      trails.destroy();
      topic.destroy();
    },
  };
}

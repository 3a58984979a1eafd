/**
 * The guard's own health, checked by every audit: a drift rule that is missing or disabled means
 * the real-time guard is blind, which is a critical finding (docs/architecture.md#data-flow).
 */
export interface RuleHealth {
  ruleName: string;
  /** `missing` when DescribeRule answers ResourceNotFoundException. */
  state: 'ENABLED' | 'DISABLED' | 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS' | 'missing' | string;
}

export interface GuardHealthProbe {
  driftRuleHealth(): Promise<RuleHealth>;
}

/** A rule state in which EventBridge delivers the CloudTrail events to the guard. */
export function isRuleDelivering(health: RuleHealth): boolean {
  return health.state === 'ENABLED' || health.state === 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';
}

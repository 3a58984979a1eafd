/**
 * The CloudTrail share of the guard's health (docs/architecture.md#guard-health): EventBridge receives
 * the "AWS API Call via CloudTrail" events of KMS only while a trail logs this Region's management WRITE
 * events, is logging, and does not exclude kms.amazonaws.com. One such trail is enough.
 *
 * Calls per audit: one DescribeTrails (shadow trails included: multi-Region trails created in another
 * Region and organization trails), then GetTrailStatus and GetEventSelectors for each trail that applies
 * to this Region, in listing order, until one trail qualifies. Both are sent to the trail's home Region,
 * by ARN (a shadow trail's settings live there).
 *
 * The organization audit asks the same of every member account and Region through the spoke role
 * (src/app/spoke-feed.ts), with the spoke's permission fix.
 */
import {
  type AdvancedEventSelector,
  type AdvancedFieldSelector,
  CloudTrailClient,
  DescribeTrailsCommand,
  type EventSelector,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
  type Trail,
} from '@aws-sdk/client-cloudtrail';
import { KMS_EVENT_NAMES } from '../guard/event-names';
import { type HealthCheck, type HealthCheckSource, uncheckable } from '../guard/health';
import { AWS_RETRY_CONFIG, type AwsClientSettings } from './client-settings';
import { toAwsError } from './errors';

const KMS_SOURCE = 'kms.amazonaws.com';
const CHECK = 'CloudTrail trail';

/** The fields of a KMS management write event that CloudTrail's selectors can filter on. */
function kmsWriteEvent(eventName: string): Record<string, string> {
  return { eventCategory: 'Management', readOnly: 'false', eventSource: KMS_SOURCE, eventName };
}

/** A basic event selector logs KMS write management events (AWS defaults: All, management included). */
function basicSelectorLogsKmsWrites(selector: EventSelector): boolean {
  return (
    selector.IncludeManagementEvents !== false &&
    selector.ReadWriteType !== 'ReadOnly' &&
    !(selector.ExcludeManagementEventSources ?? []).includes(KMS_SOURCE)
  );
}

/** One advanced field selector against an event's field; a field the event lacks never matches. */
function fieldMatches(selector: AdvancedFieldSelector, event: Record<string, string>): boolean {
  const value = selector.Field === undefined ? undefined : event[selector.Field];
  if (value === undefined) return false;
  const any = (values: string[] | undefined, test: (candidate: string) => boolean) =>
    values === undefined || values.some(test);
  const none = (values: string[] | undefined, test: (candidate: string) => boolean) =>
    values === undefined || !values.some(test);
  return (
    any(selector.Equals, (candidate) => candidate === value) &&
    any(selector.StartsWith, (candidate) => value.startsWith(candidate)) &&
    any(selector.EndsWith, (candidate) => value.endsWith(candidate)) &&
    none(selector.NotEquals, (candidate) => candidate === value) &&
    none(selector.NotStartsWith, (candidate) => value.startsWith(candidate)) &&
    none(selector.NotEndsWith, (candidate) => value.endsWith(candidate))
  );
}

/** An advanced selector matches an event when every one of its field selectors does. */
function advancedSelectorMatches(selector: AdvancedEventSelector, event: Record<string, string>): boolean {
  const fields = selector.FieldSelectors ?? [];
  return fields.length > 0 && fields.every((field) => fieldMatches(field, event));
}

/** Why the selectors miss KMS write events, or undefined when every event the guard routes is logged. */
export function selectorGap(
  basic: readonly EventSelector[],
  advanced: readonly AdvancedEventSelector[],
): string | undefined {
  if (basic.length === 0 && advanced.length === 0) return undefined; // AWS's default: all management events
  const missed = KMS_EVENT_NAMES.filter((eventName) => {
    const event = kmsWriteEvent(eventName);
    return (
      !basic.some(basicSelectorLogsKmsWrites) &&
      !advanced.some((selector) => advancedSelectorMatches(selector, event))
    );
  });
  if (missed.length === 0) return undefined;
  const what =
    missed.length === KMS_EVENT_NAMES.length ? 'no KMS management write event' : `not ${missed.join(', ')}`;
  return `its event selectors log ${what} (management events need ReadWriteType All or WriteOnly, and ${KMS_SOURCE} must not be excluded)`;
}

interface TrailVerdict {
  ok: boolean;
  reasons: string[];
  fixes: string[];
}

export class CloudTrailHealth implements HealthCheckSource {
  readonly name = CHECK;
  private readonly clients = new Map<string, CloudTrailClient>();

  /**
   * `region`: the Region the guard watches. `clientFor`: a client for a Region (the home Region of a
   * trail); the adapter keeps one per Region.
   */
  constructor(
    private readonly region: string,
    private readonly clientFor: (region: string) => CloudTrailClient,
    /** The fix of a call that failed (default: the guard role's permission in serverless.yml). */
    private readonly permissionFix?: string,
  ) {}

  /** A source whose clients share the guard's settings (retries, endpoint, credentials). */
  static create(settings: AwsClientSettings, region: string): CloudTrailHealth {
    return new CloudTrailHealth(
      region,
      (home) => new CloudTrailClient({ ...AWS_RETRY_CONFIG, ...settings, region: home }),
    );
  }

  destroy(): void {
    for (const client of this.clients.values()) client.destroy();
    this.clients.clear();
  }

  private client(region: string): CloudTrailClient {
    let client = this.clients.get(region);
    if (!client) {
      client = this.clientFor(region);
      this.clients.set(region, client);
    }
    return client;
  }

  async checks(): Promise<HealthCheck[]> {
    let trails: Trail[];
    try {
      const listing = await this.client(this.region).send(
        new DescribeTrailsCommand({ includeShadowTrails: true }),
      );
      trails = listing.trailList ?? [];
    } catch (error) {
      return [uncheckable(CHECK, toAwsError(error, 'DescribeTrails'), this.permissionFix)];
    }
    const here = trails.filter(
      (trail) => trail.IsMultiRegionTrail === true || trail.HomeRegion === this.region,
    );
    const reasons: string[] = [];
    const fixes: string[] = [];
    for (const trail of here) {
      const verdict = await this.judge(trail);
      if (verdict.ok) return [{ check: CHECK, ok: true }];
      reasons.push(...verdict.reasons);
      fixes.push(...verdict.fixes);
    }
    const others = trails.length - here.length;
    const found =
      here.length === 0
        ? `there is no trail for ${this.region}${others > 0 ? ` (${others} trail(s) of other Regions only)` : ''}`
        : reasons.join('; ');
    return [
      {
        check: CHECK,
        ok: false,
        problem: `no CloudTrail trail delivers ${this.region}'s KMS management write events, so EventBridge receives none and the drift rule never fires: ${found}`,
        fix:
          here.length === 0
            ? `Create a multi-Region trail that logs management events and start it: aws cloudtrail create-trail --name <name> --s3-bucket-name <bucket> --is-multi-region-trail && aws cloudtrail start-logging --name <name>`
            : fixes.join(' '),
      },
    ];
  }

  /** GetTrailStatus and GetEventSelectors of one trail, in its home Region. */
  private async judge(trail: Trail): Promise<TrailVerdict> {
    const arn = trail.TrailARN ?? trail.Name ?? 'unnamed trail';
    const client = this.client(trail.HomeRegion ?? this.region);
    const label = `trail ${arn}`;
    const verdict: TrailVerdict = { ok: false, reasons: [], fixes: [] };
    try {
      const status = await client.send(new GetTrailStatusCommand({ Name: arn }));
      if (status.IsLogging !== true) {
        const since = status.StopLoggingTime ? ` since ${status.StopLoggingTime.toISOString()}` : '';
        verdict.reasons.push(`${label} is not logging${since}`);
        verdict.fixes.push(
          `Start it: aws cloudtrail start-logging --name ${arn}, then find who called cloudtrail:StopLogging.`,
        );
      }
    } catch (error) {
      verdict.reasons.push(`${label}: ${uncheckable(CHECK, toAwsError(error, 'GetTrailStatus')).problem}`);
      verdict.fixes.push(
        this.permissionFix ??
          'Give the guard role cloudtrail:GetTrailStatus on the trail (redeploy the stack).',
      );
    }
    try {
      const selectors = await client.send(new GetEventSelectorsCommand({ TrailName: arn }));
      const gap = selectorGap(selectors.EventSelectors ?? [], selectors.AdvancedEventSelectors ?? []);
      if (gap !== undefined) {
        verdict.reasons.push(`${label}: ${gap}`);
        verdict.fixes.push(
          `Log management events again: aws cloudtrail put-event-selectors --trail-name ${arn} --event-selectors '[{"ReadWriteType":"All","IncludeManagementEvents":true}]'`,
        );
      }
    } catch (error) {
      verdict.reasons.push(`${label}: ${uncheckable(CHECK, toAwsError(error, 'GetEventSelectors')).problem}`);
      verdict.fixes.push(
        this.permissionFix ??
          'Give the guard role cloudtrail:GetEventSelectors on the trail (redeploy the stack).',
      );
    }
    verdict.ok = verdict.reasons.length === 0;
    return verdict;
  }
}

/**
 * Reads a finding back from an SNS notification delivered to the Slack notifier.
 *
 * The publisher sends `MessageStructure: 'json'`: SNS then delivers to a Lambda subscriber the value of the
 * `lambda` key, or of `default` when there is none — so `Records[].Sns.Message` is the finding JSON itself.
 * A message published without `MessageStructure` (by hand, by another tool, or by a test) arrives as the
 * whole envelope `{"default": "…", "lambda": "…"}`; both shapes are accepted. Anything else is classified
 * so the handler can still post an "unreadable finding" message: an alert is never dropped.
 */

import { type Finding, findingSchema } from '../core/finding';
import * as z from '../core/zod';

/**
 * The stack's CloudWatch alarms (drift function errors, dead-letter queue depth) notify the same topic; their
 * message is CloudWatch's own JSON, not a finding. Only the fields shown in Slack are read.
 */
export const cloudWatchAlarmSchema = z.object({
  AlarmName: z.string(),
  AlarmDescription: z.nullish(z.string()),
  AWSAccountId: z.optional(z.string()),
  NewStateValue: z.string(),
  OldStateValue: z.optional(z.string()),
  NewStateReason: z.optional(z.string()),
  StateChangeTime: z.optional(z.string()),
  Region: z.optional(z.string()),
});
export type CloudWatchAlarmNotification = z.output<typeof cloudWatchAlarmSchema>;

const publisherCuts = z.object({ truncated: z.array(z.string()) });

export type UnreadableReason = 'not-json' | 'not-an-object' | 'envelope-without-finding' | 'not-a-finding';

export type FindingReadResult =
  | { ok: true; kind: 'finding'; finding: Finding; shape: 'finding' | 'envelope' }
  | { ok: true; kind: 'alarm'; alarm: CloudWatchAlarmNotification }
  | { ok: false; reason: UnreadableReason; detail: string };

function parseJson(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeIssues(error: z.core.$ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Reads `Records[].Sns.Message`: the finding JSON, a `default`/`lambda` envelope holding it, or a CloudWatch alarm. */
export function readFindingFromSnsMessage(message: string): FindingReadResult {
  const parsed = parseJson(message);
  if (!parsed.ok) return { ok: false, reason: 'not-json', detail: 'the SNS message is not JSON' };
  if (!isRecord(parsed.value)) {
    return { ok: false, reason: 'not-an-object', detail: 'the SNS message is JSON but not an object' };
  }
  if ('AlarmName' in parsed.value && 'NewStateValue' in parsed.value) {
    const alarm = cloudWatchAlarmSchema.safeParse(parsed.value);
    if (alarm.success) return { ok: true, kind: 'alarm', alarm: alarm.data };
  }
  let candidate: unknown = parsed.value;
  let shape: 'finding' | 'envelope' = 'finding';
  const looksLikeEnvelope =
    !('keyArn' in parsed.value) && ('default' in parsed.value || 'lambda' in parsed.value);
  if (looksLikeEnvelope) {
    shape = 'envelope';
    const inner = [parsed.value.lambda, parsed.value.default]
      .filter((value): value is string => typeof value === 'string')
      .map(parseJson)
      .find((result) => result.ok && isRecord(result.value));
    if (!inner?.ok) {
      return {
        ok: false,
        reason: 'envelope-without-finding',
        detail: 'the SNS message is a default/lambda envelope whose values are not finding JSON',
      };
    }
    candidate = inner.value;
  }
  const result = findingSchema.safeParse(candidate);
  if (!result.success) return { ok: false, reason: 'not-a-finding', detail: describeIssues(result.error) };
  // The publisher (src/alerts/sns-message.ts) shortens a finding that would not fit in 256 KiB and lists
  // each cut in `truncated`: say so in Slack, or a missing diff would look like no diff.
  const cuts = publisherCuts.safeParse(candidate);
  const finding = result.data;
  if (cuts.success && cuts.data.truncated.length > 0) {
    finding.details = [
      ...finding.details,
      ...cuts.data.truncated.map((note) => `SNS message shortened: ${note}`),
    ];
  }
  return { ok: true, kind: 'finding', finding, shape };
}

/**
 * Reads a finding back from an SNS notification delivered to the Slack notifier.
 *
 * The publisher sends `MessageStructure: 'json'`: SNS then delivers to a Lambda subscriber the value of the
 * `lambda` key, or of `default` when there is none — so `Records[].Sns.Message` is the finding JSON itself.
 * A message published without `MessageStructure` (by hand, by another tool, or by a test) arrives as the
 * whole envelope `{"default": "…", "lambda": "…"}`; both shapes are accepted. Anything else is classified
 * so the handler can still post an "unreadable finding" message: an alert is never dropped.
 */
import * as z from 'zod';
import type { Finding } from '../guard/finding';

const severity = z.enum(['critical', 'high', 'medium', 'low', 'info']);
const stringList = z.array(z.string());
const setDelta = z.object({ added: stringList, removed: stringList });
const normalizedCondition = z.object({ operator: z.string(), key: z.string(), values: stringList });

const statementChange = z.object({
  kind: z.enum(['added', 'removed', 'changed']),
  severity,
  desiredIndex: z.number().optional(),
  liveIndex: z.number().optional(),
  sid: z.string().optional(),
  effect: z.string(),
  summary: z.string(),
  principals: setDelta.optional(),
  actions: setDelta.optional(),
  resources: setDelta.optional(),
  conditions: z
    .object({ added: z.array(normalizedCondition), removed: z.array(normalizedCondition) })
    .optional(),
  notes: stringList.default([]),
});

const accessChange = z.object({
  principal: z.string(),
  gained: stringList.default([]),
  lost: stringList.default([]),
  conditions: stringList.default([]),
  anyone: z.boolean().default(false),
  crossAccount: z.boolean().default(false),
  severity,
});

const documentChange = z.object({
  element: z.literal('Version'),
  desired: z.string().optional(),
  live: z.string().optional(),
  severity,
  summary: z.string(),
});

const policyDiff = z.object({
  statements: z.array(statementChange).default([]),
  documentChanges: z.array(documentChange).optional(),
  access: z.array(accessChange).default([]),
  orphanedPrincipals: z
    .array(
      z.object({
        principal: z.string(),
        where: z.enum(['desired', 'live']),
        path: z.string(),
        message: z.string(),
      }),
    )
    .default([]),
  severity,
});

const validationFinding = z.object({
  code: z.string(),
  level: z.enum(['error', 'warning']),
  path: z.string(),
  message: z.string(),
});

const actor = z.object({
  arn: z.string().optional(),
  type: z.string().optional(),
  accountId: z.string().optional(),
  principalId: z.string().optional(),
  sourceIPAddress: z.string().optional(),
  userAgent: z.string().optional(),
  eventTime: z.string().optional(),
  eventID: z.string().optional(),
  eventName: z.string().optional(),
  isGuard: z.boolean().optional(),
});

/** The Finding shape (src/guard/finding.ts), lenient where a missing list can only mean "none". */
export const findingSchema = z.object({
  id: z.string(),
  kind: z.enum([
    'drift',
    'remediated',
    'would-remediate',
    'invalid-desired',
    'invalid-live',
    'orphaned-principal',
    'unmanaged-key',
    'guard-locked-out',
    'key-unavailable',
    'key-not-writable',
    'flapping',
    'remediation-failed',
    'lockout-risk',
    'guard-disabled',
    'audit-summary',
    'audit-incomplete',
  ]),
  severity,
  title: z.string(),
  keyArn: z.string(),
  keyId: z.string(),
  aliases: stringList.default([]),
  keyName: z.string().optional(),
  policyFile: z.string().optional(),
  region: z.string(),
  account: z.string(),
  mode: z.enum(['alert', 'remediate', 'dry-run']),
  action: z.enum(['none', 'alerted', 'remediated', 'failed']),
  trigger: z.enum(['event', 'audit', 'cli']),
  actor: actor.optional(),
  diff: policyDiff.optional(),
  cosmetic: z
    .array(
      z.object({
        kind: z.enum(['sid', 'id', 'formatting', 'statement-order', 'value-form']),
        message: z.string(),
        path: z.string().optional(),
      }),
    )
    .optional(),
  validation: z.object({ desired: z.array(validationFinding), live: z.array(validationFinding) }).optional(),
  livePolicy: z.string().optional(),
  desiredPolicy: z.string().optional(),
  details: stringList.default([]),
  time: z.string(),
});

// Compile-time proof that what the schema accepts is a Finding.
const acceptsOnlyFindings: (parsed: z.output<typeof findingSchema>) => Finding = (parsed) => parsed;
void acceptsOnlyFindings;

/**
 * The stack's CloudWatch alarms (drift function errors, dead-letter queue depth) notify the same topic; their
 * message is CloudWatch's own JSON, not a finding. Only the fields shown in Slack are read.
 */
export const cloudWatchAlarmSchema = z.object({
  AlarmName: z.string(),
  AlarmDescription: z.string().nullish(),
  AWSAccountId: z.string().optional(),
  NewStateValue: z.string(),
  OldStateValue: z.string().optional(),
  NewStateReason: z.string().optional(),
  StateChangeTime: z.string().optional(),
  Region: z.string().optional(),
});
export type CloudWatchAlarmNotification = z.output<typeof cloudWatchAlarmSchema>;

const publisherCuts = z.object({ truncated: stringList });

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

function describeIssues(error: z.ZodError): string {
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

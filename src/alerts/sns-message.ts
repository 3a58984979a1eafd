/**
 * A finding -> one SNS Publish (docs/architecture.md#findings-and-messages): `MessageStructure: 'json'` so email subscribers get
 * readable text and every other protocol the finding JSON; message attributes for filter policies.
 *
 * SNS limits: a subject under 100 characters, ASCII-safe, no line breaks or control characters; the
 * whole message (body, subject, attributes) at most 256 KiB. When a finding is too large the text parts
 * are shortened first, and every cut is listed in `truncated` inside the JSON. The overwritten live
 * document is dropped only as a last resort, and the message then says where it is kept.
 */
import type { MessageAttributeValue, PublishCommandInput } from '@aws-sdk/client-sns';
import type { Finding } from '../core/finding';
import { type EmailTextOptions, renderEmailText } from './email-text';

/** SNS wants the subject "less than 100 characters". */
export const SNS_SUBJECT_MAX_CHARS = 99;
export const SNS_MESSAGE_MAX_BYTES = 262_144;
/** Room kept for the request envelope SNS may count (topic ARN, structure flag). */
const SIZE_MARGIN_BYTES = 1_024;

const FALLBACK_SUBJECT = 'KMS key policy guard finding';

/** ASCII-only, one line, at most 99 characters, starting with a letter, digit or punctuation. */
export function snsSubject(title: string): string {
  // Control characters (line breaks included) become spaces, anything outside printable ASCII a '?'.
  const printable = Array.from(title, (char) => {
    const code = char.codePointAt(0) ?? 0;
    if (code < 0x20 || code === 0x7f) return ' ';
    return code > 0x7e ? '?' : char;
  }).join('');
  const ascii = printable.replace(/ +/g, ' ').trim();
  if (ascii === '') return FALLBACK_SUBJECT;
  if (ascii.length <= SNS_SUBJECT_MAX_CHARS) return ascii;
  return `${ascii.slice(0, SNS_SUBJECT_MAX_CHARS - 3).trimEnd()}...`;
}

/** The finding as sent to machine subscribers, with what had to be cut to fit. */
export type FindingMessage = Finding & {
  truncated?: string[];
  desiredPolicyOmitted?: string;
  livePolicyOmitted?: string;
};

export interface SnsFindingMessage {
  input: PublishCommandInput;
  /** Bytes SNS counts: message, subject and attributes. */
  bytes: number;
  /** What was shortened or left out to fit (empty when nothing). */
  truncated: string[];
}

function attributes(finding: Finding): Record<string, MessageAttributeValue> {
  return {
    severity: { DataType: 'String', StringValue: finding.severity },
    keyId: { DataType: 'String', StringValue: finding.keyId },
    action: { DataType: 'String', StringValue: finding.action },
    kind: { DataType: 'String', StringValue: finding.kind },
  };
}

function attributeBytes(values: Record<string, MessageAttributeValue>): number {
  return Object.entries(values).reduce(
    (sum, [name, value]) =>
      sum +
      Buffer.byteLength(name) +
      Buffer.byteLength(value.DataType ?? '') +
      Buffer.byteLength(value.StringValue ?? ''),
    0,
  );
}

interface Attempt {
  email: EmailTextOptions;
  shrinkJson: (message: FindingMessage) => FindingMessage;
  note?: string;
}

function withoutDiffDetail(message: FindingMessage): FindingMessage {
  if (!message.diff) return message;
  return {
    ...message,
    diff: {
      severity: message.diff.severity,
      statements: message.diff.statements.map((change) => ({
        ...change,
        principals: undefined,
        actions: undefined,
      })),
      access: message.diff.access,
      orphanedPrincipals: message.diff.orphanedPrincipals,
    },
  };
}

function withoutDesired(message: FindingMessage): FindingMessage {
  const shrunk = withoutDiffDetail(message);
  if (shrunk.desiredPolicy === undefined) return shrunk;
  const { desiredPolicy: _omitted, ...rest } = shrunk;
  return {
    ...rest,
    desiredPolicyOmitted: `left out to fit the SNS size limit; the desired document is ${message.policyFile ?? 'in the policy repository'}`,
  };
}

function withoutLive(message: FindingMessage): FindingMessage {
  const shrunk = withoutDesired(message);
  const { livePolicy: _omitted, diff: _diff, ...rest } = shrunk;
  return {
    ...rest,
    livePolicyOmitted:
      shrunk.livePolicy === undefined
        ? undefined
        : "left out to fit the SNS size limit; it is kept verbatim in the remediation ledger (when the guard overwrote it) and in the guard's log line finding_truncated",
  };
}

const ATTEMPTS: Attempt[] = [
  { email: {}, shrinkJson: (message) => message },
  {
    email: { diffMaxChars: 20_000, documentMaxChars: 8_000 },
    shrinkJson: (message) => message,
    note: 'email text: diff and live document shortened',
  },
  {
    email: { diffMaxChars: 4_000, documentMaxChars: 0 },
    shrinkJson: withoutDiffDetail,
    note: 'email text: diff shortened, live document only in the JSON; JSON: per-statement principal/action deltas left out',
  },
  {
    email: { diffMaxChars: 2_000, documentMaxChars: 0 },
    shrinkJson: withoutDesired,
    note: 'JSON: desired document left out (it is in the policy repository)',
  },
  {
    email: { diffMaxChars: 1_000, documentMaxChars: 0 },
    shrinkJson: withoutLive,
    note: 'JSON: live document and diff left out',
  },
];

function render(finding: Finding, topicArn: string, attempt: Attempt, notes: string[]): SnsFindingMessage {
  const json: FindingMessage = attempt.shrinkJson({ ...finding });
  if (notes.length > 0) json.truncated = notes;
  const email = renderEmailText(finding, attempt.email);
  const emailWithNote =
    notes.length > 0 ? `${email}\n[This message was shortened to fit SNS: ${notes.join('; ')}.]\n` : email;
  const message = JSON.stringify({ default: JSON.stringify(json), email: emailWithNote });
  const subject = snsSubject(finding.title);
  const messageAttributes = attributes(finding);
  const bytes = Buffer.byteLength(message) + Buffer.byteLength(subject) + attributeBytes(messageAttributes);
  return {
    input: {
      TopicArn: topicArn,
      Subject: subject,
      Message: message,
      MessageStructure: 'json',
      MessageAttributes: messageAttributes,
    },
    bytes,
    truncated: notes,
  };
}

/** Longest string the last-resort message keeps of any one field. */
const ESSENTIAL_MAX_CHARS = 1_000;

function capped(value: string): string {
  return value.length > ESSENTIAL_MAX_CHARS ? `${value.slice(0, ESSENTIAL_MAX_CHARS)}… [shortened]` : value;
}

/**
 * Last resort when even the shortened message is too large (CloudTrail and policy strings are
 * attacker-controlled: a 40 KB user agent, alias or Sid): the finding's identity and first detail
 * lines only, every string capped. An alert that says less still arrives; an oversized Publish fails.
 */
function essentials(finding: Finding): Finding {
  const reduced: Finding = {
    id: capped(finding.id),
    kind: finding.kind,
    severity: finding.severity,
    title: capped(finding.title),
    keyArn: capped(finding.keyArn),
    keyId: capped(finding.keyId),
    aliases: finding.aliases.slice(0, 10).map(capped),
    region: capped(finding.region),
    account: capped(finding.account),
    mode: finding.mode,
    action: finding.action,
    trigger: finding.trigger,
    details: [
      ...finding.details.slice(0, 5).map(capped),
      "The finding was too large for an SNS message even shortened: the complete finding is in the guard's log line finding_truncated.",
    ],
    time: capped(finding.time),
  };
  if (finding.keyName !== undefined) reduced.keyName = capped(finding.keyName);
  if (finding.policyFile !== undefined) reduced.policyFile = capped(finding.policyFile);
  if (finding.actor) {
    const { arn, sourceIPAddress, eventTime, eventID, eventName, isGuard } = finding.actor;
    reduced.actor = {
      arn: arn === undefined ? undefined : capped(arn),
      sourceIPAddress: sourceIPAddress === undefined ? undefined : capped(sourceIPAddress),
      eventTime: eventTime === undefined ? undefined : capped(eventTime),
      eventID: eventID === undefined ? undefined : capped(eventID),
      eventName: eventName === undefined ? undefined : capped(eventName),
      isGuard,
    };
  }
  return reduced;
}

/** The Publish request for a finding, shortened step by step until it fits the SNS limit. */
export function buildSnsPublishInput(
  finding: Finding,
  topicArn: string,
  maxBytes: number = SNS_MESSAGE_MAX_BYTES,
): SnsFindingMessage {
  const budget = maxBytes - SIZE_MARGIN_BYTES;
  const notes: string[] = [];
  let last: SnsFindingMessage | undefined;
  for (const attempt of ATTEMPTS) {
    if (attempt.note) notes.push(attempt.note);
    last = render(finding, topicArn, attempt, [...notes]);
    if (last.bytes <= budget) return last;
  }
  // Only free-text details can still be this large: keep their first lines.
  const details = [...finding.details];
  while (last && last.bytes > budget && details.length > 1) {
    details.splice(Math.ceil(details.length / 2));
    const note = 'details shortened';
    last = render(
      { ...finding, details: [...details, '[… more detail lines left out]'] },
      topicArn,
      ATTEMPTS[ATTEMPTS.length - 1] as Attempt,
      [...notes, note],
    );
  }
  if (!last) throw new Error('no SNS message rendered');
  if (last.bytes > budget) {
    last = render(essentials(finding), topicArn, ATTEMPTS[ATTEMPTS.length - 1] as Attempt, [
      ...last.truncated,
      'finding reduced to its essentials (identity, first detail lines, every string capped)',
    ]);
  }
  return last;
}

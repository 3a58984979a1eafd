/**
 * Finding → Slack Block Kit message (docs/architecture.md#findings-and-messages). Pure: no I/O.
 *
 * The access view comes first (who gained or lost which KMS actions — what a person on call needs), then
 * the statement changes, then what the guard did. Every value from the finding is escaped with
 * `slack-escape.ts` — we never emit a raw `<` or `>` ourselves either, so any of them in the output would
 * be a bug — and every text object stays inside Slack's limits, cut with a visible "… truncated" marker.
 */

import type { Finding } from '../core/finding';
import type {
  AccessChange,
  NormalizedCondition,
  SetDelta,
  StatementChange,
  ValidationFinding,
} from '../policy/types';
import { consoleUrl } from './console-url';
import {
  ACTION_LABEL,
  codeList,
  emojiFor,
  type HeaderBlock,
  type LineGroup,
  MAX_ARN,
  MAX_FREE_TEXT,
  MAX_SHORT_VALUE,
  MAX_TITLE,
  MAX_USER_AGENT,
  MODE_LABEL,
  type MrkdwnTextObject,
  mrkdwn,
  packGroups,
  SLACK_LIMITS,
  type SlackBlock,
  type SlackMessage,
  severityRank,
} from './slack-blocks';
import { mrkdwnCode, mrkdwnText, plainText, truncateEscaped } from './slack-escape';
import type { CloudWatchAlarmNotification } from './slack-sns-message';

function conditionText(condition: NormalizedCondition): string {
  return `${condition.operator} ${condition.key}=[${condition.values.join(', ')}]`;
}

// ---------------------------------------------------------------------------------------------------------
// Header, facts and actor

function headerBlock(finding: Finding): HeaderBlock {
  const prefix = `${emojiFor(finding.severity)} ${finding.severity.toUpperCase()} · `;
  const title = plainText(finding.title, SLACK_LIMITS.headerText - prefix.length);
  return { type: 'header', text: { type: 'plain_text', text: `${prefix}${title}`, emoji: true } };
}

function keyField(finding: Finding): string {
  const aliases = finding.aliases.length > 0 ? codeList(finding.aliases, MAX_ARN) : '_no alias_';
  const name = finding.keyName ? `manifest entry ${mrkdwnCode(finding.keyName, MAX_SHORT_VALUE)}\n` : '';
  return `*Key*\n${name}${aliases}\n${mrkdwnCode(finding.keyArn, MAX_ARN)}`;
}

function factFields(finding: Finding): MrkdwnTextObject[] {
  const fields = [
    keyField(finding),
    `*Account / region*\n${mrkdwnCode(finding.account, MAX_SHORT_VALUE)} / ${mrkdwnCode(finding.region, MAX_SHORT_VALUE)}`,
    `*Mode*\n${mrkdwnText(MODE_LABEL[finding.mode] ?? finding.mode, MAX_SHORT_VALUE)}`,
    `*Action taken*\n${ACTION_LABEL[finding.action] ?? mrkdwnText(finding.action, MAX_SHORT_VALUE)}`,
    `*Finding*\n${mrkdwnCode(finding.kind, MAX_SHORT_VALUE)} · ${emojiFor(finding.severity)} ${mrkdwnText(finding.severity, MAX_SHORT_VALUE)}`,
    `*Trigger*\n${mrkdwnText(finding.trigger, MAX_SHORT_VALUE)}`,
  ];
  if (finding.policyFile) fields.push(`*Desired document*\n${mrkdwnCode(finding.policyFile, MAX_ARN)}`);
  return fields.map((field) => mrkdwn(truncateEscaped(field, SLACK_LIMITS.sectionField)));
}

function actorText(finding: Finding): string {
  const actor = finding.actor;
  if (!actor)
    return `*Actor*\n_none: found by the ${mrkdwnText(finding.trigger, MAX_SHORT_VALUE)}, not by an event_`;
  const lines = ['*Actor*'];
  const who = actor.arn ? mrkdwnCode(actor.arn, MAX_ARN) : '_unknown_';
  lines.push(`• ARN: ${who}${actor.isGuard ? " _(the guard's own role)_" : ''}`);
  if (actor.type) lines.push(`• Identity type: ${mrkdwnCode(actor.type, MAX_SHORT_VALUE)}`);
  if (actor.invokedBy) lines.push(`• Invoked by: ${mrkdwnCode(actor.invokedBy, MAX_SHORT_VALUE)}`);
  lines.push(
    `• Source IP: ${actor.sourceIPAddress ? mrkdwnCode(actor.sourceIPAddress, MAX_SHORT_VALUE) : '_unknown_'}`,
  );
  lines.push(`• User agent: ${actor.userAgent ? mrkdwnCode(actor.userAgent, MAX_USER_AGENT) : '_unknown_'}`);
  const eventName = actor.eventName ? `${mrkdwnCode(actor.eventName, MAX_SHORT_VALUE)} ` : '';
  lines.push(
    `• Event: ${eventName}at ${actor.eventTime ? mrkdwnCode(actor.eventTime, MAX_SHORT_VALUE) : '_unknown time_'}`,
  );
  lines.push(`• Event ID: ${actor.eventID ? mrkdwnCode(actor.eventID, MAX_SHORT_VALUE) : '_unknown_'}`);
  return truncateEscaped(lines.join('\n'), SLACK_LIMITS.sectionText);
}

// ---------------------------------------------------------------------------------------------------------
// Line groups: access view, statement changes, validation, what the guard did

function accessLines(changes: readonly AccessChange[]): string[] {
  const sorted = [...changes].sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
  const lines: string[] = [];
  for (const change of sorted) {
    const callouts: string[] = [];
    if (change.anyone) callouts.push(':warning: *ANYONE* (principal `*`)');
    if (change.crossAccount) callouts.push(':globe_with_meridians: *cross-account*');
    lines.push(
      `• ${emojiFor(change.severity)} ${mrkdwnCode(change.principal, MAX_ARN)}${callouts.length > 0 ? ` ${callouts.join(' ')}` : ''}`,
    );
    if (change.gained.length > 0) {
      lines.push(`      *gained:* ${codeList(change.gained)}`);
      lines.push(
        change.conditions.length > 0
          ? `      still restricted by: ${codeList(change.conditions, 400)}`
          : '      :warning: no condition restricts the gained access',
      );
    }
    if (change.lost.length > 0) lines.push(`      *lost:* ${codeList(change.lost)}`);
  }
  return lines;
}

function deltaLines(label: string, delta: SetDelta | undefined, maxLength = MAX_SHORT_VALUE): string[] {
  if (!delta) return [];
  const lines: string[] = [];
  if (delta.added.length > 0) lines.push(`      + ${label}: ${codeList(delta.added, maxLength)}`);
  if (delta.removed.length > 0) lines.push(`      − ${label}: ${codeList(delta.removed, maxLength)}`);
  return lines;
}

function statementLines(changes: readonly StatementChange[]): string[] {
  const sorted = [...changes].sort((a, b) => severityRank(a.severity) - severityRank(b.severity));
  const lines: string[] = [];
  for (const change of sorted) {
    const where = [
      change.liveIndex !== undefined ? `live #${change.liveIndex}` : '',
      change.desiredIndex !== undefined ? `desired #${change.desiredIndex}` : '',
    ]
      .filter((part) => part !== '')
      .join(', ');
    const sid = change.sid ? ` Sid ${mrkdwnCode(change.sid, MAX_SHORT_VALUE)}` : '';
    lines.push(
      `• ${emojiFor(change.severity)} *${mrkdwnText(change.kind, 20)}* ${mrkdwnText(change.effect, 40)} statement${sid}${where ? ` (${where})` : ''}: ${mrkdwnText(change.summary, MAX_FREE_TEXT)}`,
    );
    lines.push(...deltaLines('principals', change.principals, MAX_ARN));
    lines.push(...deltaLines('actions', change.actions));
    lines.push(...deltaLines('resources', change.resources, MAX_ARN));
    if (change.conditions) {
      lines.push(
        ...deltaLines(
          'conditions',
          {
            added: change.conditions.added.map(conditionText),
            removed: change.conditions.removed.map(conditionText),
          },
          400,
        ),
      );
    }
    for (const note of change.notes) lines.push(`      _note:_ ${mrkdwnText(note, MAX_FREE_TEXT)}`);
  }
  return lines;
}

function validationLines(findings: readonly ValidationFinding[], document: 'desired' | 'live'): string[] {
  return findings.map(
    (item) =>
      `• ${item.level === 'error' ? ':x:' : ':warning:'} ${document} ${mrkdwnCode(item.code, 40)} at ${mrkdwnCode(item.path, MAX_SHORT_VALUE)}: ${mrkdwnText(item.message, MAX_FREE_TEXT)}`,
  );
}

function lineGroups(finding: Finding): LineGroup[] {
  const groups: LineGroup[] = [];
  const diff = finding.diff;
  if (diff && diff.access.length > 0) {
    groups.push({ heading: '*Who gained or lost access*', lines: accessLines(diff.access) });
  }
  if (diff && diff.statements.length > 0) {
    groups.push({ heading: '*Statement changes*', lines: statementLines(diff.statements) });
  }
  const documentChanges = diff?.documentChanges ?? [];
  if (documentChanges.length > 0) {
    groups.push({
      heading: '*Document changes*',
      lines: documentChanges.map(
        (change) => `• ${emojiFor(change.severity)} ${mrkdwnText(change.summary, MAX_FREE_TEXT)}`,
      ),
    });
  }
  if (diff && diff.orphanedPrincipals.length > 0) {
    groups.push({
      heading: '*Orphaned principals* (IAM role or user deleted)',
      lines: diff.orphanedPrincipals.map(
        (orphan) =>
          `• ${mrkdwnCode(orphan.principal, MAX_ARN)} in ${mrkdwnText(orphan.where, 10)} at ${mrkdwnCode(orphan.path, MAX_SHORT_VALUE)}: ${mrkdwnText(orphan.message, MAX_FREE_TEXT)}`,
      ),
    });
  }
  const validation = [
    ...validationLines(finding.validation?.live ?? [], 'live'),
    ...validationLines(finding.validation?.desired ?? [], 'desired'),
  ];
  if (validation.length > 0) groups.push({ heading: '*Validation*', lines: validation });
  const cosmetic = finding.cosmetic ?? [];
  if (cosmetic.length > 0) {
    groups.push({
      heading: '*Cosmetic differences* (not drift)',
      lines: cosmetic.map((item) => `• ${mrkdwnText(item.message, MAX_FREE_TEXT)}`),
    });
  }
  groups.push({
    heading: '*What the guard did*',
    lines:
      finding.details.length > 0
        ? finding.details.map((line) => `• ${mrkdwnText(line, MAX_FREE_TEXT)}`)
        : [`• ${ACTION_LABEL[finding.action] ?? mrkdwnText(finding.action, MAX_SHORT_VALUE)}`],
  });
  return groups;
}

// ---------------------------------------------------------------------------------------------------------
// Context, fallback text (the console link: ./console-url.ts)

function fallbackText(finding: Finding): string {
  const key = finding.aliases[0] ?? finding.keyId;
  const text = `${emojiFor(finding.severity)} ${finding.severity.toUpperCase()} kms-policy-guard: ${mrkdwnText(finding.title, MAX_TITLE)} — key ${mrkdwnText(key, MAX_ARN)} (${mrkdwnText(finding.account, 40)} ${mrkdwnText(finding.region, 40)}), action taken: ${mrkdwnText(finding.action, 20)}`;
  return truncateEscaped(text, SLACK_LIMITS.fallbackText);
}

/** Renders a finding as one Slack message within Slack's limits. */
export function renderSlackMessage(finding: Finding): SlackMessage {
  const head: SlackBlock[] = [
    headerBlock(finding),
    { type: 'section', fields: factFields(finding) },
    { type: 'section', text: mrkdwn(actorText(finding)) },
    { type: 'divider' },
  ];
  const tail: SlackBlock[] = [
    {
      type: 'context',
      elements: [
        mrkdwn(
          truncateEscaped(
            `kms-policy-guard · finding ${mrkdwnCode(finding.id, 300)} · ${mrkdwnCode(finding.time, 60)}`,
            SLACK_LIMITS.contextElementText,
          ),
        ),
      ],
    },
  ];
  const url = consoleUrl(finding);
  if (url) {
    tail.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Open key in the AWS console', emoji: false },
          url,
          action_id: 'open-key-in-console',
        },
      ],
    });
  }
  const available = SLACK_LIMITS.blocksPerMessage - head.length - tail.length;
  const sections = packGroups(lineGroups(finding), available).flat();
  return { text: fallbackText(finding), blocks: [...head, ...sections, ...tail] };
}

// ---------------------------------------------------------------------------------------------------------
// A message that could not be read as a finding: still posted, never dropped.

export interface UnreadableFindingInput {
  /** Why it could not be read (classified, no secrets). */
  reason: string;
  snsMessageId?: string;
  subject?: string;
  /** SNS message attributes (`severity`, `keyId`, `action`) when present. */
  attributes: Record<string, string>;
  /** The start of the raw message. */
  excerpt: string;
}

export function renderUnreadableFindingMessage(input: UnreadableFindingInput): SlackMessage {
  const severity = input.attributes.severity;
  const fields = [
    `*SNS message ID*\n${input.snsMessageId ? mrkdwnCode(input.snsMessageId, MAX_SHORT_VALUE) : '_unknown_'}`,
    `*Subject*\n${input.subject ? mrkdwnCode(input.subject, MAX_SHORT_VALUE) : '_none_'}`,
    ...Object.entries(input.attributes)
      .slice(0, 8)
      .map(([name, value]) => `*${mrkdwnText(name, 60)}*\n${mrkdwnCode(value, MAX_SHORT_VALUE)}`),
  ];
  const excerpt = mrkdwnText(input.excerpt, 1500, { keepLineBreaks: true });
  const blocks: SlackBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: ':warning: Unreadable kms-policy-guard finding', emoji: true },
    },
    {
      type: 'section',
      text: mrkdwn(
        truncateEscaped(
          `A message on the findings topic could not be read as a finding, so this is all that can be shown. Look for the SNS message ID in the notifier's logs.\n*Why:* ${mrkdwnText(input.reason, MAX_FREE_TEXT)}`,
          SLACK_LIMITS.sectionText,
        ),
      ),
    },
    {
      type: 'section',
      fields: fields.map((field) => mrkdwn(truncateEscaped(field, SLACK_LIMITS.sectionField))),
    },
    { type: 'section', text: mrkdwn(`*Message excerpt*\n\`\`\`${excerpt === '' ? ' ' : excerpt}\`\`\``) },
  ];
  const severityText = severity ? ` (severity ${mrkdwnText(severity, 20)})` : '';
  return {
    text: `:warning: kms-policy-guard: unreadable finding${severityText}: ${mrkdwnText(input.reason, MAX_FREE_TEXT)}`,
    blocks,
  };
}

// ---------------------------------------------------------------------------------------------------------
// The stack's own CloudWatch alarms (drift errors, dead-letter queue depth) on the same topic.

const ALARM_STATE_EMOJI: Record<string, string> = {
  ALARM: ':rotating_light:',
  OK: ':white_check_mark:',
  INSUFFICIENT_DATA: ':grey_question:',
};

export function renderAlarmMessage(alarm: CloudWatchAlarmNotification): SlackMessage {
  const emoji = ALARM_STATE_EMOJI[alarm.NewStateValue] ?? ':grey_question:';
  const prefix = `${emoji} `;
  const title = plainText(
    `${alarm.NewStateValue}: ${alarm.AlarmName}`,
    SLACK_LIMITS.headerText - prefix.length,
  );
  const fields = [
    `*Alarm*\n${mrkdwnCode(alarm.AlarmName, MAX_ARN)}`,
    `*State*\n${alarm.OldStateValue ? `${mrkdwnText(alarm.OldStateValue, 40)} → ` : ''}*${mrkdwnText(alarm.NewStateValue, 40)}*`,
    `*Account / region*\n${mrkdwnCode(alarm.AWSAccountId ?? 'unknown', MAX_SHORT_VALUE)} / ${mrkdwnText(alarm.Region ?? 'unknown', MAX_SHORT_VALUE)}`,
    `*Changed at*\n${mrkdwnCode(alarm.StateChangeTime ?? 'unknown', MAX_SHORT_VALUE)}`,
  ];
  const description = alarm.AlarmDescription
    ? mrkdwnText(alarm.AlarmDescription, MAX_FREE_TEXT)
    : '_no description_';
  const reason = alarm.NewStateReason ? mrkdwnText(alarm.NewStateReason, MAX_FREE_TEXT) : '_none given_';
  return {
    text: truncateEscaped(
      `${emoji} kms-policy-guard alarm ${mrkdwnText(alarm.AlarmName, MAX_ARN)} is ${mrkdwnText(alarm.NewStateValue, 40)}: ${description}`,
      SLACK_LIMITS.fallbackText,
    ),
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: `${prefix}${title}`, emoji: true } },
      {
        type: 'section',
        fields: fields.map((field) => mrkdwn(truncateEscaped(field, SLACK_LIMITS.sectionField))),
      },
      {
        type: 'section',
        text: mrkdwn(
          truncateEscaped(
            `*What it means*\n${description}\n*Why it fired*\n${reason}`,
            SLACK_LIMITS.sectionText,
          ),
        ),
      },
    ],
  };
}

export { consoleUrl } from './console-url';
export { SEVERITY_EMOJI, SLACK_LIMITS, type SlackBlock, type SlackMessage } from './slack-blocks';

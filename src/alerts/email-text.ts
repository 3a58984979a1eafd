/**
 * A finding as plain text for an email (the `email` part of the SNS message). Readable on its own:
 * what happened and how bad, what changed (who gained or lost access first), who changed it, when and
 * from where, what the guard did, and how to put the desired policy back by hand.
 *
 * Every value comes from a policy document, CloudTrail or KMS and is attacker-controlled
 * (docs/architecture.md#the-escaping-guarantee), so the text is rendered from `plainFinding(finding)`:
 * each value is one line, its line breaks, controls, bidi and zero-width characters shown as `\uXXXX`.
 * The line breaks in the text are the template's own, and the template keeps its structure out of
 * reach: line 1 is the title; a section heading is a line of its own, in capitals, under an empty line
 * and over a rule; every other line starts with a label or is indented, and a document's lines are
 * indented inside a block with a header and an end line. So no value can forge a heading or a section.
 */
import type { Finding } from '../core/finding';
import { plainFinding } from '../core/plain-text';
import { renderCompactDiff, renderDiffText, renderFindingsText } from '../policy/render';

export interface EmailTextOptions {
  /** Characters allowed for the diff section; beyond, lines are dropped with a count. Default: no limit. */
  diffMaxChars?: number;
  /** Characters allowed for each policy document shown; beyond, it is cut with a pointer to the JSON. Default: no limit. */
  documentMaxChars?: number;
}

const RULE = '-'.repeat(72);

const ACTION_TEXT: Record<Finding['action'], string> = {
  none: 'nothing (report only)',
  alerted: 'alerted only; the key policy was not changed',
  remediated: 'restored the desired key policy and confirmed it',
  failed: 'did NOT change the key policy (refused or failed; see below)',
};

function heading(title: string): string[] {
  return ['', title, RULE];
}

/** The document cut to `maxChars`, ending with a note line that says so (a line of the block). */
function cutDocument(text: string, maxChars: number | undefined, field: string): string {
  if (maxChars === undefined || text.length <= maxChars) return text;
  const kept = text.slice(0, Math.max(0, maxChars));
  const note = `[… truncated: ${text.length - kept.length} more characters; the complete document is in the "${field}" field of the JSON message]`;
  return kept === '' ? note : `${kept}\n${note}`;
}

function keyLines(finding: Finding): string[] {
  return [
    `Key:        ${finding.keyArn}`,
    ...(finding.keyName
      ? [`Manifest:   ${finding.keyName}${finding.policyFile ? ` (${finding.policyFile})` : ''}`]
      : []),
    ...(finding.aliases.length > 0 ? [`Aliases:    ${finding.aliases.join(', ')}`] : []),
    `Account:    ${finding.account}   Region: ${finding.region}`,
    `Severity:   ${finding.severity.toUpperCase()}   Finding: ${finding.kind}   Mode: ${finding.mode}`,
    `Guard did:  ${ACTION_TEXT[finding.action]}`,
    `Checked:    ${finding.time} (${finding.trigger})`,
  ];
}

function actorLines(finding: Finding): string[] {
  const actor = finding.actor;
  if (!actor) {
    return [
      `No CloudTrail event: found by ${finding.trigger === 'audit' ? 'the scheduled audit' : 'the CLI'}.`,
    ];
  }
  return [
    `Changed by: ${actor.arn ?? '(unknown principal)'}${actor.type ? ` (${actor.type})` : ''}${actor.isGuard ? ' [the guard itself]' : ''}`,
    ...(actor.accountId ? [`Account:    ${actor.accountId}`] : []),
    ...(actor.invokedBy ? [`Invoked by: ${actor.invokedBy}`] : []),
    `When:       ${actor.eventTime ?? '(unknown)'}`,
    `From:       ${actor.sourceIPAddress ?? '(unknown IP)'}`,
    `User agent: ${actor.userAgent ?? '(unknown)'}`,
    `Event:      ${actor.eventName ?? '?'} ${actor.eventID ?? ''}`.trimEnd(),
  ];
}

function validationLines(finding: Finding): string[] {
  if (!finding.validation) return [];
  const { desired, live } = finding.validation;
  if (desired.length === 0 && live.length === 0) return [];
  return [
    ...heading('VALIDATION'),
    'Desired policy:',
    ...renderFindingsText(desired)
      .split('\n')
      .map((line) => `  ${line}`),
    'Live policy:',
    ...renderFindingsText(live)
      .split('\n')
      .map((line) => `  ${line}`),
  ];
}

function restoreLines(finding: Finding): string[] {
  if (!finding.policyFile) return [];
  const keyRef = finding.keyArn;
  return [
    ...heading('RESTORE THE DESIRED POLICY BY HAND'),
    `The desired policy is ${finding.policyFile} in the policy repository; fill in its placeholders and put it back:`,
    '',
    `  sed -e 's/{{Partition}}/${partitionOf(finding.keyArn)}/g' -e 's/{{Region}}/${finding.region}/g' \\`,
    `      -e 's/{{AccountId}}/${finding.account}/g' ${finding.policyFile} > desired-policy.json`,
    `  aws kms put-key-policy --key-id ${keyRef} --policy-name default \\`,
    `      --policy file://desired-policy.json --region ${finding.region}`,
    '',
    'The same document, placeholders filled, is the "desiredPolicy" field of the JSON message.',
  ];
}

function partitionOf(arn: string): string {
  return arn.split(':')[1] ?? 'aws';
}

/** Each line of a document is indented this much, so that none can pass for a heading or a label. */
const BLOCK_INDENT = '    ';

/**
 * The live document inside a delimited block: a header line, the document (already a `textBlock`) with
 * every line indented, an end line. The exact text is the JSON part's `livePolicy`.
 */
function documentLines(finding: Finding, options: EmailTextOptions): string[] {
  if (finding.livePolicy === undefined) return [];
  const title =
    finding.action === 'remediated'
      ? 'THE OVERWRITTEN LIVE POLICY (as it was before the guard restored the desired one)'
      : finding.kind === 'remediation-failed'
        ? 'THE LIVE POLICY THE GUARD FOUND BEFORE WRITING'
        : 'THE LIVE POLICY (as read from KMS)';
  const shown = cutDocument(finding.livePolicy, options.documentMaxChars, 'livePolicy');
  return [
    ...heading(title),
    `[Each line of the document is indented ${BLOCK_INDENT.length} spaces. Control, bidi and zero-width characters are shown as \\uXXXX escapes, which inside a JSON string mean the same character; the exact text is the "livePolicy" field of the JSON message.]`,
    ...shown.split('\n').map((line) => `${BLOCK_INDENT}${line}`),
    '[End of document]',
  ];
}

/** The readable email body of a finding, every value neutralised (`plainFinding`). */
export function renderEmailText(untrusted: Finding, options: EmailTextOptions = {}): string {
  const finding = plainFinding(untrusted);
  const comparison = finding.diff && { diff: finding.diff, cosmetic: finding.cosmetic ?? [] };
  const diffText = comparison
    ? options.diffMaxChars === undefined
      ? renderDiffText(comparison)
      : renderCompactDiff(comparison, options.diffMaxChars)
    : undefined;
  const lines = [
    finding.title,
    RULE,
    ...keyLines(finding),
    ...heading('WHO, WHEN, FROM WHERE'),
    ...actorLines(finding),
    ...(diffText ? [...heading('WHAT CHANGED'), diffText] : []),
    ...heading('WHAT THE GUARD DID'),
    ...finding.details.map((line) => `  ${line}`),
    ...validationLines(finding),
    ...restoreLines(finding),
    ...documentLines(finding, options),
    '',
    RULE,
    `Finding ID: ${finding.id}`,
    'Sent by kms-policy-guard. The JSON version of this finding goes to machine subscribers of the same topic.',
  ];
  return `${lines.join('\n')}\n`;
}

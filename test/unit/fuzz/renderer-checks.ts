/**
 * What each renderer of a finding guarantees against attacker text, as plain functions that return the
 * problems they find (a Jest `expect` costs ~60 µs; thousands of cases x dozens of texts would take
 * minutes). Used by the renderer fuzzers; each check has a test that shows it can fail.
 */
import type { SlackMessage } from '../../../src/alerts/slack';
import { SNS_SUBJECT_MAX_CHARS } from '../../../src/alerts/sns-message';
import { oneLine } from '../../../src/core/plain-text';
import { limitViolations, mrkdwnTexts, plainTexts } from '../alerts/slack-fixtures';
import { tagSequence } from '../cli/html-fixtures';
import { EMAIL_HEADINGS, EMAIL_RULE } from './hostile';

const BARE_AMPERSAND = /&(?!amp;|lt;|gt;)/;
/** Control, format and lone surrogate characters, except the newline and the word joiner Slack's escaping adds. */
const SLACK_FORBIDDEN = /(?![\n\u2060])[\p{Cc}\p{Cf}\p{Cs}]/u;
/** What no text for people may hold raw: the plain-text neutraliser's class but LF and tab. */
const RAW_UNSAFE = /(?![\n\t])[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
/** Our own colour codes, the one escape sequence the CLI writes. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching the SGR sequences is the point
const SGR = /\u001b\[[0-9;]*m/g;

const quote = (text: string): string => JSON.stringify(text.slice(0, 200));

/** Slack: no raw `<` `>`, every `&` an entity, no control or format character, within Slack's limits. */
export function slackMessageProblems(message: SlackMessage): string[] {
  const problems: string[] = [];
  for (const text of [...mrkdwnTexts(message), ...plainTexts(message)]) {
    if (/[<>]/.test(text)) problems.push(`slack: unescaped < or > in ${quote(text)}`);
    if (BARE_AMPERSAND.test(text)) problems.push(`slack: bare & in ${quote(text)}`);
    if (SLACK_FORBIDDEN.test(text)) problems.push(`slack: control character in ${quote(text)}`);
  }
  problems.push(...limitViolations(message).map((violation) => `slack: ${violation}`));
  return problems;
}

/** The SNS subject: 1–99 printable ASCII characters, not starting or ending with a space. */
export function subjectProblems(subject: string): string[] {
  if (subject.length > SNS_SUBJECT_MAX_CHARS) return [`subject has ${subject.length} characters`];
  return /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(subject) ? [] : [`subject ${quote(subject)}`];
}

const isHeading = (line: string): boolean => (EMAIL_HEADINGS as readonly string[]).includes(line);
const BLOCK_START = '[Each line of the document is indented';
const BLOCK_END = '[End of document]';

/**
 * Any e-mail text: nothing of the unsafe class raw (a tab only inside the document block), and each
 * heading at most once, in the template's order, under an empty line and over the rule.
 */
export function emailTextProblems(text: string): string[] {
  const problems: string[] = [];
  const lines = text.split('\n');
  let inBlock = false;
  lines.forEach((line, index) => {
    if (line.startsWith(BLOCK_START)) inBlock = true;
    if (line === BLOCK_END) inBlock = false;
    const raw = RAW_UNSAFE.exec(line) ?? (!inBlock && line.includes('\t') ? ['\t'] : null);
    if (raw) problems.push(`e-mail line ${index + 1}: raw ${oneLine(raw[0] ?? '')} in ${quote(line)}`);
    if (index > 0 && isHeading(line) && (lines[index - 1] !== '' || lines[index + 1] !== EMAIL_RULE))
      problems.push(`e-mail line ${index + 1}: a heading out of place: ${quote(line)}`);
  });
  const headings = lines.slice(1).filter(isHeading);
  const inOrder = EMAIL_HEADINGS.filter((heading) => headings.includes(heading));
  if (headings.join('\n') !== inOrder.join('\n'))
    problems.push(`e-mail headings ${quote(headings.join(' | '))}, not once each in order`);
  return problems;
}

/**
 * The e-mail of a hostile finding against its skeleton's: the same number of lines (every line break
 * is the template's or a document's own), the heading and rule lines at the same places, and line 1
 * the neutralised title.
 */
export function emailLayoutProblems(text: string, skeletonText: string, title: string): string[] {
  const lines = text.split('\n');
  const expected = skeletonText.split('\n');
  const problems = emailTextProblems(text);
  if (lines[0] !== oneLine(title)) problems.push(`e-mail line 1 is not the title: ${quote(lines[0] ?? '')}`);
  if (lines.length !== expected.length)
    return [...problems, `e-mail has ${lines.length} lines, its skeleton ${expected.length}`];
  const structural = (line: string) => (isHeading(line) || line === EMAIL_RULE ? line : '');
  lines.forEach((line, index) => {
    if (index > 0 && structural(line) !== structural(expected[index] ?? ''))
      problems.push(
        `e-mail line ${index + 1} ${quote(line)} is not the skeleton's ${quote(expected[index] ?? '')}`,
      );
  });
  return problems;
}

/**
 * What the CLI writes (after terminalSafe): no raw character of the unsafe class but LF and tab besides
 * our colour codes, and as many lines as the skeleton's output.
 */
export function terminalProblems(name: string, written: string, skeletonWritten: string): string[] {
  const problems: string[] = [];
  const raw = RAW_UNSAFE.exec(written.replace(SGR, ''));
  if (raw) problems.push(`${name}: raw ${oneLine(raw[0])}`);
  const lines = written.split('\n').length;
  const expected = skeletonWritten.split('\n').length;
  if (lines !== expected) problems.push(`${name}: ${lines} lines, its skeleton ${expected}`);
  return problems;
}

/**
 * The HTML report: well-formed tags and entities only, the same tag sequence as the skeleton's page,
 * one script (the report's own), and nothing of the unsafe class raw but LF and tab.
 */
export function htmlProblems(html: string, skeletonHtml: string): string[] {
  const problems: string[] = [];
  try {
    const tags = tagSequence(html);
    if (tags.join(' ') !== tagSequence(skeletonHtml).join(' '))
      problems.push('html: tags differ from the skeleton');
    if (tags.filter((tag) => tag === 'script').length !== 1) problems.push('html: not exactly one <script>');
  } catch (error) {
    problems.push(`html: ${error instanceof Error ? error.message : String(error)}`);
  }
  const raw = RAW_UNSAFE.exec(html);
  if (raw) problems.push(`html: raw ${oneLine(raw[0])}`);
  return problems;
}

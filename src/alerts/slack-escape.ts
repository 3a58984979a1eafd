/**
 * Escaping for Slack text (docs/architecture.md#findings-and-messages). Everything a finding carries from a policy document or a
 * CloudTrail record is attacker-controlled: a principal ARN, a Sid, a condition value or a user agent can
 * be chosen by whoever called PutKeyPolicy. Slack parses `<…>` as mentions and links (`<!channel>`,
 * `<@U123>`, `<https://evil.example|click>`), so every untrusted value goes through this module before it
 * reaches a Block Kit text object.
 *
 * The rules, in order:
 * 1. strip every Unicode control (Cc) and format (Cf) character — zero-width and bidi-override characters
 *    can disguise text, e.g. make `arn:aws:iam::111…` read as another account — and lone surrogates;
 *    tabs and line breaks become spaces (or `\n` where a multi-line text is wanted);
 * 2. neutralise what could still become a mention or a link once Slack looks at the text: a backtick
 *    (would end our code spans) becomes `ˋ`, `@channel`/`@here`/`@everyone` get a word joiner after the `@`,
 *    and in free text `://` gets a word joiner so a URL is shown, not linked;
 * 3. escape `&`, `<`, `>` as `&amp;`, `&lt;`, `&gt;` — Slack's own rule — so the output never contains a
 *    raw `<` or `>` and every `&` starts one of those three entities.
 * Length bounds apply to the escaped text, and a cut never splits an entity or a surrogate pair.
 */

import { unsafeCharacterSource } from '../core/plain-text';

/** Appended (outside any code span) when a value or a section was shortened. */
export const TRUNCATION_MARKER = '… truncated';

const WORD_JOINER = '\u2060';
const BACKTICK_LOOKALIKE = 'ˋ';

/**
 * The plain-text neutraliser's unsafe class (src/core/plain-text.ts): every control (Cc: C0, DEL, C1),
 * format (Cf: zero-width characters, soft hyphen, bidi embeddings, overrides and isolates, word joiner,
 * BOM, Arabic number signs, tags …), lone surrogate (Cs), line and paragraph separator character, except
 * the newline, which the caller has normalised already. With the `u` flag a valid surrogate pair is one
 * code point and does not match; a lone half does. Slack removes them; plain text shows them escaped.
 */
const INVISIBLE_OR_CONTROL = new RegExp(unsafeCharacterSource('\\n'), 'gu');
const LINE_BREAKS = /\r\n|[\r\n\u2028\u2029\u0085]/g;
const BROADCAST_MENTION = /(^|[^\w.+-])@(channel|here|everyone)\b/gi;
const URL_SCHEME_SEPARATOR = /:\/\//g;

export interface CleanOptions {
  /** Keep line breaks (normalised to `\n`); otherwise they become spaces. */
  keepLineBreaks?: boolean;
}

/** Removes control and invisible characters; tabs become spaces, line breaks become `\n` or spaces. */
export function stripControlCharacters(value: string, options: CleanOptions = {}): string {
  const withBreaks = value.replace(LINE_BREAKS, options.keepLineBreaks ? '\n' : ' ').replace(/\t/g, ' ');
  return withBreaks.replace(INVISIBLE_OR_CONTROL, '');
}

/** Slack's three reserved characters. */
export function escapeSlackEntities(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function neutraliseMentions(value: string): string {
  return value.replace(
    BROADCAST_MENTION,
    (_match, before: string, word: string) => `${before}@${WORD_JOINER}${word}`,
  );
}

export interface BoundedText {
  text: string;
  truncated: boolean;
}

/**
 * Escapes `cleaned` (already stripped and neutralised) and keeps the longest prefix whose escaped form fits
 * in `maxLength` UTF-16 units (Slack counts characters; UTF-16 units never undercount them).
 */
function escapeWithin(cleaned: string, maxLength: number): BoundedText {
  let text = '';
  for (const codePoint of cleaned) {
    const piece = escapeSlackEntities(codePoint);
    if (text.length + piece.length > maxLength) return { text, truncated: true };
    text += piece;
  }
  return { text, truncated: false };
}

/** Escaped text within `maxLength`; when it had to be cut, the marker is appended inside the same bound. */
function escapeBounded(cleaned: string, maxLength: number, inputCut: boolean): string {
  const whole = escapeWithin(cleaned, maxLength);
  if (!whole.truncated && !inputCut) return whole.text;
  const prefix = escapeWithin(cleaned, Math.max(0, maxLength - TRUNCATION_MARKER.length - 1));
  return `${prefix.text} ${TRUNCATION_MARKER}`;
}

/**
 * Input beyond this many UTF-16 units can never be shown (every visible character becomes at least one output
 * character), so it is dropped before the per-character work — a 40 KB hostile value costs microseconds, not
 * milliseconds. The slack of 4× covers stripped invisible characters; what it drops still gets the marker.
 */
function boundInput(value: string, maxLength: number): { value: string; cut: boolean } {
  const limit = maxLength * 4 + 64;
  return value.length > limit ? { value: value.slice(0, limit), cut: true } : { value, cut: false };
}

/** Untrusted free text for a mrkdwn field: cleaned, neutralised, escaped, at most `maxLength` long. */
export function mrkdwnText(value: string, maxLength: number, options: CleanOptions = {}): string {
  const input = boundInput(value, maxLength);
  const cleaned = neutraliseMentions(stripControlCharacters(input.value, options))
    .replace(/`/g, BACKTICK_LOOKALIKE)
    .replace(URL_SCHEME_SEPARATOR, `:${WORD_JOINER}//`);
  return escapeBounded(cleaned, maxLength, input.cut);
}

/**
 * Untrusted value shown as an inline code span (ARNs, Sids, condition values, user agents): Slack renders
 * no formatting, mention or link inside it. Empty values show as `(empty)`.
 */
export function mrkdwnCode(value: string, maxLength: number): string {
  const input = boundInput(value, maxLength);
  const cleaned = neutraliseMentions(stripControlCharacters(input.value))
    .replace(/`/g, BACKTICK_LOOKALIKE)
    .trim();
  if (cleaned === '') return input.cut ? `_(empty)_ ${TRUNCATION_MARKER}` : '_(empty)_';
  const inner = escapeWithin(cleaned, Math.max(1, maxLength - 2 - TRUNCATION_MARKER.length - 1));
  return inner.truncated || input.cut ? `\`${inner.text}\` ${TRUNCATION_MARKER}` : `\`${inner.text}\``;
}

/** Untrusted text for a plain_text object (header, button): no mrkdwn, but Slack still decodes entities. */
export function plainText(value: string, maxLength: number): string {
  const input = boundInput(value, maxLength);
  const cleaned = neutraliseMentions(stripControlCharacters(input.value));
  return escapeBounded(cleaned, maxLength, input.cut);
}

/** Cuts escaped text without ending inside an entity (`&am`) or between the halves of a surrogate pair. */
function cutEscaped(text: string, length: number): string {
  return text
    .slice(0, Math.max(0, length))
    .replace(/[\uD800-\uDBFF]$/, '')
    .replace(/&[a-z]{0,3}$/, '');
}

/** Shortens mrkdwn we assembled from escaped pieces; a code span cut open is closed again. */
export function truncateEscaped(text: string, maxLength: number): string {
  if (text.length <= maxLength) return text;
  // Room for the marker, its space and a closing backtick.
  let cut = cutEscaped(text, maxLength - TRUNCATION_MARKER.length - 2);
  if ((cut.match(/`/g) ?? []).length % 2 === 1) cut += '`';
  return `${cut} ${TRUNCATION_MARKER}`;
}

/**
 * HTML escaping for the audit report. Every value the report shows passes through escapeHtml: key
 * policies, aliases, tags, CloudTrail actors and manifest names are all text that anyone who can call
 * PutKeyPolicy, CreateAlias or TagResource controls.
 *
 * Besides the five characters that can end a text node or a quoted attribute value, two kinds of
 * characters are shown as visible `\uXXXX` escapes instead of being written raw:
 * - control characters (C0 except tab and newline, DEL, C1): invalid in HTML and invisible;
 * - bidirectional formatting characters (U+202E RIGHT-TO-LEFT OVERRIDE and friends): they reorder how
 *   the text around them is displayed, so `arn:…:root\u202Eetavirp` could read as something else.
 */

const HTML_SPECIAL: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

const ESCAPED =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  /[&<>"']|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** `text` as HTML text or as the content of a double- or single-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(
    ESCAPED,
    (match) => HTML_SPECIAL[match] ?? `\\u${match.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
  );
}

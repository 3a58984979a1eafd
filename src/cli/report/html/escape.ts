/**
 * HTML escaping for the audit report. Every value the report shows passes through escapeHtml: key
 * policies, aliases, tags, CloudTrail actors and manifest names are all text that anyone who can call
 * PutKeyPolicy, CreateAlias or TagResource controls.
 *
 * Besides the five characters that can end a text node or a quoted attribute value, every character of
 * the plain-text neutraliser's unsafe class (src/core/plain-text.ts) but tab and newline is shown as a
 * visible `\uXXXX` escape instead of being written raw:
 * - control characters (C0 except tab and newline, DEL, C1): invalid in HTML and invisible;
 * - bidirectional formatting characters (U+202E RIGHT-TO-LEFT OVERRIDE and friends): they reorder how
 *   the text around them is displayed, so `arn:…:root\u202Eetavirp` could read as something else;
 * - zero-width and other format characters (U+200B, U+FEFF, …), lone surrogates, U+2028 and U+2029.
 */

import { unicodeEscape, unsafeCharacterSource } from '../../../core/plain-text';

const HTML_SPECIAL: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

const ESCAPED = new RegExp(`[&<>"']|${unsafeCharacterSource('\\t\\n')}`, 'gu');

/** `text` as HTML text or as the content of a double- or single-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(ESCAPED, (match) => HTML_SPECIAL[match] ?? unicodeEscape(match));
}

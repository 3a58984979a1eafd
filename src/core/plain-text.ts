/**
 * Untrusted values made safe for text people read (docs/architecture.md#the-escaping-guarantee).
 *
 * Everything a finding carries from a policy document, CloudTrail or KMS is attacker-controlled: a Sid,
 * a principal, a condition value, an alias, a tag, a session name, a user agent. In plain text (the
 * e-mail, the CLI) such a value must not be able to start a line of its own (and so forge a heading or
 * a section), hide or reorder text (bidi embeddings, overrides and isolates U+202A–U+202E and
 * U+2066–U+2069, the marks U+200E/U+200F/U+061C, zero-width characters U+200B–U+200D, U+2060, U+FEFF)
 * or drive a terminal (C0 and C1 controls, ESC sequences).
 *
 * Every such character is shown as a visible `\uXXXX` escape, one per UTF-16 unit, in upper-case hex:
 * `\n` is `\u000A`, U+202E is `\u202E`. That is how a JSON or JavaScript string literal spells the same
 * character, so a valid JSON document with its characters escaped is still the same JSON. Slack
 * (src/alerts/slack-escape.ts) and the HTML report (src/cli/report/html/escape.ts) match the same class.
 */

import type { Finding } from './finding';

/**
 * The characters no untrusted value may carry raw into text for people, as a regular-expression class
 * body (`u` flag): controls (Cc: C0, DEL, C1, line breaks and tabs included), format characters (Cf:
 * zero-width characters, bidi embeddings, overrides, isolates and marks, word joiner, BOM, soft hyphen,
 * tag characters), lone surrogates (Cs), and the line and paragraph separators (Zl, Zp).
 */
const UNSAFE_CLASS = '\\p{Cc}\\p{Cf}\\p{Cs}\\p{Zl}\\p{Zp}';

/**
 * A regular-expression source matching one unsafe character (a whole code point, with the `u` flag),
 * except the characters of `allowed` (a class body such as `\\n` or `\\t\\n`).
 */
export function unsafeCharacterSource(allowed = ''): string {
  return allowed === '' ? `[${UNSAFE_CLASS}]` : `(?![${allowed}])[${UNSAFE_CLASS}]`;
}

/** `\uXXXX` for each UTF-16 unit of `character`, upper-case hex: how JSON and JavaScript spell it. */
export function unicodeEscape(character: string): string {
  let escaped = '';
  for (let index = 0; index < character.length; index++) {
    escaped += `\\u${character.charCodeAt(index).toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return escaped;
}

const UNSAFE = new RegExp(unsafeCharacterSource(), 'gu');
/** Escapes already spelt (a few hundred characters at most are ever unsafe in practice). */
const ESCAPES = new Map<string, string>();
const ESCAPES_MAX = 4_096;

function cachedEscape(character: string): string {
  let escaped = ESCAPES.get(character);
  if (escaped === undefined) {
    escaped = unicodeEscape(character);
    if (ESCAPES.size < ESCAPES_MAX) ESCAPES.set(character, escaped);
  }
  return escaped;
}
/** In a block: a CR right before an LF (CRLF is a line break), or an unsafe character but LF and tab. */
const UNSAFE_IN_BLOCK = new RegExp(`(\\r(?=\\n))|${unsafeCharacterSource('\\n\\t')}`, 'gu');

/**
 * An untrusted value as one line of plain text: every unsafe character, line breaks and tabs included,
 * becomes its `\uXXXX` escape. Idempotent, and the result holds no character of the unsafe class.
 */
export function oneLine(value: string): string {
  return value.replace(UNSAFE, cachedEscape);
}

/**
 * An untrusted multi-line text (a policy document) for a delimited block: LF and CRLF stay line breaks
 * (as LF) and tabs stay; every other unsafe character, a lone CR, U+2028 and U+2029 included, becomes
 * its `\uXXXX` escape. Idempotent.
 */
export function textBlock(value: string): string {
  return value.replace(UNSAFE_IN_BLOCK, (match, crBeforeLf?: string) =>
    crBeforeLf === undefined ? cachedEscape(match) : '',
  );
}

/** Every string in `value` (object keys too) passed through `map`; everything else as it is. */
function mapStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => mapStrings(item, map));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([name, item]) => [map(name), mapStrings(item, map)]),
    );
  }
  return value;
}

/**
 * The finding as plain-text renderers show it: every string one line (`oneLine`), the live and desired
 * documents as blocks (`textBlock`). Only the spelling of strings changes, never the shape, so the
 * result is a Finding; machine consumers (the JSON part, `--json`) get the finding itself.
 */
export function plainFinding(finding: Finding): Finding {
  const { livePolicy, desiredPolicy, ...rest } = finding;
  // mapStrings keeps every value's type and every key of the finding's own (ASCII) field names.
  const shown = mapStrings(rest, oneLine) as Omit<Finding, 'livePolicy' | 'desiredPolicy'>;
  return {
    ...shown,
    ...(livePolicy === undefined ? {} : { livePolicy: textBlock(livePolicy) }),
    ...(desiredPolicy === undefined ? {} : { desiredPolicy: textBlock(desiredPolicy) }),
  };
}

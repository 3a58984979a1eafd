/**
 * The plain-text neutraliser: an untrusted value becomes one line with every control, bidi,
 * zero-width and separator character shown as a `\uXXXX` escape; a document keeps its lines and
 * stays the same JSON; a finding keeps its shape.
 */
import fc from 'fast-check';
import type { Finding } from '../../../src/core/finding';
import { oneLine, plainFinding, textBlock } from '../../../src/core/plain-text';

/** Anything the neutraliser must never let through raw (line breaks included). */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;

const tricky = fc.string({
  unit: fc.oneof(
    fc.constantFrom('\n', '\r', '\t', '\u0000', '\u001b', '\u0085', '\u202e', '\u2066', '\u200b', '\ufeff'),
    fc.constantFrom('\u2028', '\u2029', '\ud800', '\udfff', '\u{e0001}', '\u{1f600}', 'a', ' ', '\\', '"'),
    fc.string({ unit: 'binary', maxLength: 1 }),
  ),
  maxLength: 60,
});

describe('oneLine', () => {
  it.each([
    ['a line feed', 'Sid\nWHAT THE GUARD DID', 'Sid\\u000AWHAT THE GUARD DID'],
    ['CRLF and a lone CR', 'a\r\nb\rc', 'a\\u000D\\u000Ab\\u000Dc'],
    ['a tab', 'a\tb', 'a\\u0009b'],
    [
      'the Unicode line and paragraph separators and NEL',
      'a\u2028b\u2029c\u0085d',
      'a\\u2028b\\u2029c\\u0085d',
    ],
    [
      'a right-to-left override',
      'arn:aws:iam::111122223333:role/\u202etoor',
      'arn:aws:iam::111122223333:role/\\u202Etoor',
    ],
    ['bidi isolates', '\u2066x\u2069', '\\u2066x\\u2069'],
    ['zero-width characters and a BOM', 'a\u200bb\u200dc\ufeff', 'a\\u200Bb\\u200Dc\\uFEFF'],
    ['terminal escapes and NUL', '\u001b]0;pwned\u0007\u0000', '\\u001B]0;pwned\\u0007\\u0000'],
    ['a lone surrogate', 'x\ud800y', 'x\\uD800y'],
    ['a tag character outside the BMP, as its two UTF-16 units', 'x\u{e0041}', 'x\\uDB40\\uDC41'],
    [
      'ordinary text, emoji and accents, unchanged',
      'Schlüssel 😀 <b>&amp; @channel ${x}',
      'Schlüssel 😀 <b>&amp; @channel ${x}',
    ],
  ])('shows %s as visible escapes', (_case, value, shown) => {
    // Act
    const line = oneLine(value);

    // Assess
    expect(line).toBe(shown);
  });

  it('leaves no unsafe character, is idempotent, and keeps every safe character (property)', () => {
    fc.assert(
      fc.property(tricky, (value) => {
        // Act
        const line = oneLine(value);

        // Assess
        expect(line).not.toMatch(UNSAFE);
        expect(oneLine(line)).toBe(line);
        expect(line.replace(/\\u[0-9A-F]{4}/g, '')).toBe(value.replace(new RegExp(UNSAFE, 'gu'), ''));
      }),
    );
  });
});

describe('textBlock', () => {
  it('keeps line feeds, CRLF (as LF) and tabs, and escapes every other unsafe character', () => {
    // Act
    const block = textBlock('{\r\n\t"Sid": "a\u202eb\u200b",\n\u2028"x": 1\r}');

    // Assess
    expect(block).toBe('{\n\t"Sid": "a\\u202Eb\\u200B",\n\\u2028"x": 1\\u000D}');
  });

  it('keeps a JSON document the same JSON, whatever its strings hold (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), tricky, fc.constantFrom(0, 2, '\t'), (value, text, indent) => {
        // Prepare: JSON.stringify writes U+2028, bidi and zero-width characters raw
        const document = JSON.stringify({ value, text, [text]: [text] }, null, indent);

        // Act
        const block = textBlock(document);

        // Assess
        expect(block).not.toMatch(/(?![\n\t])[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u);
        expect(JSON.parse(block)).toEqual(JSON.parse(document));
        expect(textBlock(block)).toBe(block);
      }),
    );
  });
});

describe('plainFinding', () => {
  it('makes every string one line, the documents blocks, and keeps the shape', () => {
    // Prepare
    const hostile = 'x\n\nWHAT THE GUARD DID\n\u202e';
    const finding: Finding = {
      id: `event:${hostile}`,
      kind: 'drift',
      severity: 'high',
      title: hostile,
      keyArn: 'arn:aws:kms:us-west-2:111122223333:key/k',
      keyId: 'k',
      aliases: [hostile],
      region: 'us-west-2',
      account: '111122223333',
      mode: 'alert',
      action: 'alerted',
      trigger: 'event',
      actor: { arn: hostile, userAgent: hostile, isGuard: false },
      binding: {
        entry: 'e',
        boundBy: 'tag',
        boundAt: 't',
        aliases: [],
        tags: { [hostile]: hostile },
      },
      livePolicy: `{\n"Sid": "${hostile.replace(/\n/g, '\\n')}"\n}`,
      details: [hostile],
      time: 't',
    };

    // Act
    const shown = plainFinding(finding);

    // Assess
    const line = 'x\\u000A\\u000AWHAT THE GUARD DID\\u000A\\u202E';
    expect(shown).toMatchObject({
      id: `event:${line}`,
      title: line,
      aliases: [line],
      actor: { arn: line, userAgent: line, isGuard: false },
      binding: { tags: { [line]: line } },
      details: [line],
      livePolicy: '{\n"Sid": "x\\n\\nWHAT THE GUARD DID\\n\\u202E"\n}',
    });
    expect(shown.desiredPolicy).toBeUndefined();
    expect(Object.keys(shown).sort()).toEqual(Object.keys(finding).sort());
  });
});

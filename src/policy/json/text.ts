/**
 * Facts about JSON text that every reader of a policy needs: UTF-8 size (KMS counts bytes), the
 * line and column of an offset, and how messages name a character.
 */

/** Deeper nesting is not a key policy; the limit keeps recursion far from the stack size. */
export const MAX_JSON_NESTING = 512;

const NON_ASCII = /[\u0080-\uffff]/;

/** Bytes the text takes in UTF-8 (KMS's 32,768 limit counts bytes), without allocating a buffer. */
export function utf8ByteLength(text: string): number {
  // Key policies are nearly always ASCII: one native regex scan answers for them.
  if (!NON_ASCII.test(text)) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** 1-based line and column of a 0-based character offset. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, text.length);
  for (let i = 0; i < end; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/** `U+00E9`: how messages name a character. */
export function formatCodePoint(codePoint: number): string {
  return `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
}

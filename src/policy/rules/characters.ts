/**
 * Which characters a key policy may hold (KMS004, KMS005): KMS accepts tab, LF, CR, printable ASCII
 * and Latin-1 Supplement. U+007F-U+009F (DEL, C1 controls) sit inside the API's pattern
 * `[\u0009\u000A\u000D\u0020-\u00FF]+`, so KMS accepts them, yet they are not printable.
 */
import type { JsonPath } from '../types';
import type { PolicySource, RuleSink } from './rule';

export type CharacterClass = 'allowed' | 'invisible' | 'forbidden';

/** Characters of one class beyond this are summarised, so a binary file gives a readable report. */
const MAX_CHARACTER_FINDINGS = 20;
const NOT_PRINTABLE_LATIN_1 = /[^\t\n\r\u0020-\u007e\u00a0-\u00ff]/;

export function classifyCharacter(codePoint: number): CharacterClass {
  if (codePoint === 0x09 || codePoint === 0x0a || codePoint === 0x0d) return 'allowed';
  if (codePoint >= 0x20 && codePoint <= 0x7e) return 'allowed';
  if (codePoint >= 0xa0 && codePoint <= 0xff) return 'allowed';
  if (codePoint >= 0x7f && codePoint <= 0x9f) return 'invisible';
  return 'forbidden';
}

/** ` (’)` after the code point of a character one can see; nothing for controls and lone surrogates. */
export function visibleForm(codePoint: number): string {
  const printable = codePoint > 0x9f && !(codePoint >= 0xd800 && codePoint <= 0xdfff);
  return printable ? ` (${String.fromCodePoint(codePoint)})` : '';
}

interface CharacterAt {
  codePoint: number;
  path: JsonPath;
  /** `at line 3 column 13 ` in text, `in a name ` / `in a string ` in a value. */
  where: string;
}

/** The characters of the class in JSON text, each with the path of the string it is in (else `$`). */
function textCharacters(
  source: Extract<PolicySource, { kind: 'text' }>,
  kind: CharacterClass,
): CharacterAt[] {
  const { text } = source;
  if (!NOT_PRINTABLE_LATIN_1.test(text)) return [];
  const spans = source.read.strings;
  const found: CharacterAt[] = [];
  let spanIndex = 0;
  let line = 1;
  let lineStart = 0;
  for (let offset = 0; offset < text.length; ) {
    const codePoint = text.codePointAt(offset) ?? 0;
    if (codePoint === 0x0a) {
      line++;
      lineStart = offset + 1;
    } else if (classifyCharacter(codePoint) === kind) {
      while ((spans[spanIndex]?.end ?? Number.POSITIVE_INFINITY) <= offset) spanIndex++;
      const span = spans[spanIndex];
      found.push({
        codePoint,
        path: span && span.start <= offset ? span.path : '$',
        where: `at line ${line} column ${offset - lineStart + 1} `,
      });
    }
    offset += codePoint > 0xffff ? 2 : 1;
  }
  return found;
}

function valueCharacters(
  source: Extract<PolicySource, { kind: 'value' }>,
  kind: CharacterClass,
): CharacterAt[] {
  const found: CharacterAt[] = [];
  for (const string of source.inspection.strings) {
    if (!NOT_PRINTABLE_LATIN_1.test(string.text)) continue;
    for (const char of string.text) {
      const codePoint = char.codePointAt(0) ?? 0;
      if (classifyCharacter(codePoint) !== kind) continue;
      found.push({ codePoint, path: string.path, where: string.isName ? 'in a name ' : 'in a string ' });
    }
  }
  return found;
}

/** Reports the characters of one class, the first MAX_CHARACTER_FINDINGS one by one, the rest counted. */
export function reportCharacters(
  source: PolicySource,
  kind: Exclude<CharacterClass, 'allowed'>,
  sink: RuleSink,
  message: (codePoint: number, where: string) => string,
): void {
  const found = source.kind === 'text' ? textCharacters(source, kind) : valueCharacters(source, kind);
  for (const character of found.slice(0, MAX_CHARACTER_FINDINGS)) {
    sink.add(character.path, message(character.codePoint, character.where));
  }
  const first = found[0];
  if (first && found.length > MAX_CHARACTER_FINDINGS) {
    sink.add(first.path, `... and ${found.length - MAX_CHARACTER_FINDINGS} more such characters`);
  }
}

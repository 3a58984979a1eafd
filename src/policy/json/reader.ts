/**
 * The one JSON reader of the policy engine (docs/architecture.md#reading-a-key-policy): text -> the
 * value, where every string token (names and values) lies and at which JSON path, every duplicate
 * name, and, for text that is not JSON, where it first goes wrong and why.
 *
 * parse.ts reads with JSON.parse first (it is several times faster) and asks this reader only why a
 * text is not JSON; validate.ts reads with it always, because it reports positions JSON.parse does
 * not give (characters, duplicate names). Either way every syntax message comes from here.
 */
import type { JsonPath } from '../types';
import { childPath } from './path';
import { formatCodePoint, lineAndColumn, MAX_JSON_NESTING } from './text';

/** Where a text stops being JSON. `message` is `<reason> at line <l> column <c>`. */
export interface JsonSyntaxError {
  message: string;
  /** The reason alone, e.g. `expected ':' after a property name, found '}'`. */
  reason: string;
  offset: number;
  line: number;
  column: number;
}

/** A string token of the text (a name or a value), by offsets, with the path of what it names. */
export interface JsonStringSpan {
  start: number;
  end: number;
  path: JsonPath;
}

/** A name that appears more than once in one object; `path` is the member's path. */
export interface JsonDuplicateName {
  path: JsonPath;
  key: string;
  offset: number;
}

export interface JsonTextRead {
  /** The value; undefined when the text is not JSON. */
  value?: unknown;
  error?: JsonSyntaxError;
  /** Every string token in text order, up to the error if there is one. */
  strings: JsonStringSpan[];
  duplicates: JsonDuplicateName[];
}

class JsonTextFault extends Error {
  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(reason);
    this.name = 'JsonTextFault';
  }
}

// A bare word (`True`, `undefined`, `NaN`) is named whole; longer ones are cut.
const WORD = /[A-Za-z_][A-Za-z0-9_]{0,19}/y;

/** How a message names what is at `offset`: `'}'`, `'True'`, `U+0001`, `U+2019`, or `end of input`. */
function describeAt(text: string, offset: number): string {
  const codePoint = text.codePointAt(offset);
  if (codePoint === undefined) return 'end of input';
  if (codePoint === 0x27) return `"'"`;
  if (codePoint < 0x20 || codePoint > 0x7e) return formatCodePoint(codePoint);
  WORD.lastIndex = offset;
  return `'${WORD.exec(text)?.[0] ?? String.fromCharCode(codePoint)}'`;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

// Sticky: matches at `lastIndex` without copying the rest of the text, whatever the number's length.
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;

class JsonTextReader {
  private pos = 0;
  readonly strings: JsonStringSpan[] = [];
  readonly duplicates: JsonDuplicateName[] = [];

  constructor(private readonly text: string) {}

  document(): unknown {
    // A UTF-8 byte order mark is not JSON; KMS rejects it too (U+FEFF is outside U+00FF).
    const value = this.value('$', 0);
    this.skipWhitespace();
    if (this.pos < this.text.length) {
      this.fail(`unexpected ${this.found()} after the end of the JSON value`);
    }
    return value;
  }

  private fail(reason: string, at = this.pos): never {
    throw new JsonTextFault(reason, at);
  }

  private found(): string {
    return describeAt(this.text, this.pos);
  }

  private skipWhitespace(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.pos++;
      else return;
    }
  }

  private value(path: JsonPath, depth: number): unknown {
    if (depth > MAX_JSON_NESTING) this.fail(`nesting deeper than ${MAX_JSON_NESTING} levels`);
    this.skipWhitespace();
    const c = this.text[this.pos];
    if (c === '{') return this.object(path, depth);
    if (c === '[') return this.array(path, depth);
    if (c === '"') return this.string(path);
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.number();
    if (c === 't') return this.literal('true', true);
    if (c === 'f') return this.literal('false', false);
    if (c === 'n') return this.literal('null', null);
    return this.fail(`expected a value, found ${this.found()}`);
  }

  private literal(word: string, value: unknown): unknown {
    if (!this.text.startsWith(word, this.pos)) this.fail(`expected a value, found ${this.found()}`);
    this.pos += word.length;
    return value;
  }

  private number(): number {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (!match) {
      this.pos++; // a '-' that no digit follows
      return this.fail(`expected a digit after '-', found ${this.found()}`);
    }
    this.pos += match[0].length;
    return Number(match[0]);
  }

  private string(path: JsonPath): string {
    const { text } = this;
    const start = this.pos;
    this.pos++; // opening quote
    let result = '';
    let runStart = this.pos;
    for (;;) {
      if (this.pos >= text.length) this.fail('unterminated string', start);
      const c = text.charCodeAt(this.pos);
      if (c === 0x22) {
        result += text.slice(runStart, this.pos);
        this.pos++;
        this.strings.push({ start, end: this.pos, path });
        return result;
      }
      if (c < 0x20) this.fail(`unescaped control character ${formatCodePoint(c)} in a string`);
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      result += text.slice(runStart, this.pos);
      const escaped = text[this.pos + 1] ?? '';
      const simple = SIMPLE_ESCAPES[escaped];
      if (simple !== undefined) {
        result += simple;
        this.pos += 2;
      } else if (escaped === 'u') {
        const hex = text.slice(this.pos + 2, this.pos + 6);
        if (!HEX4.test(hex)) this.fail('invalid \\u escape in a string (\\u takes four hex digits)');
        result += String.fromCharCode(Number.parseInt(hex, 16));
        this.pos += 6;
      } else {
        this.fail('invalid escape sequence in a string');
      }
      runStart = this.pos;
    }
  }

  /** Steps over an opening bracket; true when the closing one follows at once (also stepped over). */
  private openedEmpty(close: '}' | ']'): boolean {
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] !== close) return false;
    this.pos++;
    return true;
  }

  /** After a member or an element: true at ',' (another follows), false at the closing bracket. */
  private more(close: '}' | ']', after: string): boolean {
    this.skipWhitespace();
    const next = this.text[this.pos];
    if (next !== ',' && next !== close)
      this.fail(`expected ',' or '${close}' after ${after}, found ${this.found()}`);
    this.pos++;
    return next === ',';
  }

  private object(path: JsonPath, depth: number): Record<string, unknown> {
    const result: Record<string, unknown> = {};
    const seen = new Set<string>();
    if (this.openedEmpty('}')) return result;
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') {
        this.fail(`expected a property name in double quotes, found ${this.found()}`);
      }
      const keyOffset = this.pos;
      const keyIndex = this.strings.length;
      const key = this.string(path);
      const memberPath = childPath(path, key);
      const keySpan = this.strings[keyIndex];
      if (keySpan) keySpan.path = memberPath;
      if (seen.has(key)) this.duplicates.push({ path: memberPath, key, offset: keyOffset });
      seen.add(key);
      this.skipWhitespace();
      if (this.text[this.pos] !== ':') this.fail(`expected ':' after a property name, found ${this.found()}`);
      this.pos++;
      const value = this.value(memberPath, depth + 1);
      // defineProperty, so a name __proto__ is data, as in JSON.parse
      Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
      if (!this.more('}', 'a property value')) return result;
    }
  }

  private array(path: JsonPath, depth: number): unknown[] {
    const result: unknown[] = [];
    if (this.openedEmpty(']')) return result;
    for (;;) {
      result.push(this.value(childPath(path, result.length), depth + 1));
      if (!this.more(']', 'an array element')) return result;
    }
  }
}

/** Reads JSON text. Never throws: text that is not JSON comes back with `error`. */
export function readJsonText(text: string): JsonTextRead {
  const reader = new JsonTextReader(text);
  try {
    const value = reader.document();
    return { value, strings: reader.strings, duplicates: reader.duplicates };
  } catch (error) {
    if (!(error instanceof JsonTextFault)) throw error;
    const { line, column } = lineAndColumn(text, error.offset);
    return {
      error: {
        message: `${error.reason} at line ${line} column ${column}`,
        reason: error.reason,
        offset: error.offset,
        line,
        column,
      },
      strings: reader.strings,
      duplicates: reader.duplicates,
    };
  }
}

/**
 * Why the text is not JSON, with line and column (`expected a value, found '}' at line 4 column 5`),
 * or undefined when it is JSON. The CLI uses it for `file: not JSON: ...` messages.
 */
export function describeJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  return readJsonText(text).error;
}

/**
 * The JSON-text layer under parse.ts and validate.ts: UTF-8 size, line and column of an offset,
 * JSON paths, and the two scanners that read JSON text character by character.
 *
 * Two scanners, on purpose: parseJsonText (validate.ts) builds the value with the path of every
 * string and every duplicate key, and words its errors `Unexpected token } at line 3 column 5`;
 * locateSyntaxFault (parse.ts) runs only after JSON.parse has failed and words its faults for
 * people fixing a file (`expected ':' after a property name, found '}'`). Their messages and
 * offsets differ (an unterminated string is placed at its opening quote by one, at the end of the
 * text by the other), and both are user-visible, so one cannot stand in for the other.
 */
import type { JsonPath } from './types';

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

/** `$.Statement[0].Condition.StringEquals.kms:ViaService`; names with `.`, `[`, `'` or spaces go in brackets. */
export function childPath(parent: JsonPath, key: string | number): JsonPath {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (key !== '' && !/[.[\]'\s]/.test(key)) return `${parent}.${key}`;
  return `${parent}['${key.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
}

// ---------------------------------------------------------------------------------------------
// A position-aware parser (JSON.parse gives neither paths, duplicate keys nor, on Node 20, a
// position in every error message).

export interface StringSpan {
  start: number;
  end: number;
  path: JsonPath;
}

export interface JsonSyntaxError {
  message: string;
  offset: number;
  line: number;
  column: number;
}

export interface TextParseResult {
  value?: unknown;
  error?: JsonSyntaxError;
  /** Every string token (keys and values) in text order, with the path it belongs to. */
  strings: StringSpan[];
  duplicates: { path: JsonPath; key: string }[];
}

class JsonTextError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'JsonTextError';
  }
}

function describeToken(text: string, offset: number): string {
  const codePoint = text.codePointAt(offset);
  if (codePoint === undefined) return 'end of input';
  if (codePoint < 0x20 || (codePoint >= 0x7f && codePoint <= 0x9f))
    return `character ${formatCodePoint(codePoint)}`;
  return `token ${String.fromCodePoint(codePoint)}`;
}

/** Parses JSON text, recording string spans and duplicate keys; a syntax error is returned, not thrown. */
export function parseJsonText(text: string): TextParseResult {
  const strings: StringSpan[] = [];
  const duplicates: { path: JsonPath; key: string }[] = [];
  let pos = 0;

  const fail = (message: string, at = pos): never => {
    throw new JsonTextError(message, at);
  };
  const unexpected = (): never => fail(`Unexpected ${describeToken(text, pos)}`);
  const skipWhitespace = (): void => {
    for (;;) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) pos++;
      else return;
    }
  };

  const parseString = (path: JsonPath): string => {
    const start = pos;
    pos++; // opening quote
    let result = '';
    for (;;) {
      if (pos >= text.length) fail('Unterminated string', start);
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        pos++;
        strings.push({ start, end: pos, path });
        return result;
      }
      if (c < 0x20) fail(`Unescaped control character ${formatCodePoint(c)} in a string`);
      if (c === 0x5c) {
        const escaped = text[pos + 1];
        switch (escaped) {
          case '"':
          case '\\':
          case '/':
            result += escaped;
            pos += 2;
            break;
          case 'b':
            result += '\b';
            pos += 2;
            break;
          case 'f':
            result += '\f';
            pos += 2;
            break;
          case 'n':
            result += '\n';
            pos += 2;
            break;
          case 'r':
            result += '\r';
            pos += 2;
            break;
          case 't':
            result += '\t';
            pos += 2;
            break;
          case 'u': {
            const hex = text.slice(pos + 2, pos + 6);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('Bad \\u escape in a string');
            result += String.fromCharCode(Number.parseInt(hex, 16));
            pos += 6;
            break;
          }
          default:
            fail('Bad escape in a string', pos);
        }
        continue;
      }
      result += text[pos];
      pos++;
    }
  };

  // Sticky: matches at `pos` without copying the rest of the text, whatever the number's length.
  const numberPattern = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
  const parseNumber = (): number => {
    numberPattern.lastIndex = pos;
    const match = numberPattern.exec(text);
    if (!match) return unexpected();
    pos += match[0].length;
    return Number(match[0]);
  };

  const parseLiteral = (word: string, value: unknown): unknown => {
    if (text.startsWith(word, pos)) {
      pos += word.length;
      return value;
    }
    return unexpected();
  };

  const parseValue = (path: JsonPath, depth: number): unknown => {
    if (depth > MAX_JSON_NESTING) fail(`Nesting deeper than ${MAX_JSON_NESTING} levels`);
    skipWhitespace();
    const c = text[pos];
    if (c === '{') return parseObject(path, depth);
    if (c === '[') return parseArray(path, depth);
    if (c === '"') return parseString(path);
    if (c === 't') return parseLiteral('true', true);
    if (c === 'f') return parseLiteral('false', false);
    if (c === 'n') return parseLiteral('null', null);
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return parseNumber();
    return unexpected();
  };

  const parseObject = (path: JsonPath, depth: number): Record<string, unknown> => {
    const result: Record<string, unknown> = {};
    const seen = new Set<string>();
    pos++;
    skipWhitespace();
    if (text[pos] === '}') {
      pos++;
      return result;
    }
    for (;;) {
      skipWhitespace();
      if (text[pos] !== '"') unexpected();
      const keyStart = strings.length;
      const key = parseString(path);
      const memberPath = childPath(path, key);
      const keySpan = strings[keyStart];
      if (keySpan) keySpan.path = memberPath;
      if (seen.has(key)) duplicates.push({ path: memberPath, key });
      seen.add(key);
      skipWhitespace();
      if (text[pos] !== ':') unexpected();
      pos++;
      const value = parseValue(memberPath, depth + 1);
      // defineProperty, so a key named __proto__ is data, as in JSON.parse
      Object.defineProperty(result, key, { value, enumerable: true, writable: true, configurable: true });
      skipWhitespace();
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      if (text[pos] === '}') {
        pos++;
        return result;
      }
      unexpected();
    }
  };

  const parseArray = (path: JsonPath, depth: number): unknown[] => {
    const result: unknown[] = [];
    pos++;
    skipWhitespace();
    if (text[pos] === ']') {
      pos++;
      return result;
    }
    for (;;) {
      result.push(parseValue(childPath(path, result.length), depth + 1));
      skipWhitespace();
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      if (text[pos] === ']') {
        pos++;
        return result;
      }
      unexpected();
    }
  };

  try {
    // A UTF-8 byte order mark is not JSON; KMS rejects it too (U+FEFF is outside U+00FF).
    const value = parseValue('$', 0);
    skipWhitespace();
    if (pos < text.length) unexpected();
    return { value, strings, duplicates };
  } catch (error) {
    if (!(error instanceof JsonTextError)) throw error;
    const { line, column } = lineAndColumn(text, error.offset);
    return {
      error: {
        message: `${error.message} at line ${line} column ${column}`,
        offset: error.offset,
        line,
        column,
      },
      strings,
      duplicates,
    };
  }
}

/**
 * Why the text is not JSON, with line and column (`Unexpected token } at line 3 column 5`),
 * or undefined when it is JSON. The CLI uses it for `file: not JSON: ...` messages.
 */
export function describeJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  return parseJsonText(text).error;
}

// ---------------------------------------------------------------------------------------------
// A syntax-fault locator for the failure path of JSON.parse

export interface SyntaxFault {
  offset: number;
  reason: string;
}

/**
 * Finds where JSON text first goes wrong. Node 20's JSON.parse messages do not always carry a
 * position, so on the failure path only we scan the text ourselves to point at line and column.
 */
export function locateSyntaxFault(text: string): SyntaxFault | undefined {
  let pos = 0;
  const fault = (reason: string): SyntaxFault => ({ offset: pos, reason });
  const skipSpace = (): void => {
    while (pos < text.length) {
      const c = text[pos];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r') pos++;
      else break;
    }
  };
  const describe = (): string => (pos >= text.length ? 'end of input' : `'${text[pos]}'`);
  const parseString = (): SyntaxFault | undefined => {
    pos++; // opening quote
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 34) {
        pos++;
        return undefined;
      }
      if (c < 0x20) return fault('control character inside a string (escape it)');
      if (c === 92) {
        const escaped = text[pos + 1];
        if (escaped === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) return fault('invalid \\u escape');
          pos += 6;
        } else if (escaped !== undefined && '"\\/bfnrt'.includes(escaped)) pos += 2;
        else return fault('invalid escape sequence');
      } else pos++;
    }
    return fault('unterminated string');
  };
  const parseNumber = (): SyntaxFault | undefined => {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(pos));
    if (!match || match[0] === '-' || match[0] === '') return fault(`unexpected ${describe()}`);
    pos += match[0].length;
    return undefined;
  };
  const parseValue = (depth: number): SyntaxFault | undefined => {
    if (depth > MAX_JSON_NESTING) return fault('nesting too deep');
    skipSpace();
    const c = text[pos];
    if (c === '{') {
      pos++;
      skipSpace();
      if (text[pos] === '}') {
        pos++;
        return undefined;
      }
      for (;;) {
        skipSpace();
        if (text[pos] !== '"') return fault(`expected a property name in double quotes, found ${describe()}`);
        const keyFault = parseString();
        if (keyFault) return keyFault;
        skipSpace();
        if (text[pos] !== ':') return fault(`expected ':' after a property name, found ${describe()}`);
        pos++;
        const valueFault = parseValue(depth + 1);
        if (valueFault) return valueFault;
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === '}') {
          pos++;
          return undefined;
        }
        return fault(`expected ',' or '}' after a property value, found ${describe()}`);
      }
    }
    if (c === '[') {
      pos++;
      skipSpace();
      if (text[pos] === ']') {
        pos++;
        return undefined;
      }
      for (;;) {
        const valueFault = parseValue(depth + 1);
        if (valueFault) return valueFault;
        skipSpace();
        if (text[pos] === ',') {
          pos++;
          continue;
        }
        if (text[pos] === ']') {
          pos++;
          return undefined;
        }
        return fault(`expected ',' or ']' after an array element, found ${describe()}`);
      }
    }
    if (c === '"') return parseString();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return parseNumber();
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, pos)) {
        pos += literal.length;
        return undefined;
      }
    }
    return fault(`unexpected ${describe()}`);
  };
  const valueFault = parseValue(0);
  if (valueFault) return valueFault;
  skipSpace();
  if (pos < text.length) return fault(`unexpected ${describe()} after the end of the JSON value`);
  return undefined;
}

/**
 * parsePolicy: text (or an already-parsed value) -> PolicyDocument with its shapes checked.
 * Never throws: every failure is a ParseIssue with a JSON path. Only shapes are checked here;
 * whether the values make sense for KMS is validate.ts's job.
 */
import type {
  ConditionValue,
  JsonPath,
  ParseIssue,
  ParseResult,
  PolicyDocument,
  PolicyStatement,
} from './types';

const DOCUMENT_ELEMENTS: ReadonlySet<string> = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_ELEMENTS: ReadonlySet<string> = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);

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

interface SyntaxFault {
  offset: number;
  reason: string;
}

/**
 * Finds where JSON text first goes wrong. Node 20's JSON.parse messages do not always carry a
 * position, so on the failure path only we scan the text ourselves to point at line and column.
 */
function locateSyntaxFault(text: string): SyntaxFault | undefined {
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
    if (depth > 512) return fault('nesting too deep');
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

function jsonSyntaxIssue(text: string, error: unknown): ParseIssue {
  const fault = locateSyntaxFault(text);
  if (fault) {
    const { line, column } = lineAndColumn(text, fault.offset);
    return { path: '$', message: `Not valid JSON at line ${line}, column ${column}: ${fault.reason}` };
  }
  // The scanner accepted what JSON.parse rejected: report JSON.parse's own words.
  const detail = error instanceof Error ? error.message : String(error);
  return { path: '$', message: `Not valid JSON: ${detail}` };
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Appends a property to a JSON path, quoting names that are not plain identifiers. */
function childPath(path: JsonPath, name: string): JsonPath {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? `${path}.${name}` : `${path}[${JSON.stringify(name)}]`;
}

const GRAMMAR_ORDER = [
  'Sid',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
] as const;
const LIST_ELEMENTS = ['Action', 'NotAction', 'Resource', 'NotResource'] as const;

class ShapeChecker {
  readonly issues: ParseIssue[] = [];
  readonly unknownElements: ParseIssue[] = [];

  private problem(path: JsonPath, message: string): void {
    this.issues.push({ path, message });
  }

  document(value: unknown): PolicyDocument | undefined {
    if (!isRecord(value)) {
      this.problem('$', `A policy document must be a JSON object, found ${typeName(value)}`);
      return undefined;
    }
    for (const name in value) {
      if (!DOCUMENT_ELEMENTS.has(name)) {
        this.unknownElements.push({ path: childPath('$', name), message: unknownMessage(name, 'document') });
      }
    }
    const version = this.optionalString(value.Version, '$.Version');
    const id = this.optionalString(value.Id, '$.Id');
    const statements = this.statements(value.Statement);
    if (!statements) return undefined;
    const document: PolicyDocument = { Statement: statements };
    if (version !== undefined) document.Version = version;
    if (id !== undefined) document.Id = id;
    return document;
  }

  private optionalString(value: unknown, path: JsonPath): string | undefined {
    if (value === undefined) return undefined;
    if (typeof value !== 'string') {
      this.problem(path, `Must be a string, found ${typeName(value)}`);
      return undefined;
    }
    return value;
  }

  private statements(value: unknown): PolicyStatement[] | undefined {
    if (value === undefined) {
      this.problem('$', 'Missing required element Statement');
      return undefined;
    }
    if (isRecord(value)) {
      const single = this.statement(value, '$.Statement');
      return single ? [single] : undefined;
    }
    if (!Array.isArray(value)) {
      this.problem(
        '$.Statement',
        `Statement must be an object or an array of objects, found ${typeName(value)}`,
      );
      return undefined;
    }
    const statements: PolicyStatement[] = [];
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      const path = `$.Statement[${index}]`;
      if (!isRecord(item)) {
        this.problem(path, `A statement must be an object, found ${typeName(item)}`);
        continue;
      }
      const statement = this.statement(item, path);
      if (statement) statements.push(statement);
    }
    return this.issues.length === 0 ? statements : undefined;
  }

  /**
   * Checks one statement. A clean statement (only grammar elements, Effect present) is returned as
   * the very object that was parsed: no copy, because compare runs on every event and audit.
   */
  private statement(raw: Record<string, unknown>, path: JsonPath): PolicyStatement | undefined {
    const before = this.issues.length;
    let clean = true;
    for (const name in raw) {
      if (!STATEMENT_ELEMENTS.has(name)) {
        clean = false;
        this.unknownElements.push({
          path: childPath(path, name),
          message: unknownMessage(name, 'statement'),
        });
      }
    }
    if (raw.Sid !== undefined && typeof raw.Sid !== 'string') {
      this.problem(`${path}.Sid`, `Must be a string, found ${typeName(raw.Sid)}`);
    }
    if (raw.Effect === undefined) clean = false;
    else if (typeof raw.Effect !== 'string') {
      this.problem(`${path}.Effect`, `Must be a string, found ${typeName(raw.Effect)}`);
    }
    if (raw.Principal !== undefined) this.principal(raw.Principal, path, 'Principal');
    if (raw.NotPrincipal !== undefined) this.principal(raw.NotPrincipal, path, 'NotPrincipal');
    for (const name of LIST_ELEMENTS) {
      const value = raw[name];
      if (value !== undefined && typeof value !== 'string') this.stringList(value, () => `${path}.${name}`);
    }
    if (raw.Condition !== undefined) this.condition(raw.Condition, `${path}.Condition`);
    if (this.issues.length !== before) return undefined;
    if (clean) return raw as unknown as PolicyStatement;
    // A missing Effect is a validation error, not a shape error: keep it as '' so validate.ts can say so.
    const statement: PolicyStatement = { Effect: typeof raw.Effect === 'string' ? raw.Effect : '' };
    for (const name of GRAMMAR_ORDER) {
      if (raw[name] !== undefined) Object.assign(statement, { [name]: raw[name] });
    }
    return statement;
  }

  /** `path` is only built when there is a problem to report: the happy path allocates nothing. */
  private stringList(value: unknown, path: () => JsonPath): void {
    if (!Array.isArray(value)) {
      this.problem(path(), `Must be a string or an array of strings, found ${typeName(value)}`);
      return;
    }
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      if (typeof item !== 'string')
        this.problem(`${path()}[${index}]`, `Must be a string, found ${typeName(item)}`);
    }
  }

  private principal(value: unknown, statementPath: JsonPath, name: 'Principal' | 'NotPrincipal'): void {
    if (value === '*') return;
    const path = `${statementPath}.${name}`;
    if (!isRecord(value)) {
      this.problem(
        path,
        `Must be "*" or an object of principal type to ARN(s), found ${JSON.stringify(value)}`,
      );
      return;
    }
    for (const type in value) {
      const ids = value[type];
      if (typeof ids !== 'string') this.stringList(ids, () => childPath(path, type));
    }
  }

  private condition(value: unknown, path: JsonPath): void {
    if (!isRecord(value)) {
      this.problem(
        path,
        `Condition must be an object of operator to {key: value(s)}, found ${typeName(value)}`,
      );
      return;
    }
    for (const operator in value) {
      const keys = value[operator];
      if (!isRecord(keys)) {
        this.problem(
          childPath(path, operator),
          `A condition operator must map to an object of key to value(s), found ${typeName(keys)}`,
        );
        continue;
      }
      for (const key in keys) {
        const values = keys[key];
        if (isScalar(values)) continue;
        const keyPath = (): JsonPath => childPath(childPath(path, operator), key);
        if (Array.isArray(values)) {
          const bad = values.findIndex((item: unknown) => !isScalar(item));
          if (bad >= 0) {
            this.problem(
              `${keyPath()}[${bad}]`,
              `A condition value must be a string, number or boolean, found ${typeName(values[bad])}`,
            );
          }
        } else {
          this.problem(
            keyPath(),
            `A condition value must be a string, number, boolean or an array of them, found ${typeName(values)}`,
          );
        }
      }
    }
  }
}

function isScalar(value: unknown): value is ConditionValue {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function unknownMessage(name: string, where: 'document' | 'statement'): string {
  const known = where === 'document' ? DOCUMENT_ELEMENTS : STATEMENT_ELEMENTS;
  const sameLetters = [...known].find((element) => element.toLowerCase() === name.toLowerCase());
  const hint = sameLetters ? ` (element names are case-sensitive: did you mean ${sameLetters}?)` : '';
  return `Unknown ${where} element ${JSON.stringify(name)}${hint}; KMS does not understand it`;
}

/**
 * Parses a policy from JSON text or from an already-parsed value. Statements that need no fixing
 * are returned as the parsed objects themselves (no copy): treat the document as read-only.
 */
export function parsePolicy(input: string | unknown): ParseResult {
  return parsePolicyDocument(input, true);
}

/** parsePolicy, optionally without measuring the bytes (compare does not need them). */
export function parsePolicyDocument(input: string | unknown, measureBytes: boolean): ParseResult {
  let value: unknown;
  let byteLength = 0;
  if (typeof input === 'string') {
    if (measureBytes) byteLength = utf8ByteLength(input);
    try {
      value = JSON.parse(input);
    } catch (error: unknown) {
      return { ok: false, issues: [jsonSyntaxIssue(input, error)] };
    }
  } else if (measureBytes) {
    value = input;
    let text: string | undefined;
    try {
      text = JSON.stringify(input);
    } catch (error: unknown) {
      const detail = error instanceof Error ? error.message : String(error);
      return { ok: false, issues: [{ path: '$', message: `Cannot be written as JSON: ${detail}` }] };
    }
    byteLength = text === undefined ? 0 : utf8ByteLength(text);
  } else {
    value = input;
  }
  const checker = new ShapeChecker();
  const document = checker.document(value);
  if (!document || checker.issues.length > 0) {
    return { ok: false, issues: checker.issues };
  }
  return { ok: true, document, unknownElements: checker.unknownElements, byteLength };
}

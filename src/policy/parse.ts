/**
 * parsePolicy: text (or an already-parsed value) -> PolicyDocument with its shapes checked.
 * Never throws: every failure is a ParseIssue with a JSON path. Only shapes are checked here;
 * whether the values make sense for KMS is validate.ts's job.
 */
import { DOCUMENT_ELEMENTS, STATEMENT_ELEMENTS } from './grammar';
import { readJsonText } from './json/reader';
import { utf8ByteLength } from './json/text';
import { inspectJsonValue } from './json/value';
import type {
  ConditionValue,
  JsonPath,
  ParseIssue,
  ParseResult,
  PolicyDocument,
  PolicyStatement,
} from './types';

// index.ts re-exports this module: these names stay importable from here.
export { lineAndColumn, utf8ByteLength } from './json/text';

const DOCUMENT_ELEMENT_NAMES: ReadonlySet<string> = new Set(DOCUMENT_ELEMENTS);
const STATEMENT_ELEMENT_NAMES: ReadonlySet<string> = new Set(STATEMENT_ELEMENTS);

/** JSON.parse rejected the text: the JSON reader says where and why, in the words validate uses (KMS001). */
function jsonSyntaxIssue(text: string, error: unknown): ParseIssue {
  const syntaxError = readJsonText(text).error;
  // Only if the reader accepted what JSON.parse rejected: JSON.parse's own words.
  const detail = syntaxError?.message ?? (error instanceof Error ? error.message : String(error));
  return { path: '$', message: `Not JSON: ${detail}` };
}

/** JSON.stringify rejected an in-memory value: say where and why, in the words validate uses (KMS007). */
function notJsonValueIssues(input: unknown, error: unknown): ParseIssue[] {
  const { faults } = inspectJsonValue(input);
  if (faults.length > 0) return faults;
  // Only if nothing in the value explains it (a toJSON method that throws): JSON.stringify's own words.
  const detail = error instanceof Error ? error.message : String(error);
  return [{ path: '$', message: `Cannot be written as JSON: ${detail}` }];
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

/** The elements a rebuilt statement copies after Effect, in grammar order. */
const GRAMMAR_ORDER = STATEMENT_ELEMENTS.filter((name) => name !== 'Effect');
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
      if (!DOCUMENT_ELEMENT_NAMES.has(name)) {
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
      if (!STATEMENT_ELEMENT_NAMES.has(name)) {
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
  const known: readonly string[] = where === 'document' ? DOCUMENT_ELEMENTS : STATEMENT_ELEMENTS;
  const sameLetters = known.find((element) => element.toLowerCase() === name.toLowerCase());
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
      return { ok: false, issues: notJsonValueIssues(input, error) };
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

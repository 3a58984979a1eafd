/**
 * checkShape: the one structural checker of a policy (docs/architecture.md#reading-a-key-policy).
 * One walk over a JSON value checks the JSON type of every element the policy grammar has and
 * builds the typed PolicyDocument. parsePolicy fails with its issues; validatePolicy reports them,
 * in the same words and at the same paths, under their catalogue codes, next to what its rules find.
 *
 * A shape issue is exactly "this value is not a PolicyDocument". Whether the values make sense
 * (an empty list, an unknown principal type, a Version other than 2012-10-17) is for the rules.
 * Unknown element names (KMS111) are listed apart: parse still builds a document without them.
 */
import type { RuleCode } from '../catalogue';
import { DOCUMENT_ELEMENTS, STATEMENT_ELEMENTS } from '../grammar';
import { childPath } from '../json/path';
import { isRecord } from '../json/value';
import { closestName } from '../suggest';
import type { JsonPath, PolicyDocument, PolicyStatement } from '../types';
import { effectMessage, principalListMessage, typeName, versionMessage } from './wording';

export interface ShapeIssue {
  code: RuleCode;
  path: JsonPath;
  message: string;
}

/** A statement that is an object, with its index in `Statement` and its path. */
export interface StatementAt {
  index: number;
  path: JsonPath;
  raw: Record<string, unknown>;
}

export interface PolicyShape {
  /** The typed document; undefined when `issues` is not empty. Clean statements are the objects given (no copy). */
  document?: PolicyDocument;
  /** Why the value is not a PolicyDocument. */
  issues: ShapeIssue[];
  /** Element names outside the grammar (KMS111); the document leaves them out. */
  unknownElements: ShapeIssue[];
  /** The document object as given, when the value is an object. */
  root?: Record<string, unknown>;
  /** Every statement that is an object (the rules read these). */
  statements: StatementAt[];
}

const DOCUMENT_ELEMENT_NAMES: ReadonlySet<string> = new Set(DOCUMENT_ELEMENTS);
const STATEMENT_ELEMENT_NAMES: ReadonlySet<string> = new Set(STATEMENT_ELEMENTS);
/** The elements a rebuilt statement copies after Effect, in grammar order. */
const GRAMMAR_ORDER = STATEMENT_ELEMENTS.filter((name) => name !== 'Effect');
const LIST_ELEMENTS = ['Action', 'NotAction', 'Resource', 'NotResource'] as const;

/** A condition value: JSON has no other scalars (an in-memory NaN is validate's KMS007). */
function isConditionScalar(value: unknown): boolean {
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
}

function unknownElementMessage(name: string, where: 'document' | 'statement'): string {
  const known: readonly string[] = where === 'document' ? DOCUMENT_ELEMENTS : STATEMENT_ELEMENTS;
  const suggestion = closestName(name, known);
  const hint = suggestion ? `: did you mean ${name} → ${suggestion}?` : ` (valid: ${known.join(', ')})`;
  return `Unknown ${where} element "${name}"${hint}`;
}

/**
 * Paths are built only for what is reported (compare runs this on every event and audit): a
 * nested element's path is a function of its parent's until a problem needs the string.
 */
type LazyPath = () => JsonPath;

class ShapeChecker {
  readonly issues: ShapeIssue[] = [];
  readonly unknownElements: ShapeIssue[] = [];
  readonly statements: StatementAt[] = [];

  private issue(code: RuleCode, path: JsonPath, message: string): void {
    this.issues.push({ code, path, message });
  }

  /** Lists the names outside the grammar; true when there are none. */
  private grammarNamesOnly(
    raw: Record<string, unknown>,
    path: JsonPath,
    where: 'document' | 'statement',
  ): boolean {
    const known = where === 'document' ? DOCUMENT_ELEMENT_NAMES : STATEMENT_ELEMENT_NAMES;
    let clean = true;
    for (const name in raw) {
      if (known.has(name)) continue;
      clean = false;
      this.unknownElements.push({
        code: 'KMS111',
        path: childPath(path, name),
        message: unknownElementMessage(name, where),
      });
    }
    return clean;
  }

  document(value: unknown): PolicyDocument | undefined {
    if (!isRecord(value)) {
      this.issue('KMS002', '$', `A key policy is a JSON object, not ${typeName(value)}`);
      return undefined;
    }
    this.grammarNamesOnly(value, '$', 'document');
    const { Version, Id, Statement } = value;
    if (Version !== undefined && typeof Version !== 'string') {
      this.issue('KMS103', '$.Version', versionMessage(Version));
    }
    if (Id !== undefined && typeof Id !== 'string') {
      this.issue('KMS112', '$.Id', `Id is a string, not ${typeName(Id)}`);
    }
    const statements = this.statementList(Statement);
    if (!statements || this.issues.length > 0) return undefined;
    const document: PolicyDocument = { Statement: statements };
    if (typeof Version === 'string') document.Version = Version;
    if (typeof Id === 'string') document.Id = Id;
    return document;
  }

  private statementList(value: unknown): PolicyStatement[] | undefined {
    if (value === undefined) {
      this.issue('KMS101', '$', 'Statement is missing; a key policy needs at least one statement');
      return undefined;
    }
    if (isRecord(value)) {
      const single = this.statement(value, 0, '$.Statement');
      return single ? [single] : undefined;
    }
    if (!Array.isArray(value)) {
      this.issue(
        'KMS112',
        '$.Statement',
        `Statement is a list of statements or a single statement object, not ${typeName(value)}`,
      );
      return undefined;
    }
    const statements: PolicyStatement[] = [];
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      const path = `$.Statement[${index}]`;
      if (!isRecord(item)) {
        this.issue('KMS114', path, `A statement is an object, not ${typeName(item)}`);
        continue;
      }
      const statement = this.statement(item, index, path);
      if (statement) statements.push(statement);
    }
    return statements;
  }

  /**
   * Checks one statement. A clean statement (only grammar elements, Effect present) is returned as
   * the very object that was given: no copy, because compare runs on every event and audit.
   */
  private statement(
    raw: Record<string, unknown>,
    index: number,
    path: JsonPath,
  ): PolicyStatement | undefined {
    this.statements.push({ index, path, raw });
    const before = this.issues.length;
    const onlyGrammarNames = this.grammarNamesOnly(raw, path, 'statement');
    const { Sid, Effect, Principal, NotPrincipal, Condition } = raw;
    if (Sid !== undefined && typeof Sid !== 'string') {
      this.issue('KMS112', childPath(path, 'Sid'), `Sid is a string, not ${typeName(Sid)}`);
    }
    if (Effect !== undefined && typeof Effect !== 'string') {
      this.issue('KMS106', childPath(path, 'Effect'), effectMessage(Effect));
    }
    if (Principal !== undefined) this.principal(Principal, path, 'Principal');
    if (NotPrincipal !== undefined) this.principal(NotPrincipal, path, 'NotPrincipal');
    for (const name of LIST_ELEMENTS) {
      const value = raw[name];
      if (value !== undefined && typeof value !== 'string') {
        this.stringList(value, () => childPath(path, name), name, 'KMS112');
      }
    }
    if (Condition !== undefined) this.condition(Condition, () => childPath(path, 'Condition'));
    if (this.issues.length !== before) return undefined;
    if (onlyGrammarNames && Effect !== undefined) return raw as unknown as PolicyStatement;
    // A missing Effect is a rule finding (KMS105), not a shape issue: kept as '' for compare to show.
    const statement: PolicyStatement = { Effect: typeof Effect === 'string' ? Effect : '' };
    for (const name of GRAMMAR_ORDER) {
      if (raw[name] !== undefined) Object.assign(statement, { [name]: raw[name] });
    }
    return statement;
  }

  /** A list of strings (the caller has seen it is no string): `Action`, `Resource`, … or a principal type. */
  private stringList(value: unknown, path: LazyPath, element: string, code: 'KMS112' | 'KMS113'): void {
    if (!Array.isArray(value)) {
      const message =
        code === 'KMS112'
          ? `${element} is a string or a list of strings, not ${typeName(value)}`
          : principalListMessage(element);
      this.issue(code, path(), message);
      return;
    }
    const items = code === 'KMS112' ? `${element} entries` : `${element} principals`;
    for (let index = 0; index < value.length; index++) {
      const item: unknown = value[index];
      if (typeof item !== 'string') {
        this.issue(code, childPath(path(), index), `${items} are strings, not ${typeName(item)}`);
      }
    }
  }

  private principal(value: unknown, statementPath: JsonPath, element: 'Principal' | 'NotPrincipal'): void {
    if (value === '*') return;
    if (!isRecord(value)) {
      const found = typeof value === 'string' ? `the string "${value}"` : typeName(value);
      this.issue(
        'KMS113',
        childPath(statementPath, element),
        `${element} is "*" or an object such as {"AWS": "arn:aws:iam::111122223333:root"}, not ${found}`,
      );
      return;
    }
    for (const type in value) {
      const ids = value[type];
      if (typeof ids !== 'string') {
        this.stringList(ids, () => childPath(childPath(statementPath, element), type), type, 'KMS113');
      }
    }
  }

  private condition(value: unknown, path: LazyPath): void {
    if (!isRecord(value)) {
      this.issue(
        'KMS120',
        path(),
        `Condition is an object of operator -> {key: value}, not ${typeName(value)}`,
      );
      return;
    }
    for (const operator in value) {
      const block = value[operator];
      if (!isRecord(block)) {
        this.issue(
          'KMS120',
          childPath(path(), operator),
          `${operator} holds {condition key: value}, not ${typeName(block)}`,
        );
        continue;
      }
      for (const key in block) {
        const values = block[key];
        if (isConditionScalar(values)) continue;
        const keyPath = (): JsonPath => childPath(childPath(path(), operator), key);
        if (!Array.isArray(values)) {
          this.issue('KMS122', keyPath(), conditionValueMessage(values));
          continue;
        }
        for (let index = 0; index < values.length; index++) {
          const item: unknown = values[index];
          if (!isConditionScalar(item)) {
            this.issue('KMS122', childPath(keyPath(), index), conditionValueMessage(item));
          }
        }
      }
    }
  }
}

function conditionValueMessage(value: unknown): string {
  return `Condition values are strings, numbers or booleans, not ${typeName(value)}`;
}

/** The shape of a JSON value as a key policy. Never throws. */
export function checkShape(value: unknown): PolicyShape {
  const checker = new ShapeChecker();
  const shape: PolicyShape = {
    issues: checker.issues,
    unknownElements: checker.unknownElements,
    statements: checker.statements,
  };
  const document = checker.document(value);
  if (document) shape.document = document;
  if (isRecord(value)) shape.root = value;
  return shape;
}

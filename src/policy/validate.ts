/**
 * validatePolicy: is this a KMS key policy, and is it a safe one? (docs/architecture.md#validating-a-key-policy)
 *
 * Works on the RAW text (or an in-memory value), not on parse.ts's output, because it reports
 * what parse tolerates: byte size, characters, duplicate JSON keys, exact element spellings.
 * Pure: no I/O, never throws. Every finding's code and level come from catalogue.ts.
 */
import { type RuleCode, ruleLevel } from './catalogue';
import { DOCUMENT_ELEMENTS, PRINCIPAL_TYPES, STATEMENT_ELEMENTS } from './grammar';
import { childPath } from './json/path';
import { type JsonStringSpan, readJsonText } from './json/reader';
import { formatCodePoint, utf8ByteLength } from './json/text';
import { inspectJsonValue, isPlainObject } from './json/value';
import {
  type ConditionKeyType,
  expandActionPattern,
  findConditionKey,
  findKmsAction,
  KMS_ACTIONS,
} from './service-data';
import snapshot from './service-data/kms-snapshot.json';
import { closestName, didYouMean } from './suggest';
import type { JsonPath, ValidateOptions, ValidationFinding, ValidationResult } from './types';

// index.ts re-exports this module: these names stay importable from here.
export { childPath } from './json/path';
export { describeJsonSyntaxError, type JsonSyntaxError } from './json/reader';
export { closestName } from './suggest';

/** KMS rejects larger documents with LimitExceededException. */
export const MAX_POLICY_BYTES = 32_768;
const SUPPORTED_VERSION = '2012-10-17';
/** Character findings of one kind beyond this are summarised, so a binary file gives a readable report. */
const MAX_CHARACTER_FINDINGS = 20;

type OperatorFamily = 'String' | 'Numeric' | 'Date' | 'Bool' | 'Binary' | 'IpAddress' | 'Arn' | 'Null';
/** The condition operators IAM documents, in its spelling, with the family each belongs to. */
const OPERATORS: readonly (readonly [string, OperatorFamily])[] = [
  ['StringEquals', 'String'],
  ['StringNotEquals', 'String'],
  ['StringEqualsIgnoreCase', 'String'],
  ['StringNotEqualsIgnoreCase', 'String'],
  ['StringLike', 'String'],
  ['StringNotLike', 'String'],
  ['NumericEquals', 'Numeric'],
  ['NumericNotEquals', 'Numeric'],
  ['NumericLessThan', 'Numeric'],
  ['NumericLessThanEquals', 'Numeric'],
  ['NumericGreaterThan', 'Numeric'],
  ['NumericGreaterThanEquals', 'Numeric'],
  ['DateEquals', 'Date'],
  ['DateNotEquals', 'Date'],
  ['DateLessThan', 'Date'],
  ['DateLessThanEquals', 'Date'],
  ['DateGreaterThan', 'Date'],
  ['DateGreaterThanEquals', 'Date'],
  ['Bool', 'Bool'],
  ['BinaryEquals', 'Binary'],
  ['IpAddress', 'IpAddress'],
  ['NotIpAddress', 'IpAddress'],
  ['ArnEquals', 'Arn'],
  ['ArnLike', 'Arn'],
  ['ArnNotEquals', 'Arn'],
  ['ArnNotLike', 'Arn'],
  ['Null', 'Null'],
];
const OPERATORS_BY_LOWER_NAME: ReadonlyMap<string, { name: string; family: OperatorFamily }> = new Map(
  OPERATORS.map(([name, family]) => [name.toLowerCase(), { name, family }]),
);
const CANONICAL_OPERATOR_NAMES: string[] = OPERATORS.map(([name]) => name);

/** Which operator families AWS evaluates meaningfully for each key type (Null fits every key). */
const FAMILIES_FOR_KEY_TYPE: Record<ConditionKeyType, readonly OperatorFamily[]> = {
  String: ['String'],
  ArrayOfString: ['String'],
  Numeric: ['Numeric'],
  Bool: ['Bool'],
  Date: ['Date'],
  // AWS documents string operators as usable with ARN keys (e.g. aws:PrincipalArn with StringLike).
  ARN: ['Arn', 'String'],
  IPAddress: ['IpAddress'],
};

const CONDITION_KEY_NAMES: string[] = [
  ...Object.keys(snapshot.conditionKeys),
  ...Object.keys(snapshot.globalConditionKeys),
];
const KMS_ACTION_NAMES: string[] = KMS_ACTIONS.map((action) => action.name);

// ---------------------------------------------------------------------------------------------
// Findings

interface FindingSink {
  add(code: RuleCode, path: JsonPath, message: string): void;
  readonly findings: ValidationFinding[];
}

function createSink(): FindingSink {
  const findings: ValidationFinding[] = [];
  return {
    findings,
    add(code, path, message) {
      findings.push({ code, level: ruleLevel(code), path, message });
    },
  };
}

const pathCollator = new Intl.Collator('en', { numeric: true });

/** Errors first, then by path (numeric-aware: Statement[2] before Statement[10]), then code. */
function compareFindings(a: ValidationFinding, b: ValidationFinding): number {
  if (a.level !== b.level) return a.level === 'error' ? -1 : 1;
  return (
    pathCollator.compare(a.path, b.path) || a.code.localeCompare(b.code) || a.message.localeCompare(b.message)
  );
}

// ---------------------------------------------------------------------------------------------
// Characters and size

type CharacterClass = 'allowed' | 'invisible' | 'forbidden';

/**
 * KMS allows tab, LF, CR, printable ASCII and Latin-1 Supplement. U+007F-U+009F (DEL, C1
 * controls) sit inside the API's pattern `[\u0009\u000A\u000D\u0020-\u00FF]+`, so KMS accepts
 * them, yet they are not printable: a warning, not an error.
 */
function classifyCharacter(codePoint: number): CharacterClass {
  if (codePoint === 0x09 || codePoint === 0x0a || codePoint === 0x0d) return 'allowed';
  if (codePoint >= 0x20 && codePoint <= 0x7e) return 'allowed';
  if (codePoint >= 0xa0 && codePoint <= 0xff) return 'allowed';
  if (codePoint >= 0x7f && codePoint <= 0x9f) return 'invisible';
  return 'forbidden';
}

function visibleForm(codePoint: number): string {
  const printable = codePoint > 0x9f && !(codePoint >= 0xd800 && codePoint <= 0xdfff);
  return printable ? ` (${String.fromCodePoint(codePoint)})` : '';
}

class CharacterReporter {
  private readonly counts = { forbidden: 0, invisible: 0 };
  private readonly firstPath = { forbidden: '$', invisible: '$' };

  constructor(private readonly sink: FindingSink) {}

  report(codePoint: number, path: JsonPath, where: string): void {
    const kind = classifyCharacter(codePoint);
    if (kind === 'allowed') return;
    this.counts[kind]++;
    if (this.counts[kind] === 1) this.firstPath[kind] = path;
    if (this.counts[kind] > MAX_CHARACTER_FINDINGS) return;
    const code = formatCodePoint(codePoint);
    if (kind === 'forbidden') {
      this.sink.add(
        'KMS004',
        path,
        `Character ${code}${visibleForm(codePoint)} ${where}is not allowed in a key policy (only tab, LF, CR and U+0020-U+00FF)`,
      );
    } else {
      this.sink.add(
        'KMS005',
        path,
        `Invisible control character ${code} ${where}(KMS accepts it, but no one can see it)`,
      );
    }
  }

  finish(): void {
    for (const kind of ['forbidden', 'invisible'] as const) {
      const more = this.counts[kind] - MAX_CHARACTER_FINDINGS;
      if (more > 0) {
        this.sink.add(
          kind === 'forbidden' ? 'KMS004' : 'KMS005',
          this.firstPath[kind],
          `... and ${more} more such characters`,
        );
      }
    }
  }
}

function checkTextCharacters(text: string, strings: readonly JsonStringSpan[], sink: FindingSink): void {
  const reporter = new CharacterReporter(sink);
  let line = 1;
  let lineStart = 0;
  let spanIndex = 0;
  for (let offset = 0; offset < text.length; ) {
    const codePoint = text.codePointAt(offset) ?? 0;
    const width = codePoint > 0xffff ? 2 : 1;
    if (classifyCharacter(codePoint) !== 'allowed') {
      let span = strings[spanIndex];
      while (span && span.end <= offset) {
        spanIndex++;
        span = strings[spanIndex];
      }
      const path = span && span.start <= offset ? span.path : '$';
      reporter.report(codePoint, path, `at line ${line} column ${offset - lineStart + 1} `);
    }
    if (codePoint === 0x0a) {
      line++;
      lineStart = offset + 1;
    }
    offset += width;
  }
  reporter.finish();
}

// ---------------------------------------------------------------------------------------------
// In-memory input: is it JSON at all, and which strings does it hold?

function checkInMemoryValue(input: unknown, sink: FindingSink): boolean {
  const inspection = inspectJsonValue(input);
  for (const fault of inspection.faults) sink.add('KMS007', fault.path, fault.message);
  const reporter = new CharacterReporter(sink);
  for (const string of inspection.strings) {
    const where = string.isName ? 'in a name ' : 'in a string ';
    for (const char of string.text) reporter.report(char.codePointAt(0) ?? 0, string.path, where);
  }
  reporter.finish();
  return inspection.faults.length === 0;
}

// ---------------------------------------------------------------------------------------------
// The statement model the security checks work on

interface PrincipalEntry {
  /** `*` for a bare `"Principal": "*"`, else the principal type (AWS, Service, ...). */
  type: string;
  value: string;
  path: JsonPath;
}

interface StringEntry {
  value: string;
  path: JsonPath;
}

interface StatementModel {
  index: number;
  path: JsonPath;
  effect?: 'Allow' | 'Deny';
  principalKind: 'Principal' | 'NotPrincipal' | 'none';
  principals: PrincipalEntry[];
  actionKind: 'Action' | 'NotAction' | 'none';
  actions: StringEntry[];
  hasCondition: boolean;
}

interface StructureContext {
  sink: FindingSink;
  statements: StatementModel[];
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

function checkUnknownElements(
  object: Record<string, unknown>,
  path: JsonPath,
  known: readonly string[],
  where: string,
  sink: FindingSink,
): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue;
    const suggestion = closestName(key, known);
    const hint = suggestion ? `: did you mean ${key} → ${suggestion}?` : ` (valid: ${known.join(', ')})`;
    sink.add('KMS111', childPath(path, key), `Unknown ${where} element "${key}"${hint}`);
  }
}

/** A string or a non-empty list of strings (Action, Resource); wrong shapes are reported. */
function stringList(value: unknown, path: JsonPath, element: string, sink: FindingSink): StringEntry[] {
  if (typeof value === 'string') return [{ value, path }];
  if (Array.isArray(value)) {
    if (value.length === 0) sink.add('KMS112', path, `${element} is an empty list; it matches nothing`);
    const entries: StringEntry[] = [];
    value.forEach((item, index) => {
      const itemPath = childPath(path, index);
      if (typeof item === 'string') entries.push({ value: item, path: itemPath });
      else sink.add('KMS112', itemPath, `${element} entries are strings, not ${typeName(item)}`);
    });
    return entries;
  }
  sink.add('KMS112', path, `${element} is a string or a list of strings, not ${typeName(value)}`);
  return [];
}

const ACCOUNT_ID = /^\d{12}$/;
const IAM_ARN = /^arn:[a-z][a-z0-9-]*:(iam|sts)::(\d{12}):.+$/;
const UNIQUE_ID = /^(AROA|AIDA)[A-Z0-9]{12,}$/;

function checkAwsPrincipalValue(value: string, path: JsonPath, sink: FindingSink): void {
  if (value === '*' || ACCOUNT_ID.test(value) || IAM_ARN.test(value)) return;
  if (UNIQUE_ID.test(value)) {
    sink.add(
      'KMS307',
      path,
      `Orphaned principal: ${value} is a unique ID, which KMS shows after the IAM ${value.startsWith('AROA') ? 'role' : 'user'} was deleted; remove it or restore the ARN`,
    );
    return;
  }
  sink.add('KMS113', path, `AWS principal "${value}" is not *, a 12-digit account ID or an IAM/STS ARN`);
}

function principalEntries(
  value: unknown,
  path: JsonPath,
  element: string,
  sink: FindingSink,
): PrincipalEntry[] {
  if (value === '*') return [{ type: '*', value: '*', path }];
  if (!isPlainObject(value)) {
    sink.add(
      'KMS113',
      path,
      `${element} is "*" or an object such as {"AWS": "arn:aws:iam::111122223333:root"}, not ${typeof value === 'string' ? `the string "${value}"` : typeName(value)}`,
    );
    return [];
  }
  const keys = Object.keys(value);
  if (keys.length === 0) sink.add('KMS113', path, `${element} names no principal`);
  const entries: PrincipalEntry[] = [];
  for (const type of keys) {
    const typePath = childPath(path, type);
    if (!(PRINCIPAL_TYPES as readonly string[]).includes(type)) {
      sink.add(
        'KMS113',
        typePath,
        `Unknown principal type "${type}"${didYouMean(closestName(type, PRINCIPAL_TYPES))}; valid: ${PRINCIPAL_TYPES.join(', ')}`,
      );
      continue;
    }
    const raw = value[type];
    const items: StringEntry[] = [];
    if (typeof raw === 'string') items.push({ value: raw, path: typePath });
    else if (Array.isArray(raw) && raw.length > 0) {
      raw.forEach((item, index) => {
        const itemPath = childPath(typePath, index);
        if (typeof item === 'string') items.push({ value: item, path: itemPath });
        else sink.add('KMS113', itemPath, `${type} principals are strings, not ${typeName(item)}`);
      });
    } else {
      sink.add('KMS113', typePath, `${type} is a principal string or a non-empty list of them`);
    }
    for (const item of items) {
      if (type === 'AWS') checkAwsPrincipalValue(item.value, item.path, sink);
      else if (item.value === '') sink.add('KMS113', item.path, `${type} principal is empty`);
      entries.push({ type, value: item.value, path: item.path });
    }
  }
  return entries;
}

function checkAction(entry: StringEntry, sink: FindingSink): void {
  const { value, path } = entry;
  if (value === '*') return;
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) {
    const suggestion = findKmsAction(`kms:${value}`)?.name;
    sink.add(
      'KMS204',
      path,
      `Action "${value}" is not service:Name${suggestion ? ` (did you mean "${suggestion}"?)` : ''}`,
    );
    return;
  }
  const service = value.slice(0, colon);
  if (service.toLowerCase() !== 'kms') {
    sink.add(
      'KMS203',
      path,
      `Action "${value}" belongs to ${service}, not KMS; a key policy only governs kms: actions`,
    );
    return;
  }
  if (value.includes('*') || value.includes('?')) {
    if (expandActionPattern(value).length === 0) {
      sink.add('KMS202', path, `Wildcard "${value}" matches no KMS action, so it grants nothing`);
    }
    return;
  }
  if (!findKmsAction(value)) {
    sink.add(
      'KMS201',
      path,
      `KMS has no action "${value}"; it grants nothing${didYouMean(closestName(value, KMS_ACTION_NAMES))}`,
    );
  }
}

interface ParsedOperator {
  family: OperatorFamily;
  /** The operator as IAM documents it, e.g. `ForAnyValue:StringEqualsIfExists`. */
  canonical: string;
}

function parseOperator(operator: string): ParsedOperator | undefined {
  const set = /^(ForAnyValue|ForAllValues):/i.exec(operator)?.[1];
  const ifExists = /IfExists$/i.test(operator);
  const base = operator.replace(/^(ForAnyValue|ForAllValues):/i, '').replace(/IfExists$/i, '');
  const known = OPERATORS_BY_LOWER_NAME.get(base.toLowerCase());
  if (!known) return undefined;
  if (known.family === 'Null' && base.length !== operator.length && ifExists) return undefined;
  const setPrefix =
    set === undefined ? '' : set.toLowerCase() === 'foranyvalue' ? 'ForAnyValue:' : 'ForAllValues:';
  return { family: known.family, canonical: `${setPrefix}${known.name}${ifExists ? 'IfExists' : ''}` };
}

function isScalar(value: unknown): boolean {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

function checkCondition(value: unknown, path: JsonPath, sink: FindingSink): void {
  if (!isPlainObject(value)) {
    sink.add('KMS120', path, `Condition is an object of operator -> {key: value}, not ${typeName(value)}`);
    return;
  }
  for (const [operator, block] of Object.entries(value)) {
    const operatorPath = childPath(path, operator);
    const parsed = parseOperator(operator);
    if (!parsed) {
      const base = operator.replace(/^(ForAnyValue|ForAllValues):/i, '').replace(/IfExists$/i, '');
      sink.add(
        'KMS121',
        operatorPath,
        `Unknown condition operator "${operator}"${didYouMean(closestName(base, CANONICAL_OPERATOR_NAMES))}`,
      );
    }
    if (parsed && parsed.canonical !== operator) {
      sink.add(
        'KMS123',
        operatorPath,
        `Condition operator "${operator}" is not written as IAM documents it ("${parsed.canonical}"); the guard compares operators as written, so the two spellings count as different policies`,
      );
    }
    if (!isPlainObject(block)) {
      sink.add('KMS120', operatorPath, `${operator} holds {condition key: value}, not ${typeName(block)}`);
      continue;
    }
    if (Object.keys(block).length === 0) {
      sink.add('KMS120', operatorPath, `${operator} names no condition key`);
    }
    for (const [key, values] of Object.entries(block)) {
      const keyPath = childPath(operatorPath, key);
      if (Array.isArray(values)) {
        if (values.length === 0) sink.add('KMS122', keyPath, `${key} has an empty list of values`);
        values.forEach((item, index) => {
          if (!isScalar(item)) {
            sink.add(
              'KMS122',
              childPath(keyPath, index),
              `Condition values are strings, numbers or booleans, not ${typeName(item)}`,
            );
          }
        });
      } else if (!isScalar(values)) {
        sink.add(
          'KMS122',
          keyPath,
          `Condition values are strings, numbers or booleans, not ${typeName(values)}`,
        );
      }
      const known = findConditionKey(key);
      if (!known) {
        sink.add(
          'KMS205',
          keyPath,
          `Neither KMS nor the global condition keys have "${key}", so this condition never matches${didYouMean(closestName(key, CONDITION_KEY_NAMES))}`,
        );
        continue;
      }
      if (parsed && parsed.family !== 'Null' && !FAMILIES_FOR_KEY_TYPE[known.type].includes(parsed.family)) {
        const fitting = FAMILIES_FOR_KEY_TYPE[known.type].join('/');
        sink.add(
          'KMS206',
          keyPath,
          `${key} is a ${known.type} key, but ${operator} is a ${parsed.family} operator; use a ${fitting} operator`,
        );
      }
    }
  }
}

function checkStatement(raw: unknown, index: number, path: JsonPath, ctx: StructureContext): void {
  const { sink } = ctx;
  if (!isPlainObject(raw)) {
    sink.add('KMS114', path, `A statement is an object, not ${typeName(raw)}`);
    return;
  }
  checkUnknownElements(raw, path, STATEMENT_ELEMENTS, 'statement', sink);
  const model: StatementModel = {
    index,
    path,
    principalKind: 'none',
    principals: [],
    actionKind: 'none',
    actions: [],
    hasCondition: false,
  };

  if ('Sid' in raw && typeof raw.Sid !== 'string') {
    sink.add('KMS112', childPath(path, 'Sid'), `Sid is a string, not ${typeName(raw.Sid)}`);
  }

  if (!('Effect' in raw)) sink.add('KMS105', path, 'Statement has no Effect (Allow or Deny)');
  else if (raw.Effect === 'Allow' || raw.Effect === 'Deny') model.effect = raw.Effect;
  else {
    const shown = typeof raw.Effect === 'string' ? `"${raw.Effect}"` : typeName(raw.Effect);
    const suggestion =
      typeof raw.Effect === 'string' ? closestName(raw.Effect, ['Allow', 'Deny']) : undefined;
    sink.add(
      'KMS106',
      childPath(path, 'Effect'),
      `Effect is "Allow" or "Deny", not ${shown}${didYouMean(suggestion)}`,
    );
  }

  const hasPrincipal = 'Principal' in raw;
  const hasNotPrincipal = 'NotPrincipal' in raw;
  if (hasPrincipal && hasNotPrincipal)
    sink.add('KMS108', path, 'Statement has both Principal and NotPrincipal');
  if (!hasPrincipal && !hasNotPrincipal) sink.add('KMS107', path, 'Statement has no Principal');
  if (hasPrincipal || hasNotPrincipal) {
    model.principalKind = hasPrincipal ? 'Principal' : 'NotPrincipal';
    model.principals = principalEntries(
      raw[model.principalKind],
      childPath(path, model.principalKind),
      model.principalKind,
      sink,
    );
  }

  const hasAction = 'Action' in raw;
  const hasNotAction = 'NotAction' in raw;
  if (hasAction && hasNotAction) sink.add('KMS108', path, 'Statement has both Action and NotAction');
  if (!hasAction && !hasNotAction) sink.add('KMS109', path, 'Statement has no Action, so it has no effect');
  if (hasAction || hasNotAction) {
    model.actionKind = hasAction ? 'Action' : 'NotAction';
    model.actions = stringList(
      raw[model.actionKind],
      childPath(path, model.actionKind),
      model.actionKind,
      sink,
    );
    for (const action of model.actions) checkAction(action, sink);
  }

  const hasResource = 'Resource' in raw;
  const hasNotResource = 'NotResource' in raw;
  if (hasResource && hasNotResource) sink.add('KMS108', path, 'Statement has both Resource and NotResource');
  if (!hasResource && !hasNotResource)
    sink.add('KMS110', path, 'Statement has no Resource, so it has no effect');
  if (hasNotResource) {
    sink.add('KMS104', childPath(path, 'NotResource'), 'A key policy uses "Resource": "*", not NotResource');
  }
  if (hasResource) {
    for (const resource of stringList(raw.Resource, childPath(path, 'Resource'), 'Resource', sink)) {
      if (resource.value !== '*') {
        sink.add('KMS104', resource.path, `Resource must be "*" in a key policy, not "${resource.value}"`);
      }
    }
  }

  if ('Condition' in raw) {
    checkCondition(raw.Condition, childPath(path, 'Condition'), sink);
    model.hasCondition = isPlainObject(raw.Condition) && Object.keys(raw.Condition).length > 0;
  }
  ctx.statements.push(model);
}

function checkDocument(document: Record<string, unknown>, ctx: StructureContext): void {
  const { sink } = ctx;
  checkUnknownElements(document, '$', DOCUMENT_ELEMENTS, 'document', sink);

  if (!('Version' in document)) {
    sink.add('KMS102', '$', `Version is missing; set "Version": "${SUPPORTED_VERSION}"`);
  } else if (document.Version !== SUPPORTED_VERSION) {
    const shown = typeof document.Version === 'string' ? `"${document.Version}"` : typeName(document.Version);
    sink.add('KMS103', '$.Version', `Version must be "${SUPPORTED_VERSION}", not ${shown}`);
  }
  if ('Id' in document && typeof document.Id !== 'string') {
    sink.add('KMS112', '$.Id', `Id is a string, not ${typeName(document.Id)}`);
  }

  if (!('Statement' in document)) {
    sink.add('KMS101', '$', 'Statement is missing; a key policy needs at least one statement');
    return;
  }
  const statement = document.Statement;
  if (Array.isArray(statement)) {
    if (statement.length === 0)
      sink.add('KMS101', '$.Statement', 'Statement is empty; a key policy needs at least one');
    statement.forEach((entry, index) => {
      checkStatement(entry, index, childPath('$.Statement', index), ctx);
    });
  } else if (isPlainObject(statement)) {
    checkStatement(statement, 0, '$.Statement', ctx);
  } else {
    sink.add('KMS112', '$.Statement', `Statement is a list of statements, not ${typeName(statement)}`);
  }

  const sidPaths = new Map<string, JsonPath>();
  const statements = Array.isArray(statement) ? statement : [statement];
  statements.forEach((entry, index) => {
    if (!isPlainObject(entry) || typeof entry.Sid !== 'string' || entry.Sid === '') return;
    const path = childPath(Array.isArray(statement) ? childPath('$.Statement', index) : '$.Statement', 'Sid');
    const first = sidPaths.get(entry.Sid);
    if (first) sink.add('KMS115', path, `Sid "${entry.Sid}" is also used at ${first}`);
    else sidPaths.set(entry.Sid, path);
  });
}

// ---------------------------------------------------------------------------------------------
// Security: who may do what

function accountOf(principal: string): string | undefined {
  if (ACCOUNT_ID.test(principal)) return principal;
  return IAM_ARN.exec(principal)?.[2];
}

function isAccountRoot(principal: string): boolean {
  return ACCOUNT_ID.test(principal) || /^arn:[a-z][a-z0-9-]*:iam::\d{12}:root$/.test(principal);
}

function isAnyone(principal: PrincipalEntry): boolean {
  return principal.value === '*' && (principal.type === '*' || principal.type === 'AWS');
}

function statementCoversAction(statement: StatementModel, action: string): boolean {
  if (statement.actionKind === 'none') return false;
  const matches = statement.actions.some((entry) => expandActionPattern(entry.value).includes(action));
  return statement.actionKind === 'Action' ? matches : !matches;
}

function grantsEverything(statement: StatementModel): boolean {
  return (
    statement.actionKind === 'Action' &&
    statement.actions.some((entry) => entry.value === '*' || entry.value.toLowerCase() === 'kms:*')
  );
}

/**
 * Does the statement's principal element name this principal? `viaAccountRoot`: a root (account)
 * principal also stands for the account's IAM principals (true for Deny, and for Allow through
 * IAM delegation).
 */
function principalNamedBy(entry: PrincipalEntry, principal: string, viaAccountRoot: boolean): boolean {
  if (isAnyone(entry)) return true;
  if (entry.type !== 'AWS') return false;
  if (entry.value === principal) return true;
  const sameAccountRoot = isAccountRoot(entry.value) && accountOf(entry.value) === accountOf(principal);
  // `111122223333` and `arn:aws:iam::111122223333:root` are the same principal.
  if (sameAccountRoot && isAccountRoot(principal)) return true;
  return viaAccountRoot && sameAccountRoot;
}

/**
 * Does the statement apply to this principal? `viaAccountRoot`: an account (root) principal also
 * stands for the account's IAM principals (always for Deny; for Allow through IAM delegation).
 */
function statementAppliesTo(statement: StatementModel, principal: string, viaAccountRoot: boolean): boolean {
  const named = statement.principals.some((entry) => principalNamedBy(entry, principal, viaAccountRoot));
  if (statement.principalKind === 'Principal') return named;
  if (statement.principalKind === 'NotPrincipal') return !named;
  return false;
}

/** Allowed by some Allow statement and not overridden by an unconditional Deny. */
function canCall(
  statements: readonly StatementModel[],
  principal: string,
  action: string,
  viaAccountRoot: boolean,
): boolean {
  const allowed = statements.some(
    (s) =>
      s.effect === 'Allow' &&
      statementCoversAction(s, action) &&
      statementAppliesTo(s, principal, viaAccountRoot),
  );
  const denied = statements.some(
    (s) =>
      s.effect === 'Deny' &&
      !s.hasCondition &&
      statementCoversAction(s, action) &&
      statementAppliesTo(s, principal, true),
  );
  return allowed && !denied;
}

/**
 * The key's own account: the option, else the account that appears most often among the policy's
 * AWS principals (the default key policy always names its own root). First seen wins a tie.
 */
function keyAccounts(statements: readonly StatementModel[], options: ValidateOptions): string[] {
  if (options.keyAccount) return [options.keyAccount];
  const counts = new Map<string, number>();
  for (const statement of statements) {
    for (const principal of statement.principals) {
      const account = principal.type === 'AWS' ? accountOf(principal.value) : undefined;
      if (account) counts.set(account, (counts.get(account) ?? 0) + 1);
    }
  }
  let best: string | undefined;
  let bestCount = 0;
  for (const [account, count] of counts) {
    if (count > bestCount) {
      best = account;
      bestCount = count;
    }
  }
  return best ? [best] : [];
}

function checkSecurity(
  statements: readonly StatementModel[],
  options: ValidateOptions,
  sink: FindingSink,
): void {
  const partition = options.partition ?? 'aws';
  const ownAccounts = keyAccounts(statements, options);
  const admins = options.adminPrincipals ?? [];
  const allowedAccounts = options.allowedAccounts ?? [];
  const isAdmin = (entry: PrincipalEntry): boolean =>
    entry.type === 'AWS' &&
    (admins.includes(entry.value) ||
      (isAccountRoot(entry.value) && ownAccounts.includes(accountOf(entry.value) ?? '')));

  for (const statement of statements) {
    if (statement.effect !== 'Allow' || statement.principalKind !== 'Principal') continue;
    const putKeyPolicy = statementCoversAction(statement, 'kms:PutKeyPolicy');
    for (const principal of statement.principals) {
      if (isAnyone(principal) && !statement.hasCondition) {
        sink.add(
          'KMS301',
          principal.path,
          'Principal * on an Allow without a Condition lets every identity in every AWS account use the key',
        );
      }
      const account = principal.type === 'AWS' ? accountOf(principal.value) : undefined;
      if (account && allowedAccounts.length > 0 && !allowedAccounts.includes(account)) {
        sink.add(
          'KMS302',
          principal.path,
          `Principal ${principal.value} belongs to account ${account}, which is not in the allowed accounts (${allowedAccounts.join(', ')})`,
        );
      }
      if (grantsEverything(statement) && !isAdmin(principal)) {
        sink.add(
          'KMS303',
          principal.path,
          `${principal.value} is given every KMS action (kms:*) but is neither the key account root nor a named administrator`,
        );
      }
      const crossAccount = account !== undefined && ownAccounts.length > 0 && !ownAccounts.includes(account);
      if (putKeyPolicy && (isAnyone(principal) || crossAccount)) {
        sink.add(
          'KMS304',
          principal.path,
          `${isAnyone(principal) ? 'Anyone (*)' : `${principal.value} (another account)`} may call kms:PutKeyPolicy, i.e. replace this key policy and take the key over`,
        );
      }
    }
  }

  const named = [...ownAccounts.map((account) => `arn:${partition}:iam::${account}:root`), ...admins];
  // With no account and no administrator known, only a grant to anyone (*) is known to reach the root.
  const keepers = named.length > 0 ? named : ['*'];
  if (!keepers.some((principal) => canCall(statements, principal, 'kms:PutKeyPolicy', false))) {
    const whom = named.length > 0 ? ` (${named.join(', ')})` : '';
    sink.add(
      'KMS305',
      '$.Statement',
      `Lockout risk: no Allow statement keeps the account root or a named administrator${whom} able to call kms:PutKeyPolicy; the key could become unmanageable`,
    );
  }

  if (options.mode === 'remediate' && options.guardPrincipal) {
    const guard = options.guardPrincipal;
    const missing = ['kms:GetKeyPolicy', 'kms:PutKeyPolicy'].filter(
      (action) => !canCall(statements, guard, action, true),
    );
    if (missing.length > 0) {
      sink.add(
        'KMS306',
        '$.Statement',
        `In remediate mode the guard (${guard}) must be able to call ${missing.join(' and ')}, but this policy does not allow it (directly or through its account root)`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Validates a KMS key policy given as JSON text or as an in-memory value. Never throws.
 * `valid` is false when any finding is an error; warnings leave it valid.
 */
export function validatePolicy(input: string | unknown, options: ValidateOptions = {}): ValidationResult {
  const sink = createSink();
  let document: unknown;
  let haveDocument = false;
  let byteLength = 0;

  if (typeof input === 'string') {
    byteLength = utf8ByteLength(input);
    const parsed = readJsonText(input);
    checkTextCharacters(input, parsed.strings, sink);
    for (const duplicate of parsed.duplicates) {
      sink.add(
        'KMS006',
        duplicate.path,
        `"${duplicate.key}" appears twice in this object; only the last value counts`,
      );
    }
    if (parsed.error) {
      sink.add('KMS001', '$', `Not JSON: ${parsed.error.message}`);
    } else {
      document = parsed.value;
      haveDocument = true;
    }
  } else {
    const representable = checkInMemoryValue(input, sink);
    if (representable) {
      byteLength = utf8ByteLength(JSON.stringify(input) ?? '');
      document = input;
      haveDocument = true;
    }
  }

  if (byteLength > MAX_POLICY_BYTES) {
    sink.add(
      'KMS003',
      '$',
      `The document is ${byteLength} bytes (UTF-8); KMS accepts at most ${MAX_POLICY_BYTES}`,
    );
  }

  if (haveDocument) {
    if (isPlainObject(document)) {
      const ctx: StructureContext = { sink, statements: [] };
      checkDocument(document, ctx);
      checkSecurity(ctx.statements, options, sink);
    } else {
      sink.add('KMS002', '$', `A key policy is a JSON object, not ${typeName(document)}`);
    }
  }

  const findings = [...sink.findings].sort(compareFindings);
  return { valid: findings.every((finding) => finding.level !== 'error'), findings, byteLength };
}

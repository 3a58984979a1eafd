/**
 * normalizePolicy: a parsed document -> its canonical form (docs/architecture.md#comparing-two-key-policies), in which two documents
 * that AWS would treat the same look the same. Idempotent: normalizing a normalized document
 * (via normalizedToDocument) changes nothing.
 */

import { keyArnParts, resourceNamesKey, resourcesCanNameKey } from './key-arn';
import type {
  ConditionBlock,
  ConditionValue,
  NormalizeContext,
  NormalizedCondition,
  NormalizedPolicy,
  NormalizedStatement,
  PolicyDocument,
  PolicyStatement,
  PrincipalValue,
} from './types';

/** Everyone: both `"Principal": "*"` and `{"AWS": "*"}`. */
export const ANYONE = '*';

/**
 * When a statement carries both halves of a pair (Principal and NotPrincipal, …) KMS rejects or
 * ignores it; validatePolicy reports that (KMS108). We keep the second half, marked with this prefix, so that a
 * change to it is still drift instead of being dropped silently.
 */
export const SECONDARY_PREFIX = '!';

const ACCOUNT_ID = /^\d{12}$/;

/** IAM unique IDs (AROA…, AIDA…, …): what KMS shows in place of the ARN of a deleted role or user. */
const UNIQUE_ID = /^A(?:RO|ID|GP|NP|NV|SI|CC|IP|KI|SC|PK)A[A-Z0-9]{16,17}$/;

/** True for a canonical principal (`AWS:AROA…`) that is an IAM unique ID rather than an ARN. */
export function isUniqueIdPrincipal(principal: string): boolean {
  // Cheap checks first: this runs for every principal of every compare. 65 is 'A'.
  if (principal.length < 24 || principal.length > 25 || principal.charCodeAt(4) !== 65) return false;
  return principal.startsWith('AWS:') && UNIQUE_ID.test(principal.slice(4));
}

type ValueType = 'bool' | 'numeric' | 'string-ignore-case' | 'string';

const valueTypeCache = new Map<string, ValueType>();

/**
 * How an operator compares its values. Operator names are matched exactly as written: AWS documents
 * context key names as case-insensitive but lists operators by exact name only, so a differently
 * spelt operator is a different operator (and validatePolicy flags it: KMS123).
 */
export function operatorValueType(operator: string): ValueType {
  const cached = valueTypeCache.get(operator);
  if (cached) return cached;
  let base = operator;
  if (base.startsWith('ForAllValues:')) base = base.slice('ForAllValues:'.length);
  else if (base.startsWith('ForAnyValue:')) base = base.slice('ForAnyValue:'.length);
  if (base.endsWith('IfExists')) base = base.slice(0, -'IfExists'.length);
  let type: ValueType = 'string';
  if (base === 'Bool' || base === 'Null') type = 'bool';
  else if (base.startsWith('Numeric')) type = 'numeric';
  else if (base === 'StringEqualsIgnoreCase' || base === 'StringNotEqualsIgnoreCase')
    type = 'string-ignore-case';
  valueTypeCache.set(operator, type);
  return type;
}

const NUMERIC_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** One condition value as a canonical string for the operator's type (`true` = `"true"`, `1.0` = `"1"`). */
export function canonicalConditionValue(value: ConditionValue, type: ValueType): string {
  switch (type) {
    case 'numeric': {
      if (typeof value === 'number') return String(value);
      if (typeof value === 'string' && NUMERIC_TEXT.test(value.trim())) return String(Number(value.trim()));
      return String(value);
    }
    case 'string-ignore-case':
      return String(value).toLowerCase();
    default:
      return String(value);
  }
}

function asList<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function lowerCased(names: string | string[] | undefined): string[] {
  if (names === undefined) return [];
  return typeof names === 'string' ? [names.toLowerCase()] : names.map((name) => name.toLowerCase());
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Sorted copy without duplicates. */
function sortedUnique(values: string[]): string[] {
  return sortUniqueInPlace(values.slice());
}

/**
 * Sorts an array this module owns and drops neighbouring duplicates (cheaper than a Set for the
 * short lists of a policy). Already sorted, unique lists are left as they are.
 */
function sortUniqueInPlace(sorted: string[]): string[] {
  if (sorted.length < 2) return sorted;
  let ordered = true;
  for (let i = 1; i < sorted.length && ordered; i++)
    ordered = (sorted[i - 1] as string) < (sorted[i] as string);
  if (ordered) return sorted;
  sorted.sort(byCodeUnits);
  let write = 1;
  for (let read = 1; read < sorted.length; read++) {
    const value = sorted[read] as string;
    if (value !== sorted[write - 1]) sorted[write++] = value;
  }
  if (write < sorted.length) sorted.length = write;
  return sorted;
}

/** `<type>:<id>` canonical principals; `*` for everyone; account IDs become account-root ARNs. */
function canonicalPrincipals(principal: PrincipalValue | undefined, partition: string): string[] {
  if (principal === undefined) return [];
  if (principal === '*') return [ANYONE];
  const out: string[] = [];
  for (const type in principal) {
    const ids = principal[type];
    if (ids === undefined) continue;
    const list = typeof ids === 'string' ? [ids] : ids;
    for (const id of list) {
      if (type === 'AWS') {
        if (id === '*') out.push(ANYONE);
        else if (id.length === 12 && ACCOUNT_ID.test(id)) out.push(`AWS:arn:${partition}:iam::${id}:root`);
        else out.push(`AWS:${id}`);
      } else out.push(`${type}:${id}`);
    }
  }
  return sortUniqueInPlace(out);
}

function canonicalConditions(block: ConditionBlock | undefined): NormalizedCondition[] {
  if (block === undefined) return [];
  const conditions: NormalizedCondition[] = [];
  for (const operator in block) {
    const keys = block[operator];
    if (keys === undefined) continue;
    const type = operatorValueType(operator);
    for (const key in keys) {
      const values = keys[key];
      if (values === undefined) continue;
      const canonical = Array.isArray(values)
        ? values.map((value) => canonicalConditionValue(value, type))
        : [canonicalConditionValue(values, type)];
      conditions.push({ operator, key: key.toLowerCase(), values: sortUniqueInPlace(canonical) });
    }
  }
  if (conditions.length < 2) return conditions;
  conditions.sort(compareConditions);
  // The same operator and key written twice (differing only in key case) with the same values is one test.
  return conditions.filter(
    (condition, index) => index === 0 || !sameCondition(condition, conditions[index - 1]),
  );
}

function sameCondition(a: NormalizedCondition, b: NormalizedCondition | undefined): boolean {
  if (!b || a.operator !== b.operator || a.key !== b.key || a.values.length !== b.values.length) return false;
  return a.values.every((value, index) => value === b.values[index]);
}

function compareConditions(a: NormalizedCondition, b: NormalizedCondition): number {
  if (a.operator !== b.operator) return a.operator < b.operator ? -1 : 1;
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  const av = a.values.join('\u0001');
  const bv = b.values.join('\u0001');
  return av < bv ? -1 : av > bv ? 1 : 0;
}

/** A canonical string for one condition: `Operator key=[v1,v2]`, JSON-quoted so it cannot collide. */
export function conditionKey(condition: NormalizedCondition | undefined): string {
  if (!condition) return '';
  return `${condition.operator} ${condition.key}=${JSON.stringify(condition.values)}`;
}

function pairKind<P extends 'Principal' | 'Action' | 'Resource'>(
  statement: PolicyStatement,
  positive: P,
): P | `Not${P}` | 'none' {
  const negative: `Not${P}` = `Not${positive}`;
  if (statement[positive] !== undefined) return positive;
  if (statement[negative] !== undefined) return negative;
  return 'none';
}

/** `Resource` values that name the key itself mean `"*"` (docs/architecture.md#comparing-two-key-policies). */
function keyResourcesAsAny(resources: string[], keyArn: string | undefined): string[] {
  if (keyArn === undefined || resources.every((resource) => resource === '*')) return resources;
  return sortUniqueInPlace(
    resources.map((resource) => (resourceNamesKey(resource, keyArn) ? '*' : resource)),
  );
}

/**
 * Whether a statement can grant or deny anything on the key (docs/architecture.md#comparing-two-key-policies):
 * false when its `Resource` names no key that can be this one (an S3 bucket, another key), as
 * validate reads it (KMS104). `keyArn` is the policy's (NormalizedPolicy.keyArn): with it, the
 * values that name the key are already `*`. NotResource, both halves of the pair and no resource
 * at all count as applying: they stay statements to compare.
 */
export function grantsOnKey(statement: NormalizedStatement, keyArn: string | undefined): boolean {
  if (statement.resourceKind !== 'Resource') return true;
  const { resources } = statement;
  if (resources[0] === ANYONE) return true;
  if (resources.some((resource) => resource.startsWith(SECONDARY_PREFIX))) return true;
  return resourcesCanNameKey(resources, keyArn);
}

export function normalizeStatement(
  statement: PolicyStatement,
  index: number,
  partition: string,
  keyArn?: string,
): NormalizedStatement {
  const principal = pairKind(statement, 'Principal');
  const action = pairKind(statement, 'Action');
  const resource = pairKind(statement, 'Resource');

  let principals = canonicalPrincipals(statement.Principal ?? statement.NotPrincipal, partition);
  let actions = sortUniqueInPlace(lowerCased(statement.Action ?? statement.NotAction));
  let resources = sortedUnique(asList(statement.Resource ?? statement.NotResource));
  if (statement.Resource !== undefined) resources = keyResourcesAsAny(resources, keyArn);
  if (statement.Principal !== undefined && statement.NotPrincipal !== undefined) {
    const secondary = canonicalPrincipals(statement.NotPrincipal, partition);
    principals = principals.concat(secondary.map((value) => SECONDARY_PREFIX + value));
  }
  if (statement.Action !== undefined && statement.NotAction !== undefined) {
    const secondary = sortUniqueInPlace(lowerCased(statement.NotAction));
    actions = actions.concat(secondary.map((value) => SECONDARY_PREFIX + value));
  }
  if (statement.Resource !== undefined && statement.NotResource !== undefined) {
    resources = resources.concat(
      sortedUnique(asList(statement.NotResource)).map((value) => SECONDARY_PREFIX + value),
    );
  }

  const normalized: NormalizedStatement = {
    effect: statement.Effect,
    principalKind: principal,
    principals,
    actionKind: action,
    actions,
    resourceKind: resource,
    resources,
    conditions: canonicalConditions(statement.Condition),
    index,
  };
  if (statement.Sid !== undefined) normalized.sid = statement.Sid;
  return normalized;
}

/** The canonical form of a parsed document. `ctx.partition` (default `aws`) is used for account-ID principals. */
export function normalizePolicy(doc: PolicyDocument, ctx?: NormalizeContext): NormalizedPolicy {
  const partition = ctx?.partition ?? 'aws';
  const keyArn = ctx?.keyArn !== undefined && keyArnParts(ctx.keyArn) ? ctx.keyArn : undefined;
  const normalized: NormalizedPolicy = {
    statements: doc.Statement.map((statement, index) =>
      normalizeStatement(statement, index, partition, keyArn),
    ),
  };
  if (doc.Version !== undefined) normalized.version = doc.Version;
  if (doc.Id !== undefined) normalized.id = doc.Id;
  if (keyArn !== undefined) normalized.keyArn = keyArn;
  const keyAccount = ctx?.keyAccount ?? (keyArn === undefined ? undefined : keyArnParts(keyArn)?.account);
  if (keyAccount !== undefined) normalized.keyAccount = keyAccount;
  return normalized;
}

/**
 * The canonical identity of a statement: everything AWS evaluates, nothing cosmetic (no Sid, no index).
 * Two statements grant the same access exactly when their keys are equal.
 */
export function statementKey(statement: NormalizedStatement): string {
  // One join builds a flat string: Map lookups hash it once, without flattening a rope of concatenations.
  const parts: string[] = [
    statement.effect,
    statement.principalKind,
    statement.principals.join('\u0001'),
    statement.actionKind,
    statement.actions.join('\u0001'),
    statement.resourceKind,
    statement.resources.join('\u0001'),
  ];
  for (const condition of statement.conditions) {
    parts.push(`${condition.operator}\u0002${condition.key}\u0002${condition.values.join('\u0001')}`);
  }
  return parts.join('\u0000');
}

function splitPrincipals(principals: string[]): PrincipalValue {
  if (principals.length === 1 && principals[0] === ANYONE) return '*';
  const byType: Record<string, string[]> = {};
  for (const principal of principals) {
    const colon = principal.indexOf(':');
    const type = principal === ANYONE ? 'AWS' : principal.slice(0, colon);
    const id = principal === ANYONE ? '*' : principal.slice(colon + 1);
    const ids = byType[type];
    if (ids) ids.push(id);
    else byType[type] = [id];
  }
  return byType;
}

function splitSecondary(values: string[]): { primary: string[]; secondary: string[] } {
  const primary: string[] = [];
  const secondary: string[] = [];
  for (const value of values) {
    if (value.startsWith(SECONDARY_PREFIX)) secondary.push(value.slice(SECONDARY_PREFIX.length));
    else primary.push(value);
  }
  return { primary, secondary };
}

/**
 * Keys are case-insensitive, so one operator can test the same key twice (`kms:ViaService` and
 * `kms:viaservice`); writing both back needs two spellings of the same key.
 */
function unusedSpelling(keys: Record<string, unknown>, key: string): string {
  if (!(key in keys)) return key;
  for (let length = 1; length <= key.length; length++) {
    const variant = key.slice(0, length).toUpperCase() + key.slice(length);
    if (!(variant in keys)) return variant;
  }
  return key;
}

/** Writes a normalized policy back as a document (for display and for proving idempotence). */
export function normalizedToDocument(policy: NormalizedPolicy): PolicyDocument {
  const doc: PolicyDocument = {
    Statement: policy.statements.map((statement) => {
      const out: PolicyStatement = { Effect: statement.effect };
      if (statement.sid !== undefined) out.Sid = statement.sid;
      const principals = splitSecondary(statement.principals);
      if (statement.principalKind !== 'none') {
        out[statement.principalKind] = splitPrincipals(principals.primary);
        if (principals.secondary.length > 0) out.NotPrincipal = splitPrincipals(principals.secondary);
      }
      const actions = splitSecondary(statement.actions);
      if (statement.actionKind !== 'none') {
        out[statement.actionKind] = actions.primary;
        if (actions.secondary.length > 0) out.NotAction = actions.secondary;
      }
      const resources = splitSecondary(statement.resources);
      if (statement.resourceKind !== 'none') {
        out[statement.resourceKind] = resources.primary;
        if (resources.secondary.length > 0) out.NotResource = resources.secondary;
      }
      if (statement.conditions.length > 0) {
        const block: ConditionBlock = {};
        for (const condition of statement.conditions) {
          const keys = block[condition.operator] ?? {};
          block[condition.operator] = keys;
          keys[unusedSpelling(keys, condition.key)] = condition.values;
        }
        out.Condition = block;
      }
      return out;
    }),
  };
  if (policy.version !== undefined) doc.Version = policy.version;
  if (policy.id !== undefined) doc.Id = policy.id;
  return doc;
}

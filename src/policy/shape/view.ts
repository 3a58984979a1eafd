/**
 * Located reading of a checked shape for the validation rules: the strings of an element, the
 * principals by type, the condition operators and keys, each with its JSON path. A part of the
 * wrong JSON type is skipped here: it is a shape issue, reported once, by checkShape.
 */
import { PRINCIPAL_TYPES } from '../grammar';
import { childPath } from '../json/path';
import { isRecord } from '../json/value';
import type { JsonPath } from '../types';
import type { StatementAt } from './check';

export interface LocatedString {
  value: string;
  path: JsonPath;
}

const KNOWN_PRINCIPAL_TYPES: ReadonlySet<string> = new Set(PRINCIPAL_TYPES);

/** True when the statement has the element (an element set to undefined in memory is absent, as in JSON). */
export function hasElement(statement: StatementAt, name: string): boolean {
  return statement.raw[name] !== undefined;
}

export function elementPath(statement: StatementAt, name: string): JsonPath {
  return childPath(statement.path, name);
}

/** The strings of a value that is a string or a list of strings. */
export function stringEntries(value: unknown, path: JsonPath): LocatedString[] {
  if (typeof value === 'string') return [{ value, path }];
  if (!Array.isArray(value)) return [];
  const entries: LocatedString[] = [];
  value.forEach((item: unknown, index) => {
    if (typeof item === 'string') entries.push({ value: item, path: childPath(path, index) });
  });
  return entries;
}

/** The strings of a statement's element (`Action`, `Resource`, …), none when it is absent. */
export function elementStrings(statement: StatementAt, name: string): LocatedString[] {
  const value = statement.raw[name];
  return value === undefined ? [] : stringEntries(value, elementPath(statement, name));
}

/** One principal type of a `Principal`/`NotPrincipal` object (`AWS`, `Service`, or a misspelt one). */
export interface PrincipalTypeAt {
  type: string;
  /** One of the grammar's principal types (AWS, Service, Federated, CanonicalUser). */
  known: boolean;
  path: JsonPath;
  value: unknown;
  ids: LocatedString[];
}

/** The types of a principal object; none for `"*"` or a value that is no object. */
export function principalTypes(value: unknown, path: JsonPath): PrincipalTypeAt[] {
  if (!isRecord(value)) return [];
  return Object.entries(value).map(([type, ids]) => {
    const typePath = childPath(path, type);
    return {
      type,
      known: KNOWN_PRINCIPAL_TYPES.has(type),
      path: typePath,
      value: ids,
      ids: stringEntries(ids, typePath),
    };
  });
}

export interface ConditionOperatorAt {
  operator: string;
  path: JsonPath;
  /** `{condition key: value(s)}` when the operator holds an object. */
  keys?: Record<string, unknown>;
}

/** The operators of the statement's Condition, in order; none when Condition is absent or no object. */
export function conditionOperators(statement: StatementAt): ConditionOperatorAt[] {
  const condition = statement.raw.Condition;
  if (!isRecord(condition)) return [];
  const conditionPath = elementPath(statement, 'Condition');
  return Object.entries(condition).map(([operator, block]) => ({
    operator,
    path: childPath(conditionPath, operator),
    ...(isRecord(block) ? { keys: block } : {}),
  }));
}

export interface ConditionKeyAt {
  operator: string;
  key: string;
  path: JsonPath;
  values: unknown;
}

/** Every condition key of the statement under an operator that holds an object. */
export function conditionKeys(statement: StatementAt): ConditionKeyAt[] {
  return conditionOperators(statement).flatMap(({ operator, path, keys }) =>
    Object.entries(keys ?? {}).map(([key, values]) => ({
      operator,
      key,
      path: childPath(path, key),
      values,
    })),
  );
}

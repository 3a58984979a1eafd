/**
 * The in-memory side of the JSON front end (docs/architecture.md#reading-a-key-policy): is a value
 * a caller hands over (not text) a JSON value at all, and which strings does it hold? Functions,
 * undefined, NaN, cycles and class instances have no JSON form; each is a fault with its path.
 */
import type { JsonPath } from '../types';
import { childPath } from './path';
import { MAX_JSON_NESTING } from './text';

export interface JsonValueFault {
  path: JsonPath;
  message: string;
}

/** A string of the value: a member name (`isName`) or a string value, with its path. */
export interface JsonValueString {
  text: string;
  path: JsonPath;
  isName: boolean;
}

export interface JsonValueInspection {
  /** Empty when the value has a JSON form. */
  faults: JsonValueFault[];
  strings: JsonValueString[];
}

/** A JSON object (not an array, not null). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A plain object: what JSON.parse makes (no class instance, no Map, no Date). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Walks an in-memory value as JSON.stringify would, collecting its strings and why it is not JSON. */
export function inspectJsonValue(input: unknown): JsonValueInspection {
  const faults: JsonValueFault[] = [];
  const strings: JsonValueString[] = [];
  const ancestors = new Set<unknown>();
  const visit = (value: unknown, path: JsonPath, depth: number): void => {
    if (value === null || typeof value === 'boolean') return;
    if (typeof value === 'string') {
      strings.push({ text: value, path, isName: false });
      return;
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) faults.push({ path, message: `${value} has no JSON form` });
      return;
    }
    if (typeof value !== 'object') {
      faults.push({ path, message: `A value of type ${typeof value} has no JSON form` });
      return;
    }
    if (ancestors.has(value)) {
      faults.push({ path, message: 'The value refers to itself (a cycle); JSON cannot hold it' });
      return;
    }
    if (depth > MAX_JSON_NESTING) {
      faults.push({ path, message: `Nesting deeper than ${MAX_JSON_NESTING} levels` });
      return;
    }
    if (!Array.isArray(value) && !isPlainObject(value)) {
      faults.push({ path, message: 'A class instance (not a plain object or array) is not a JSON value' });
      return;
    }
    ancestors.add(value);
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        visit(item, childPath(path, index), depth + 1);
      });
    } else {
      for (const [key, item] of Object.entries(value)) {
        const itemPath = childPath(path, key);
        strings.push({ text: key, path: itemPath, isName: true });
        visit(item, itemPath, depth + 1);
      }
    }
    ancestors.delete(value);
  };
  visit(input, '$', 0);
  return { faults, strings };
}

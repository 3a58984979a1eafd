/**
 * The one JSON-path syntax of every message, finding and issue (docs/architecture.md#reading-a-key-policy):
 * `$.Statement[0].Condition.StringEquals.kms:ViaService`. A name goes in brackets, `['a.b']`, only
 * when it is empty or holds `.`, `[`, `]`, `'` or white space, so that every path reads back to one place.
 */
import type { JsonPath } from '../types';

const NEEDS_BRACKETS = /[.[\]'\s]/;

/** The path of a member (`key` a name) or an element (`key` an index) of the value at `parent`. */
export function childPath(parent: JsonPath, key: string | number): JsonPath {
  if (typeof key === 'number') return `${parent}[${key}]`;
  if (key !== '' && !NEEDS_BRACKETS.test(key)) return `${parent}.${key}`;
  return `${parent}['${key.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
}

/**
 * Words that the shape checker and the validation rules share, where one problem has a wrong-type
 * case (a shape issue: parsePolicy fails) and a wrong-value case (a rule finding): both read alike.
 */
import { didYouMean } from '../suggest';

/** The only `Version` a key policy should have (the 2008 grammar lacks policy variables). */
export const SUPPORTED_VERSION = '2012-10-17';

/** `a string`, `a list`, `an object`, `null`: how messages name the JSON type of a value. */
export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** A string quoted, anything else by its type: `"allow"`, `a boolean`. */
function shown(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : typeName(value);
}

/** KMS103, for a Version of the wrong type or value. */
export function versionMessage(value: unknown): string {
  return `Version must be "${SUPPORTED_VERSION}", not ${shown(value)}`;
}

/** KMS106, for an Effect of the wrong type or value. */
export function effectMessage(value: unknown, suggestion?: string): string {
  return `Effect is "Allow" or "Deny", not ${shown(value)}${didYouMean(suggestion)}`;
}

/** KMS113, for a principal type whose value is neither a string nor a non-empty list. */
export function principalListMessage(type: string): string {
  return `${type} is a principal string or a non-empty list of them`;
}

/**
 * parsePolicy: text (or an already-parsed value) -> PolicyDocument with its shapes checked
 * (docs/architecture.md#reading-a-key-policy). Never throws: every failure is a ParseIssue with a
 * JSON path, worded as validatePolicy words the same problem. Only shapes are checked here; whether
 * the values make sense for KMS is for validate's rules.
 */
import { readJsonText } from './json/reader';
import { utf8ByteLength } from './json/text';
import { inspectJsonValue } from './json/value';
import { checkShape, type ShapeIssue } from './shape/check';
import type { ParseIssue, ParseResult } from './types';

// index.ts re-exports this module: these names stay importable from here.
export { lineAndColumn, utf8ByteLength } from './json/text';

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

function parseIssues(issues: readonly ShapeIssue[]): ParseIssue[] {
  return issues.map(({ path, message }) => ({ path, message }));
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
  let value: unknown = input;
  let byteLength = 0;
  if (typeof input === 'string') {
    if (measureBytes) byteLength = utf8ByteLength(input);
    // JSON.parse is the fast path; the JSON reader explains a failure.
    try {
      value = JSON.parse(input);
    } catch (error: unknown) {
      return { ok: false, issues: [jsonSyntaxIssue(input, error)] };
    }
  } else if (measureBytes) {
    let text: string | undefined;
    try {
      text = JSON.stringify(input);
    } catch (error: unknown) {
      return { ok: false, issues: notJsonValueIssues(input, error) };
    }
    byteLength = text === undefined ? 0 : utf8ByteLength(text);
  }
  const shape = checkShape(value);
  if (!shape.document) return { ok: false, issues: parseIssues(shape.issues) };
  return {
    ok: true,
    document: shape.document,
    unknownElements: parseIssues(shape.unknownElements),
    byteLength,
  };
}

/**
 * validatePolicy: is this a KMS key policy, and is it a safe one? (docs/architecture.md#validating-a-key-policy)
 *
 * The JSON front end reads the input (docs/architecture.md#reading-a-key-policy): text with the
 * JSON reader, because validate reports what JSON.parse does not tell (characters with their line
 * and column, duplicate names); an in-memory value with the JSON-value check. The shape checker
 * then checks the document as parsePolicy does, and every rule of rules/ runs once, each reporting
 * under its own catalogue code, at the level catalogue.ts gives it. Pure: no I/O, never throws.
 */
import { type RuleCode, ruleLevel } from './catalogue';
import { readJsonText } from './json/reader';
import { utf8ByteLength } from './json/text';
import { inspectJsonValue } from './json/value';
import { VALIDATION_RULES } from './rules';
import type { PolicySource, RuleContext, RuleSink } from './rules/rule';
import { checkShape } from './shape/check';
import type { JsonPath, ValidateOptions, ValidationFinding, ValidationResult } from './types';

// index.ts re-exports this module: these names stay importable from here.
export { childPath } from './json/path';
export { describeJsonSyntaxError, type JsonSyntaxError } from './json/reader';
export { MAX_POLICY_BYTES } from './rules/format';
export { closestName } from './suggest';

interface ReadInput {
  source: PolicySource;
  byteLength: number;
  /** The JSON value, when there is one: the text is JSON, or the in-memory value has a JSON form. */
  json?: { value: unknown };
}

function readInput(input: unknown): ReadInput {
  if (typeof input === 'string') {
    const read = readJsonText(input);
    return {
      source: { kind: 'text', text: input, read },
      byteLength: utf8ByteLength(input),
      ...(read.error ? {} : { json: { value: read.value } }),
    };
  }
  const inspection = inspectJsonValue(input);
  const source: PolicySource = { kind: 'value', inspection };
  if (inspection.faults.length > 0) return { source, byteLength: 0 };
  return { source, byteLength: utf8ByteLength(JSON.stringify(input) ?? ''), json: { value: input } };
}

function sinkFor(code: RuleCode, ctx: RuleContext, findings: ValidationFinding[]): RuleSink {
  const level = ruleLevel(code);
  const add = (path: JsonPath, message: string): void => {
    findings.push({ code, level, path, message });
  };
  return {
    add,
    addShapeIssues() {
      for (const issue of [...(ctx.shape?.issues ?? []), ...(ctx.shape?.unknownElements ?? [])]) {
        if (issue.code === code) add(issue.path, issue.message);
      }
    },
  };
}

/**
 * Made on the first sort, not at module load: a collator loads ICU's collation data (several ms), and a
 * Lambda function loads this module on every cold start, then validates clean documents that need no sort.
 */
let pathCollator: Intl.Collator | undefined;

/** Errors first, then by path (numeric-aware: Statement[2] before Statement[10]), then code. */
function compareFindings(a: ValidationFinding, b: ValidationFinding): number {
  if (a.level !== b.level) return a.level === 'error' ? -1 : 1;
  pathCollator ??= new Intl.Collator('en', { numeric: true });
  return (
    pathCollator.compare(a.path, b.path) || a.code.localeCompare(b.code) || a.message.localeCompare(b.message)
  );
}

/**
 * Validates a KMS key policy given as JSON text or as an in-memory value. Never throws.
 * `valid` is false when any finding is an error; warnings leave it valid.
 */
export function validatePolicy(input: string | unknown, options: ValidateOptions = {}): ValidationResult {
  const { source, byteLength, json } = readInput(input);
  const ctx: RuleContext = {
    source,
    byteLength,
    options,
    ...(json ? { shape: checkShape(json.value) } : {}),
  };
  const findings: ValidationFinding[] = [];
  for (const rule of VALIDATION_RULES) rule.check(ctx, sinkFor(rule.code, ctx, findings));
  findings.sort(compareFindings);
  return { valid: findings.every((finding) => finding.level !== 'error'), findings, byteLength };
}

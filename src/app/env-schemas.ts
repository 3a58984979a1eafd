/**
 * The building blocks of the environment schemas of src/app/config.ts: every value optional as zod sees it, each
 * check with the message the function's init fails with.
 */
import * as z from '../core/zod';

/** An optional comma-separated list whose every item matches `pattern` (empty: unset). */
export function commaSeparated(name: string, pattern: RegExp, what: string) {
  return z
    .optional(z.string())
    .check(
      z.refine(
        (raw) =>
          raw === undefined || raw.trim() === '' || raw.split(',').every((item) => pattern.test(item.trim())),
        { error: (issue) => `${name} must be comma-separated ${what}, got ${JSON.stringify(issue.input)}` },
      ),
    );
}

/** An optional `true` | `false` (empty: unset). */
export function trueOrFalse(name: string) {
  return z.optional(z.string()).check(
    z.refine((raw) => raw === undefined || raw === '' || raw === 'true' || raw === 'false', {
      error: (issue) => `${name} must be 'true' or 'false', got ${JSON.stringify(issue.input)}`,
    }),
  );
}

export const optionalText = z.pipe(
  z.optional(z.string()),
  z.transform((value: string | undefined) => (value === undefined || value === '' ? undefined : value)),
);

/** A Lambda function ARN, unqualified (what a rule's target and GetAtt Arn are). */
const FUNCTION_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}$/;
/** A function name as Lambda accepts it (the unqualified name, not an ARN). */
export const FUNCTION_NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function required(name: string, what: string) {
  return z
    .optional(z.string())
    .check(
      z.refine((value) => value !== undefined && value !== '', { error: `${name} is not set (${what})` }),
    );
}

export function functionArn(name: string, what: string, optional = false) {
  return z.optional(z.string()).check(
    z.refine(
      (value) => (optional && (value === undefined || value === '')) || FUNCTION_ARN.test(value ?? ''),
      {
        error: (issue) =>
          `${name} must be the ARN of ${what} (arn:aws:lambda:<region>:<account>:function:<name>), got ${JSON.stringify(issue.input ?? null)}`,
      },
    ),
  );
}

export const positiveInt = (name: string, max: number) =>
  z.optional(z.string()).check(
    z.refine(
      (raw) =>
        raw === undefined || raw === '' || (/^\d+$/.test(raw) && Number(raw) >= 1 && Number(raw) <= max),
      {
        error: (issue) => `${name} must be an integer from 1 to ${max}, got ${JSON.stringify(issue.input)}`,
      },
    ),
  );

/** Reading the files a command names, with failures a person can act on. */
import { readFile } from 'node:fs/promises';

export type ReadOutcome = { ok: true; text: string } | { ok: false; reason: string };

/** `ENOENT: no such file or directory` (Node's message without the repeated path). */
export function osErrorReason(error: unknown): string {
  // Duck-typed: errors from another realm (Jest's sandbox) are not `instanceof Error`.
  const message = typeof error === 'object' && error !== null ? Reflect.get(error, 'message') : undefined;
  if (typeof message !== 'string') return String(error);
  return message.replace(/, \w+ '.*'$/s, '');
}

/**
 * Reads a file as UTF-8 without dropping a byte order mark or repairing bad bytes silently: KMS
 * would reject both, so validation must see them (a bad byte becomes U+FFFD, which it reports).
 */
export async function readTextFile(path: string): Promise<ReadOutcome> {
  try {
    const bytes = await readFile(path);
    return { ok: true, text: new TextDecoder('utf-8', { ignoreBOM: true }).decode(bytes) };
  } catch (error) {
    return { ok: false, reason: osErrorReason(error) };
  }
}

/**
 * `aws kms get-key-policy` prints `{"Policy": "<the policy as a string>", "PolicyName": "default"}`
 * unless told `--query Policy --output text`. For exactly that shape (those two names, a string
 * Policy, PolicyName `default`) this returns the Policy string; for anything else, undefined, and
 * the text is read as the policy itself.
 */
export function unwrapGetKeyPolicyOutput(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const names = Object.keys(value);
  if (names.length !== 2) return undefined;
  const policy: unknown = Reflect.get(value, 'Policy');
  const policyName: unknown = Reflect.get(value, 'PolicyName');
  return typeof policy === 'string' && policyName === 'default' ? policy : undefined;
}

/** What `diff` and `validate` say when they read the Policy string out of get-key-policy output. */
export const UNWRAPPED_NOTE = 'is `aws kms get-key-policy` output: its Policy string was unwrapped and read';

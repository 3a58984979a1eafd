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

/**
 * Writes a manifest as YAML text (`kms-guard init`): entries that bind one key each by `keyId`, with
 * comments a person reads when reviewing it. Scalars are emitted by the `yaml` package, so a name such
 * as `123` or `true` stays a string; comments hold printable ASCII only, one line each.
 */
import { stringify } from 'yaml';
import type { GuardMode } from '../core/key';

export interface ManifestEntryText {
  name: string;
  keyId: string;
  mode: GuardMode;
  /** Relative to the manifest. */
  policyFile: string;
  /** Comment lines written above the entry (`aliases: alias/a, alias/b`). */
  comments: string[];
}

/** One YAML scalar on one line. */
function scalar(value: string): string {
  return stringify(value, { lineWidth: 0 }).trimEnd();
}

/** A comment line: printable ASCII only (anything else becomes `?`), so it cannot end the comment or hide text. */
export function commentLine(text: string, indent = ''): string {
  return `${indent}# ${text.replace(/[^\x20-\x7e]/g, '?')}`.trimEnd();
}

/** The manifest: `header` comment lines, `unmanagedKeys: report`, then one entry per key. */
export function manifestYaml(header: readonly string[], entries: readonly ManifestEntryText[]): string {
  const lines = header.map((line) => commentLine(line));
  lines.push('unmanagedKeys: report', 'keys:');
  for (const entry of entries) {
    lines.push(
      ...entry.comments.map((comment) => commentLine(comment, '  ')),
      `  - name: ${scalar(entry.name)}`,
      `    match: { keyId: ${scalar(entry.keyId)} }`,
      `    mode: ${entry.mode}`,
      `    policy: ${scalar(entry.policyFile)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

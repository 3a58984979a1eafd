/**
 * loadManifest: read the manifest (YAML or JSON), check its shape, its matchers and every desired
 * document, and either return a fully usable manifest or throw one ManifestError listing every
 * problem. A manifest never half-works (docs/architecture.md#the-manifest).
 */

import { readFileSync } from 'node:fs';
import { dirname, extname, isAbsolute, relative, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type * as z from '../core/zod';

import type { ValidateOptions } from '../policy/types';
import { checkDesiredDocument, refusalMessage, refusesDesiredDocument } from './documents';
import { ManifestError } from './errors';
import { overlappingMatchers } from './match';
import {
  KNOWN_PLACEHOLDERS,
  placeholderValuesFromArn,
  renderPlaceholders,
  SAMPLE_PLACEHOLDER_VALUES,
  unknownPlaceholders,
} from './placeholders';
import { type ManifestInput, manifestSchema } from './schema';
import type { LoadedManifest, ManagedKey, ManifestWarning, PlaceholderValues } from './types';
import { validationOptionsFor } from './validation-options';

function errorReason(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : errorReason(error);
    throw new ManifestError(`${file}: cannot read ${what}: ${reason}`, { cause: error });
  }
}

function parseManifestText(file: string, text: string): unknown {
  try {
    return extname(file).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ManifestError(`${file}: manifest is not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}`, {
      problems: [`${file}: ${errorReason(error)}`],
      cause: error,
    });
  }
}

/** `keys[2] (payments-data).match.alias`: the path a person looks for in the manifest. */
function describePath(path: readonly PropertyKey[], raw: unknown): string {
  if (path.length === 0) return '(top level)';
  let text = '';
  let node: unknown = raw;
  for (const segment of path) {
    text += typeof segment === 'number' ? `[${segment}]` : `${text === '' ? '' : '.'}${String(segment)}`;
    node =
      node !== null && typeof node === 'object' ? (node as Record<PropertyKey, unknown>)[segment] : undefined;
    if (
      text.startsWith('keys[') &&
      typeof segment === 'number' &&
      node !== null &&
      typeof node === 'object'
    ) {
      const name = (node as Record<string, unknown>).name;
      if (typeof name === 'string') text += ` (${name})`;
    }
  }
  return text;
}

function schemaProblems(file: string, error: z.core.$ZodError, raw: unknown): string[] {
  return error.issues.map((issue) => `${file}: ${describePath(issue.path, raw)}: ${issue.message}`);
}

function duplicateNames(file: string, input: ManifestInput): string[] {
  const seen = new Map<string, number>();
  const problems: string[] = [];
  input.keys.forEach((entry, index) => {
    const earlier = seen.get(entry.name);
    if (earlier === undefined) seen.set(entry.name, index);
    else problems.push(`${file}: keys[${index}].name: duplicate name ${entry.name} (also keys[${earlier}])`);
  });
  return problems;
}

/**
 * The values a desired document is rendered with at load, and what is known of the key's account
 * (docs/rules.md#the-keys-account), so that a lockout refusal is on a known account, never a guess:
 * a key matched by ARN lives in that ARN's account; a document that says `{{AccountId}}` names the
 * key's account, whichever it is, so the sample account stands for it. Otherwise the key's account
 * is wherever the guard runs, unknown here: validation infers it (and the guard, which knows it,
 * validates the document again for the key before it writes).
 */
function desiredDocumentAccount(
  entry: ManifestInput['keys'][number],
  template: string,
): { values: PlaceholderValues; known: Pick<ValidateOptions, 'keyAccount' | 'keyArn'> } {
  const keyArn = entry.match.keyArn;
  if (keyArn !== undefined) {
    const values = placeholderValuesFromArn(keyArn);
    return { values, known: { keyAccount: values.accountId, keyArn } };
  }
  const values = SAMPLE_PLACEHOLDER_VALUES;
  return { values, known: template.includes('{{AccountId}}') ? { keyAccount: values.accountId } : {} };
}

interface DocumentCheck {
  key?: ManagedKey;
  problems: string[];
  warnings: ManifestWarning[];
}

function loadDesiredDocument(
  manifestFile: string,
  manifest: Pick<LoadedManifest, 'allowedAccounts' | 'adminPrincipals' | 'path'>,
  entry: ManifestInput['keys'][number],
  index: number,
): DocumentCheck {
  const where = `keys[${index}] (${entry.name}).policy`;
  const baseDir = dirname(manifestFile);
  const policyPath = resolve(baseDir, entry.policy);
  const fromBase = relative(baseDir, policyPath);
  if (fromBase.startsWith('..') || isAbsolute(fromBase)) {
    return {
      problems: [
        `${manifestFile}: ${where}: ${entry.policy} is outside the manifest's directory (not deployed)`,
      ],
      warnings: [],
    };
  }
  let template: string;
  try {
    template = readFileSync(policyPath, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : `unreadable (${errorReason(error)})`;
    return { problems: [`${manifestFile}: ${where}: ${entry.policy}: ${reason}`], warnings: [] };
  }
  const unknown = unknownPlaceholders(template);
  if (unknown.length > 0) {
    return {
      problems: [`${policyPath}: unknown placeholder ${unknown.join(', ')} (known: ${KNOWN_PLACEHOLDERS})`],
      warnings: [],
    };
  }
  const { values, known } = desiredDocumentAccount(entry, template);
  const rendered = renderPlaceholders(template, values, policyPath);
  const findings = checkDesiredDocument(rendered, {
    ...validationOptionsFor(manifest, entry.mode, values),
    ...known,
  });
  // Errors, and the lockout rules remediation refuses (KMS305 always, KMS306 for a remediate entry),
  // fail the load: one decision for the Lambda's init, `kms-guard validate` and the guard (documents.ts).
  const problems = findings
    .filter(refusesDesiredDocument)
    .map(
      (finding) => `${policyPath}: ${finding.code} ${finding.path}: ${refusalMessage(finding)} (${where})`,
    );
  const warnings = findings
    .filter((finding) => !refusesDesiredDocument(finding))
    .map((finding) => ({ key: entry.name, policyFile: entry.policy, finding }));
  const key: ManagedKey = {
    name: entry.name,
    match: entry.match,
    mode: entry.mode,
    policyFile: entry.policy,
    policyTemplate: template,
    grants: entry.grants,
    state: entry.state,
  };
  if (entry.accounts) key.accounts = [...new Set(entry.accounts)];
  if (entry.regions) key.regions = [...new Set(entry.regions)];
  return { key, problems, warnings };
}

export function loadManifest(path: string): LoadedManifest {
  const file = resolve(path);
  const raw = parseManifestText(file, readText(file, 'manifest'));
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = schemaProblems(file, parsed.error, raw);
    throw new ManifestError(`${file}: manifest is invalid (${problems.length} problem(s))`, {
      problems,
      cause: parsed.error,
    });
  }
  const input = parsed.data;
  const problems = [
    ...duplicateNames(file, input),
    ...overlappingMatchers(input.keys).map((problem) => `${file}: ${problem}`),
    ...input.adminPrincipals.flatMap((principal, index) =>
      unknownPlaceholders(principal).map(
        (placeholder) => `${file}: adminPrincipals[${index}]: unknown placeholder ${placeholder}`,
      ),
    ),
  ];
  const base = { path: file, allowedAccounts: input.allowedAccounts, adminPrincipals: input.adminPrincipals };
  const keys: ManagedKey[] = [];
  const warnings: ManifestWarning[] = [];
  // Documents are checked even when the entries have problems, so one run lists everything to fix.
  // Admin principals with an unknown placeholder are already reported; leave them out of the checks.
  const checkable = {
    ...base,
    adminPrincipals: input.adminPrincipals.filter((principal) => unknownPlaceholders(principal).length === 0),
  };
  input.keys.forEach((entry, index) => {
    const check = loadDesiredDocument(file, checkable, entry, index);
    problems.push(...check.problems);
    warnings.push(...check.warnings);
    if (check.key) keys.push(check.key);
  });
  if (problems.length > 0) {
    throw new ManifestError(`${file}: manifest is invalid (${problems.length} problem(s))`, { problems });
  }
  return {
    ...base,
    unmanagedKeys: input.unmanagedKeys,
    flapping: input.flapping,
    keys,
    warnings,
  };
}

/**
 * adoptKeys: the use case of `kms-guard init` (docs/cli.md#kms-guard-init). Reads every customer managed
 * key of the account and Region and plans a manifest that keeps each one exactly as it is: one desired
 * document per key (its live policy, with placeholders for the key's own partition, Region and
 * account, proved to render back to an equivalent document), and one manifest entry binding it by
 * key ID. Store in, files to write out: nothing here writes a file or a key.
 *
 * Skipped: AWS managed keys (an `alias/aws/*` alias, or KeyManager AWS), counted. Reported and not
 * adopted: keys pending deletion (they are going away), keys whose DescribeKey or GetKeyPolicy is
 * denied or refused by KMS, keys deleted while init ran, and live policies holding `{{…}}` text, which
 * desired documents reserve for placeholders. Disabled keys and multi-Region replicas are adopted with
 * a note. Any other AWS failure aborts the run (AdoptionAbortedError) before anything is written.
 *
 * AWS calls: one paginated ListAliases, one paginated ListKeys, then per key a DescribeKey (not for
 * `alias/aws/*` keys) and a GetKeyPolicy (adopted keys only).
 */
import type { GuardMode } from '../core/key';
import { type KeyLocation, parseKeyArn } from '../core/key-arn';
import { refusesDesiredDocument, validationOptionsFor } from '../manifest';
import { checkDesiredDocument } from '../manifest/documents';
import { renderPlaceholders } from '../manifest/placeholders';
import { PLACEHOLDER_LIKE_TEXT } from '../manifest/templatize';
import { manifestYaml } from '../manifest/write';
import type { ValidationFinding } from '../policy/types';
import { adoptDocument, type DocumentForm } from './adopt/document';
import { assignNames, baseName } from './adopt/naming';
import { aliasesByKey } from './audit/inventory';
import { errorMessage } from './audit/report';
import { runPool } from './concurrency';
import { KeyUnavailableError, KmsAccessDeniedError } from './errors';
import type { KeyPolicyStore } from './ports';

export interface AdoptProgressListener {
  /** The keys are listed. */
  planned?(total: number): void;
  /** One key is done: adopted, skipped, or not adopted (`failed`). */
  keyDone?(
    done: number,
    total: number,
    key: { keyId: string; result: 'adopted' | 'skipped' | 'failed' },
  ): void;
}

export interface AdoptOptions {
  /** The mode every entry gets. */
  mode: GuardMode;
  /** Keys read at the same time. */
  concurrency: number;
  progress?: AdoptProgressListener;
}

export interface AdoptedKey {
  keyId: string;
  keyArn: string;
  aliases: string[];
  /** Manifest entry name, and the document's file name without `.json`. */
  name: string;
  /** Relative to the manifest: `<name>.json`. */
  policyFile: string;
  /** The document's text. */
  document: string;
  form: DocumentForm;
  /** Strings turned into placeholders. */
  placeholders: number;
  /** The document rendered for the key is equivalent to the live policy: the next audit reports it in sync. */
  equivalent: boolean;
  notes: string[];
  /** Validation findings that would refuse the document (errors, lockout rules), as the manifest loader decides. */
  refusals: ValidationFinding[];
  /** The other validation findings. */
  warnings: ValidationFinding[];
}

export type NotAdoptedReason =
  | 'pending-deletion'
  | 'access-denied'
  | 'unavailable'
  | 'not-found'
  | 'placeholder-text';

export interface NotAdoptedKey {
  keyId: string;
  keyArn?: string;
  aliases: string[];
  reason: NotAdoptedReason;
  detail: string;
}

export interface AdoptionPlan {
  /** Where the keys live (from their ARNs); absent when no key could be described. */
  location?: KeyLocation;
  /** Keys ListKeys returned. */
  listed: number;
  /** Sorted by name. */
  adopted: AdoptedKey[];
  notAdopted: NotAdoptedKey[];
  awsManagedSkipped: number;
  /** The manifest's text; absent when no key was adopted (a manifest needs at least one entry). */
  manifest?: string;
}

/** A KMS call failed in a way that says nothing about one key (throttling, network, a bug): nothing is written. */
export class AdoptionAbortedError extends Error {
  override readonly name = 'AdoptionAbortedError';
}

/** Reasons that do not make init fail: the key is on its way out, or already gone. */
export const BENIGN_NOT_ADOPTED: ReadonlySet<NotAdoptedReason> = new Set(['pending-deletion', 'not-found']);

const DELETION_STATES: ReadonlySet<string> = new Set(['PendingDeletion', 'PendingReplicaDeletion']);

/** The manifest path validation messages name before the manifest exists; only the mode and values matter. */
const VALIDATION_CONTEXT = { allowedAccounts: [], adminPrincipals: [], path: 'manifest.yaml' };

type Outcome =
  | { kind: 'adopted'; key: Omit<AdoptedKey, 'name' | 'policyFile'> }
  | { kind: 'skipped' }
  | { kind: 'not-adopted'; key: NotAdoptedKey };

function notAdopted(
  keyId: string,
  aliases: string[],
  reason: NotAdoptedReason,
  detail: string,
  keyArn?: string,
) {
  const key: NotAdoptedKey = { keyId, aliases, reason, detail };
  if (keyArn !== undefined) key.keyArn = keyArn;
  return { kind: 'not-adopted' as const, key };
}

/** What a failed per-key call means: reported (not adopted), or the whole run is aborted. */
function failureOutcome(error: unknown, keyId: string, aliases: string[], keyArn?: string): Outcome {
  if (error instanceof KmsAccessDeniedError) {
    return notAdopted(keyId, aliases, 'access-denied', `${error.operation} was denied`, keyArn);
  }
  if (error instanceof KeyUnavailableError) {
    if (error.reason === 'not-found') {
      return notAdopted(keyId, aliases, 'not-found', 'deleted while init ran', keyArn);
    }
    return notAdopted(
      keyId,
      aliases,
      'unavailable',
      `KMS refused ${error.operation} (${error.reason})`,
      keyArn,
    );
  }
  throw new AdoptionAbortedError(`${keyId}: ${errorMessage(error)}`, { cause: error });
}

function validate(document: string, location: KeyLocation, mode: GuardMode) {
  const options = {
    ...validationOptionsFor(VALIDATION_CONTEXT, mode, location),
    keyAccount: location.accountId,
  };
  const findings = checkDesiredDocument(renderPlaceholders(document, location, 'adopted policy'), options);
  return {
    refusals: findings.filter(refusesDesiredDocument),
    warnings: findings.filter((finding) => !refusesDesiredDocument(finding)),
  };
}

async function adoptOne(
  store: KeyPolicyStore,
  keyId: string,
  aliases: string[],
  mode: GuardMode,
): Promise<Outcome> {
  if (aliases.some((alias) => alias.startsWith('alias/aws/'))) return { kind: 'skipped' };
  let keyArn: string | undefined;
  try {
    const description = await store.describeKey(keyId);
    keyArn = description.arn;
    if (description.manager === 'AWS') return { kind: 'skipped' };
    if (DELETION_STATES.has(description.state)) {
      return notAdopted(keyId, aliases, 'pending-deletion', `key state ${description.state}`, keyArn);
    }
    const location = parseKeyArn(description.arn);
    if (!location)
      throw new AdoptionAbortedError(`${keyId}: DescribeKey returned no key ARN (${description.arn})`);
    const live = await store.getKeyPolicy(keyId);
    if (PLACEHOLDER_LIKE_TEXT.test(live)) {
      const text = PLACEHOLDER_LIKE_TEXT.exec(live)?.[0] ?? '{{…}}';
      return notAdopted(
        keyId,
        aliases,
        'placeholder-text',
        `the live policy contains ${text}, which desired documents reserve for placeholders`,
        keyArn,
      );
    }
    const adopted = adoptDocument(live, location);
    const notes: string[] = [];
    if (description.multiRegionType === 'REPLICA') {
      notes.push("multi-Region replica: the guard reports drift on it but never writes a replica's policy");
    }
    if (description.state !== 'Enabled') {
      notes.push(`key state ${description.state}: remediation refuses keys that are not Enabled`);
    }
    if (adopted.form === 'literal' && adopted.equivalent) {
      notes.push('written without placeholders: the template did not render back to an equivalent document');
    }
    if (adopted.form === 'verbatim') {
      notes.push(
        adopted.equivalent
          ? `written byte for byte as KMS returned it: ${adopted.verbatimReason ?? 'pretty-printing would not keep it equivalent'}`
          : `the next audit will not find it in sync: ${adopted.problem ?? 'the live policy cannot be compared'}`,
      );
    }
    return {
      kind: 'adopted',
      key: {
        keyId,
        keyArn: description.arn,
        aliases,
        document: adopted.text,
        form: adopted.form,
        placeholders: adopted.replacements,
        equivalent: adopted.equivalent,
        notes,
        ...validate(adopted.text, location, mode),
      },
    };
  } catch (error) {
    if (error instanceof AdoptionAbortedError) throw error;
    return failureOutcome(error, keyId, aliases, keyArn);
  }
}

function manifestHeader(location: KeyLocation | undefined, adopted: number, mode: GuardMode): string[] {
  const where = location
    ? `account ${location.accountId} in ${location.region} (${location.partition})`
    : 'the account';
  return [
    `Written by kms-guard init: the ${adopted} customer managed key(s) of ${where}, each bound by key ID, mode ${mode}.`,
    "Each policy file is the key's live policy; {{Partition}}, {{Region}} and {{AccountId}} stand for the key's own values.",
    'Review the documents, then check them: kms-guard validate manifest.yaml',
  ];
}

/** Plans the adoption of every customer managed key the store lists; see the module comment. */
export async function adoptKeys(store: KeyPolicyStore, options: AdoptOptions): Promise<AdoptionPlan> {
  let keyIds: string[];
  let aliasTargets: Map<string, string>;
  try {
    aliasTargets = await store.listAliases();
    keyIds = await store.listKeyIds();
  } catch (error) {
    throw new AdoptionAbortedError(`listing the keys failed: ${errorMessage(error)}`, { cause: error });
  }
  const keyAliases = aliasesByKey(aliasTargets);
  const outcomes: Outcome[] = [];
  let fatal: unknown;
  let done = 0;
  options.progress?.planned?.(keyIds.length);
  await runPool(
    keyIds,
    options.concurrency,
    async (keyId) => {
      const aliases = keyAliases.get(keyId) ?? [];
      try {
        const outcome = await adoptOne(store, keyId, aliases, options.mode);
        outcomes.push(outcome);
        done += 1;
        const result =
          outcome.kind === 'skipped'
            ? 'skipped'
            : outcome.kind === 'adopted' && outcome.key.refusals.length === 0 && outcome.key.equivalent
              ? 'adopted'
              : outcome.kind === 'not-adopted' && BENIGN_NOT_ADOPTED.has(outcome.key.reason)
                ? 'skipped'
                : 'failed';
        options.progress?.keyDone?.(done, keyIds.length, { keyId, result });
      } catch (error) {
        fatal ??= error;
      }
    },
    { shouldStart: () => fatal === undefined },
  );
  if (fatal !== undefined) throw fatal;

  const adoptedKeys = outcomes.flatMap((outcome) => (outcome.kind === 'adopted' ? [outcome.key] : []));
  // By name without case, then with case, then key ID: who gets the plain name does not depend on listing order.
  const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const sortKey = (key: { keyId: string; aliases: string[] }) => baseName(key.keyId, key.aliases);
  adoptedKeys.sort(
    (a, b) =>
      byCodeUnit(sortKey(a).toLowerCase(), sortKey(b).toLowerCase()) ||
      byCodeUnit(sortKey(a), sortKey(b)) ||
      byCodeUnit(a.keyId, b.keyId),
  );
  const names = assignNames(adoptedKeys);
  const adopted: AdoptedKey[] = adoptedKeys.map((key, index) => {
    const name = names[index] ?? key.keyId;
    return { ...key, name, policyFile: `${name}.json` };
  });
  const notAdoptedKeys = outcomes
    .flatMap((outcome) => (outcome.kind === 'not-adopted' ? [outcome.key] : []))
    .sort((a, b) => a.keyId.localeCompare(b.keyId));
  const first = adopted[0] ?? notAdoptedKeys.find((key) => key.keyArn !== undefined);
  const location = first?.keyArn === undefined ? undefined : parseKeyArn(first.keyArn);
  const plan: AdoptionPlan = {
    listed: keyIds.length,
    adopted,
    notAdopted: notAdoptedKeys,
    awsManagedSkipped: outcomes.filter((outcome) => outcome.kind === 'skipped').length,
  };
  if (location)
    plan.location = { partition: location.partition, region: location.region, accountId: location.accountId };
  if (adopted.length > 0) {
    plan.manifest = manifestYaml(
      manifestHeader(plan.location, adopted.length, options.mode),
      adopted.map((key) => ({
        name: key.name,
        keyId: key.keyId,
        mode: options.mode,
        policyFile: key.policyFile,
        comments: [
          `aliases: ${key.aliases.length > 0 ? key.aliases.join(', ') : '(none)'}`,
          ...key.notes.map((note) => `note: ${note}`),
          ...(key.refusals.length > 0
            ? [`would be refused: ${[...new Set(key.refusals.map((finding) => finding.code))].join(', ')}`]
            : []),
        ],
      })),
    );
  }
  return plan;
}

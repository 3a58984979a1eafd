/**
 * auditKeys: the scheduled audit and `kms-guard audit` (docs/architecture.md#data-flow). Checks every key the
 * manifest manages, optionally reports customer managed keys no entry matches, and checks the guard's
 * own health (its drift rule). Each key goes through checkKey, so the audit decides nothing checkKey
 * does not; this module only finds the keys, bounds the concurrency and accounts for every key.
 *
 * AWS calls per run: one paginated ListAliases; one paginated ListKeys only when unmanaged keys are
 * reported or an entry matches by tag; ListResourceTags once per listed key only when an entry matches
 * by tag; DescribeKey only for keys no entry manages and no `alias/aws/*` alias marks as AWS managed
 * (to skip AWS managed keys), plus one to learn the account when it is not given; then what checkKey
 * spends per key (GetKeyPolicy, Publish on drift).
 *
 * An audit never counts a key it could not check as in sync: such keys are listed as not checked in an
 * `audit-incomplete` finding and in the summary, and the report says the audit is incomplete.
 */

import type { Finding, FindingKind } from '../core/finding';
import type { GuardMode, KeyMetadata } from '../core/key';
import { describeMatcher, matchesKey, placeholderValuesFromArn } from '../manifest';
import type { LoadedManifest, ManagedKey, PlaceholderValues } from '../manifest/types';
import type { Severity } from '../policy/types';
import { type CheckKeyDeps, type CheckKeyRequest, type CheckOutcome, checkKey } from './check-key';
import { runPool } from './concurrency';
import { type GuardHealthProbe, isRuleDelivering, type RuleHealth } from './health';
import type { KeyDetailsReader } from './key-details';
import type { KeyPolicyStore } from './ports';

export interface AuditDeps extends CheckKeyDeps {
  /** DescribeRule on the drift rule; absent: no health check (the CLI without --drift-rule). */
  health?: GuardHealthProbe;
}

export interface AuditProgressListener {
  /** The keys to check are known (after the listings). */
  planned?(total: number): void;
  /** One key finished (checked, failed or skipped as AWS managed / ignored). */
  keyDone?(done: number, total: number, key: { keyId: string; result: AuditKeyResult | 'skipped' }): void;
}

export interface AuditOptions {
  /** Part of every finding ID: the scheduled event's ID (retries make the same IDs) or a CLI run ID. */
  runId: string;
  /** `audit` for the scheduled Lambda, `cli` for kms-guard. */
  trigger?: 'audit' | 'cli';
  /** Keys checked at the same time (1..64). */
  concurrency: number;
  /**
   * Also list every customer managed key and report those no entry matches. The manifest's
   * `unmanagedKeys: ignore` wins: a team that said "ignore" does not get a finding per key daily.
   */
  reportUnmanaged: boolean;
  /**
   * Never write: keys in remediate mode are checked as dry-run (a `would-remediate` finding). The CLI
   * audits read-only; `kms-guard apply --yes` is the one CLI command that writes.
   */
  readOnly?: boolean;
  /** Partition, Region and account of the audited KMS; absent: learnt from one DescribeKey. */
  location?: PlaceholderValues;
  /** Region shown on account-level findings when no key reveals it (the CLI's --region). */
  region?: string;
  /** Stop starting keys after this many keys failed unexpectedly (default 10): AWS is clearly unwell. */
  maxFailedKeys?: number;
  /** Time left in the invocation (Lambda); below `reserveMs` no key is started any more. */
  timeLeftMs?: () => number;
  /** Default 20 s: enough to finish the keys in flight and publish the summary. */
  reserveMs?: number;
  progress?: AuditProgressListener;
}

export type AuditKeyResult = 'in-sync' | 'drift' | 'remediated' | 'failed' | 'unmanaged';

export interface AuditedKey {
  keyArn: string;
  keyId: string;
  aliases: string[];
  /** Manifest entry name; absent for unmanaged keys. */
  name?: string;
  /** The manifest's mode for the key (a read-only audit checks remediate-mode keys as dry-run). */
  mode?: GuardMode;
  result: AuditKeyResult;
  finding?: Finding;
}

export interface NotCheckedKey {
  /** Key ARN when known, else the key ID or the manifest entry name. */
  keyRef: string;
  keyId?: string;
  name?: string;
  reason: string;
}

export interface AuditSummary {
  /** Keys checkKey finished with: inSync + drift + failed + unmanaged. */
  checked: number;
  inSync: number;
  /** Live policy differed (including keys the guard restored in remediate mode). */
  drift: number;
  /** The guard could not judge or restore the key (locked out, unavailable, refused, restore failed). */
  failed: number;
  /** Keys the audit did not finish: never counted as in sync. */
  notChecked: number;
  unmanaged: number;
}

export interface AuditReport {
  runId: string;
  startedAt: string;
  durationMs: number;
  /** False when any key was not checked or an audit-level step failed; the handler then throws. */
  complete: boolean;
  summary: AuditSummary;
  keys: AuditedKey[];
  notChecked: NotCheckedKey[];
  /** Keys listed but skipped because AWS manages them (their policy only AWS can change). */
  awsManagedSkipped: number;
  /** The drift rule's state; absent when not checked or when DescribeRule failed (see healthError). */
  health?: RuleHealth;
  healthError?: string;
  /** Audit-level failures (listings, health check, publishing the account-level findings). */
  problems: string[];
  /** Manifest entries that match no key here (no key has the alias, tag, ID or ARN they name). */
  notes: string[];
  /** Every finding this audit made, key findings first, the summary last. */
  findings: Finding[];
  location?: PlaceholderValues;
}

/** An audit that did not check every key: thrown by the handler after publishing what it could. */
export class AuditIncompleteError extends Error {
  override readonly name = 'AuditIncompleteError';

  constructor(
    readonly report: AuditReport,
    options?: { cause?: unknown },
  ) {
    const { summary } = report;
    super(
      `audit ${report.runId} incomplete: ${summary.notChecked} key(s) not checked` +
        (report.problems.length > 0 ? `; ${report.problems.join('; ')}` : ''),
      options,
    );
  }
}

const DEFAULT_MAX_FAILED_KEYS = 10;
const DEFAULT_RESERVE_MS = 20_000;
/** How many not-checked keys the account-level findings name one by one. */
const LISTED_KEYS = 50;
/** Keys whose ID DescribeKey may be tried on to learn the account, before giving up. */
const LOCATION_PROBES = 5;

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The store as checkKey sees it during one audit: the alias map is the audit's own listing, and tags
 * are fetched at most once per key (only successes are kept, so a failure is retried by checkKey and
 * then reported by it). A fresh view per run also gives checkKey fresh lookup caches.
 */
class AuditStoreView implements KeyPolicyStore, KeyDetailsReader {
  private readonly tags = new Map<string, Promise<Record<string, string>>>();

  constructor(
    private readonly inner: KeyPolicyStore & Partial<KeyDetailsReader>,
    private readonly aliasTargets: Map<string, string>,
  ) {}

  getKeyPolicy(keyId: string): Promise<string> {
    return this.inner.getKeyPolicy(keyId);
  }

  putKeyPolicy(keyId: string, policy: string): Promise<void> {
    return this.inner.putKeyPolicy(keyId, policy);
  }

  describeKey(keyId: string): Promise<KeyMetadata> {
    return this.inner.describeKey(keyId);
  }

  describeKeyState(keyId: string): Promise<KeyMetadata> {
    return this.inner.describeKeyState ? this.inner.describeKeyState(keyId) : this.inner.describeKey(keyId);
  }

  listKeyIds(): Promise<string[]> {
    return this.inner.listKeyIds();
  }

  async listAliases(): Promise<Map<string, string>> {
    return new Map(this.aliasTargets);
  }

  listResourceTags(keyId: string): Promise<Record<string, string>> {
    const cached = this.tags.get(keyId);
    if (cached) return cached;
    const fetched = this.inner.listResourceTags
      ? this.inner.listResourceTags(keyId)
      : this.inner.describeKey(keyId).then((metadata) => metadata.tags);
    this.tags.set(keyId, fetched);
    fetched.catch(() => this.tags.delete(keyId));
    return fetched;
  }
}

const KEY_ARN_PATTERN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/([A-Za-z0-9-]+)$/;

/** One key the audit will check: from a manifest matcher, or from the account's key listing. */
interface Candidate {
  keyId: string;
  /** Set when the manifest names the key by ARN. */
  keyArn?: string;
  /** The entry that named the key directly (ID, ARN, alias); absent for listed keys. */
  namedBy?: ManagedKey;
}

/** Aliases pointing at each key ID. */
function aliasesByKey(targets: Map<string, string>): Map<string, string[]> {
  const byKey = new Map<string, string[]>();
  for (const [alias, keyId] of targets) {
    const list = byKey.get(keyId) ?? [];
    list.push(alias);
    byKey.set(keyId, list);
  }
  for (const list of byKey.values()) list.sort();
  return byKey;
}

function isAwsManagedAlias(alias: string): boolean {
  return alias.startsWith('alias/aws/');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** What checkKey's outcome means for the audit's counts; undefined for a key the audit does not list. */
function resultOf(outcome: CheckOutcome): AuditKeyResult | undefined {
  if (outcome.result === 'in-sync') return 'in-sync';
  if (outcome.result !== 'published' || !outcome.finding) return undefined;
  const { kind, action } = outcome.finding;
  if (kind === 'unmanaged-key') return 'unmanaged';
  if (kind === 'remediated') return 'remediated';
  if (action === 'failed' || kind === 'key-unavailable') return 'failed';
  return 'drift';
}

function summarize(keys: readonly AuditedKey[], notChecked: number): AuditSummary {
  const count = (...results: AuditKeyResult[]) => keys.filter((key) => results.includes(key.result)).length;
  return {
    checked: keys.length,
    inSync: count('in-sync'),
    drift: count('drift', 'remediated'),
    failed: count('failed'),
    notChecked,
    unmanaged: count('unmanaged'),
  };
}

/** Runs one audit; see the module comment. Throws only for a bad option; failures are in the report. */
export async function auditKeys(deps: AuditDeps, options: AuditOptions): Promise<AuditReport> {
  const started = deps.clock.now();
  const trigger = options.trigger ?? 'audit';
  const maxFailedKeys = options.maxFailedKeys ?? DEFAULT_MAX_FAILED_KEYS;
  const reserveMs = options.reserveMs ?? DEFAULT_RESERVE_MS;
  const reportUnmanaged = options.reportUnmanaged && deps.manifest.unmanagedKeys === 'report';
  const log = (level: 'info' | 'warn' | 'error', message: string, attributes: Record<string, unknown> = {}) =>
    deps.logger[level](message, { runId: options.runId, trigger, ...attributes });

  const keys: AuditedKey[] = [];
  const notChecked: NotCheckedKey[] = [];
  const problems: string[] = [];
  const notes: string[] = [];
  const accountFindings: Finding[] = [];
  let awsManagedSkipped = 0;
  let location = options.location ?? deps.defaultLocation;

  // 1. The guard's own health: a blind real-time guard is the most urgent thing an audit can find.
  let health: RuleHealth | undefined;
  let healthError: string | undefined;
  if (deps.health) {
    try {
      health = await deps.health.driftRuleHealth();
    } catch (error) {
      healthError = errorMessage(error);
      problems.push(`the drift rule's health could not be checked: ${errorMessage(error)}`);
      log('error', 'audit_health_check_failed', { error });
    }
  }

  // 2. Which keys: concrete matchers, aliases, and (when needed) every key in the account.
  const hasTagMatcher = deps.manifest.keys.some((entry) => entry.match.tag !== undefined);
  const listAllKeys = reportUnmanaged || hasTagMatcher;
  let aliasTargets = new Map<string, string>();
  let listedKeyIds: string[] = [];
  let inventoryError: unknown;
  try {
    aliasTargets = await deps.store.listAliases();
    if (listAllKeys) listedKeyIds = await deps.store.listKeyIds();
  } catch (error) {
    inventoryError = error;
  }
  const view = new AuditStoreView(deps.store, aliasTargets);
  const keyAliases = aliasesByKey(aliasTargets);

  const candidates = new Map<string, Candidate>();
  if (inventoryError === undefined) {
    for (const entry of deps.manifest.keys) {
      const { match } = entry;
      if (match.keyId !== undefined && !candidates.has(match.keyId)) {
        candidates.set(match.keyId, { keyId: match.keyId, namedBy: entry });
      } else if (match.keyArn !== undefined) {
        const keyId = KEY_ARN_PATTERN.exec(match.keyArn)?.[1] ?? match.keyArn;
        if (!candidates.has(keyId)) candidates.set(keyId, { keyId, keyArn: match.keyArn, namedBy: entry });
      } else if (match.alias !== undefined) {
        const keyId = aliasTargets.get(match.alias);
        if (keyId === undefined) {
          // Not a failure of the audit: the manifest names an alias this account/Region does not have.
          notes.push(`manifest entry ${entry.name}: no key has ${describeMatcher(match)} here`);
        } else if (!candidates.has(keyId)) {
          candidates.set(keyId, { keyId, namedBy: entry });
        }
      }
    }
    for (const keyId of listedKeyIds) if (!candidates.has(keyId)) candidates.set(keyId, { keyId });
  }

  // 3. The account and Region, so every key ID becomes an ARN without a DescribeKey per key.
  if (location === undefined && inventoryError === undefined) {
    const probes = [...candidates.values()].filter((candidate) => candidate.keyArn === undefined);
    for (const candidate of probes.slice(0, LOCATION_PROBES)) {
      try {
        location = placeholderValuesFromArn((await view.describeKeyState(candidate.keyId)).arn);
        break;
      } catch (error) {
        log('warn', 'audit_location_probe_failed', { keyId: candidate.keyId, error: errorMessage(error) });
      }
    }
    if (location === undefined && probes.length > 0) {
      inventoryError = new Error('DescribeKey failed on every key tried: the account and Region are unknown');
    }
  }
  if (inventoryError !== undefined) {
    const reason = `the key inventory failed: ${errorMessage(inventoryError)}`;
    problems.push(reason);
    log('error', 'audit_inventory_failed', { error: inventoryError });
    for (const entry of deps.manifest.keys) {
      notChecked.push({ keyRef: entry.name, name: entry.name, reason: `not checked: ${reason}` });
    }
  }
  if (location) {
    const here = location;
    for (const [keyId, candidate] of candidates) {
      if (candidate.keyArn === undefined) continue;
      const values = placeholderValuesFromArn(candidate.keyArn);
      if (values.region !== here.region || values.accountId !== here.accountId) {
        // KMS is regional: the guard deployed in that account and Region audits this key.
        log('info', 'audit_key_elsewhere', { keyArn: candidate.keyArn, name: candidate.namedBy?.name });
        candidates.delete(keyId);
      }
    }
  }

  const auditManifest: LoadedManifest = {
    ...deps.manifest,
    unmanagedKeys: reportUnmanaged ? 'report' : 'ignore',
  };
  const checkDeps: CheckKeyDeps = { ...deps, store: view, manifest: auditManifest };
  if (location) checkDeps.defaultLocation = location;
  const arnOf = (candidate: Candidate): string => {
    if (candidate.keyArn !== undefined) return candidate.keyArn;
    if (!location) return candidate.keyId;
    return `arn:${location.partition}:kms:${location.region}:${location.accountId}:key/${candidate.keyId}`;
  };

  /** The entry checkKey will pick (first match wins), fetching tags only when the walk needs them. */
  const entryFor = async (candidate: Candidate, aliases: string[]): Promise<ManagedKey | undefined> => {
    const known: KeyMetadata = {
      keyId: candidate.keyId,
      arn: arnOf(candidate),
      state: 'Unknown',
      manager: 'CUSTOMER',
      multiRegion: false,
      aliases,
      tags: {},
    };
    let tagsKnown = false;
    for (const entry of deps.manifest.keys) {
      if (entry.match.tag !== undefined && !tagsKnown) {
        known.tags = await view.listResourceTags(candidate.keyId);
        tagsKnown = true;
      }
      if (matchesKey(entry.match, known)) return entry;
    }
    return undefined;
  };

  // 4. Every key through checkKey, at most `concurrency` at a time.
  const work = inventoryError === undefined ? [...candidates.values()] : [];
  options.progress?.planned?.(work.length);
  let done = 0;
  let failedKeys = 0;
  let stopReason: string | undefined;
  const finish = (keyId: string, result: AuditKeyResult | 'skipped') => {
    done += 1;
    options.progress?.keyDone?.(done, work.length, { keyId, result });
  };
  const shouldStart = (): boolean => {
    if (failedKeys >= maxFailedKeys) {
      stopReason = `not started: the audit stopped after ${plural(failedKeys, 'key')} failed`;
      return false;
    }
    if (options.timeLeftMs && options.timeLeftMs() < reserveMs) {
      stopReason = `not started: less than ${Math.round(reserveMs / 1000)} s of the invocation were left`;
      return false;
    }
    return true;
  };

  const auditOne = async (candidate: Candidate): Promise<void> => {
    const aliases = keyAliases.get(candidate.keyId) ?? [];
    const keyArn = arnOf(candidate);
    if (candidate.namedBy === undefined && aliases.some(isAwsManagedAlias)) {
      awsManagedSkipped += 1;
      finish(candidate.keyId, 'skipped');
      return;
    }
    try {
      let entry: ManagedKey | undefined = candidate.namedBy;
      let resolved = true;
      try {
        entry = await entryFor(candidate, aliases);
      } catch {
        // checkKey makes the same call and reports what it means (locked out, key gone) or throws.
        resolved = false;
      }
      if (resolved && entry === undefined) {
        if (!reportUnmanaged) {
          finish(candidate.keyId, 'skipped');
          return;
        }
        const metadata = await view.describeKeyState(candidate.keyId);
        if (metadata.manager === 'AWS') {
          awsManagedSkipped += 1;
          finish(candidate.keyId, 'skipped');
          return;
        }
      }
      const request: CheckKeyRequest = { keyRef: keyArn, trigger, eventId: options.runId };
      if (options.readOnly && resolved && entry?.mode === 'remediate') request.modeOverride = 'dry-run';
      const outcome = await checkKey(checkDeps, request);
      const result = resultOf(outcome);
      if (result === undefined) {
        finish(candidate.keyId, 'skipped');
        return;
      }
      const audited: AuditedKey = {
        keyArn: outcome.keyArn,
        keyId: outcome.keyId,
        aliases: outcome.finding?.aliases ?? aliases,
        result,
      };
      const name = outcome.finding?.keyName ?? entry?.name;
      if (name !== undefined && result !== 'unmanaged') audited.name = name;
      const mode = request.modeOverride !== undefined ? entry?.mode : outcome.mode;
      if (mode !== undefined && result !== 'unmanaged') audited.mode = mode;
      if (outcome.finding) audited.finding = outcome.finding;
      keys.push(audited);
      finish(candidate.keyId, result);
    } catch (error) {
      failedKeys += 1;
      const item: NotCheckedKey = { keyRef: keyArn, keyId: candidate.keyId, reason: errorMessage(error) };
      const name = candidate.namedBy?.name;
      if (name !== undefined) item.name = name;
      notChecked.push(item);
      log('error', 'audit_key_failed', { keyId: candidate.keyId, keyArn, error });
      finish(candidate.keyId, 'skipped');
    }
  };

  let poolStarted = work.length;
  if (work.length > 0) {
    ({ started: poolStarted } = await runPool(work, options.concurrency, auditOne, { shouldStart }));
  }
  for (const candidate of work.slice(poolStarted)) {
    const item: NotCheckedKey = {
      keyRef: arnOf(candidate),
      keyId: candidate.keyId,
      reason: stopReason ?? 'not started',
    };
    if (candidate.namedBy) item.name = candidate.namedBy.name;
    notChecked.push(item);
  }

  // Entries that found no key protect nothing: say so (the alias case was noted while listing).
  if (inventoryError === undefined && notChecked.length === 0) {
    const checkedNames = new Set(keys.map((key) => key.name));
    for (const entry of deps.manifest.keys) {
      const { match } = entry;
      if (match.alias !== undefined || checkedNames.has(entry.name)) continue;
      notes.push(`manifest entry ${entry.name}: no key has ${describeMatcher(match)} here`);
    }
  }

  // 5. Account-level findings: guard health, incompleteness, and the summary, in that order.
  const region = location?.region ?? options.region ?? 'unknown';
  const account = location?.accountId ?? 'unknown';
  const partition = location?.partition ?? 'aws';
  const accountFinding = (
    kind: FindingKind,
    severity: Severity,
    headline: string,
    details: string[],
  ): Finding => ({
    id: `${options.runId}:*:${kind}`,
    kind,
    severity,
    title: `[${severity.toUpperCase()}] ${headline}`,
    keyArn: `arn:${partition}:kms:${region}:${account}:key/*`,
    keyId: '*',
    aliases: [],
    region,
    account,
    mode: 'alert',
    action: 'none',
    trigger,
    details,
    time: deps.clock.now().toISOString(),
  });
  const publishAccountFinding = async (finding: Finding): Promise<void> => {
    accountFindings.push(finding);
    try {
      await deps.publisher.publish(finding);
    } catch (error) {
      // The full finding goes to the log so what it says is not lost with the message.
      problems.push(`publishing ${finding.kind} failed: ${errorMessage(error)}`);
      log('error', 'finding_publish_failed', { finding, error });
    }
  };

  if (health && !isRuleDelivering(health)) {
    const missing = health.state === 'missing';
    await publishAccountFinding(
      accountFinding(
        'guard-disabled',
        'critical',
        `Guard disabled: drift rule ${health.ruleName} is ${missing ? 'missing' : health.state}`,
        [
          missing
            ? `The EventBridge rule ${health.ruleName} does not exist on the default bus.`
            : `The EventBridge rule ${health.ruleName} is ${health.state}.`,
          'Key policy changes are NOT being checked as they happen: only this audit sees them, once per schedule.',
          missing
            ? 'Redeploy the stack (serverless deploy) to recreate the rule.'
            : `Enable it again: aws events enable-rule --name ${health.ruleName} --region ${region}`,
        ],
      ),
    );
  }

  const durationMs = () => deps.clock.now().getTime() - started.getTime();
  const keyLine = (key: NotCheckedKey) =>
    `${key.name ? `${key.name} ` : ''}${key.keyRef === key.name ? '' : key.keyRef}: ${key.reason}`.replace(
      /\s+:/,
      ':',
    );
  const listed = (items: readonly NotCheckedKey[]) => [
    ...items.slice(0, LISTED_KEYS).map((key) => `  ${keyLine(key)}`),
    ...(items.length > LISTED_KEYS ? [`  … and ${items.length - LISTED_KEYS} more`] : []),
  ];
  if (notChecked.length > 0 || problems.length > 0) {
    const nothingChecked = keys.length === 0 || inventoryError !== undefined;
    const severity: Severity = nothingChecked ? 'critical' : 'high';
    await publishAccountFinding(
      accountFinding(
        'audit-incomplete',
        severity,
        `Audit incomplete: ${plural(notChecked.length, 'key')} not checked`,
        [
          `The audit ${options.runId} did not finish: these keys were NOT checked, and are not counted as in sync.`,
          ...problems,
          ...listed(notChecked),
          'The audit function reports an error for this run; the next scheduled run checks every key again.',
        ],
      ),
    );
  }

  const summary = summarize(keys, notChecked.length);
  const healthLine = health
    ? `Drift rule ${health.ruleName}: ${health.state}.`
    : healthError !== undefined
      ? `Drift rule: could not be checked (${healthError}).`
      : 'Drift rule: not checked.';
  const summaryDetails = [
    `Checked ${plural(summary.checked, 'key')} in ${durationMs()} ms: ${summary.inSync} in sync, ${summary.drift} drift, ${summary.failed} failed, ${summary.unmanaged} unmanaged; ${summary.notChecked} not checked.`,
    healthLine,
    `AWS managed keys skipped: ${awsManagedSkipped}.`,
    ...notes,
    ...(notChecked.length > 0 ? ['Not checked:', ...listed(notChecked)] : []),
  ];
  await publishAccountFinding(
    accountFinding(
      'audit-summary',
      'info',
      `Audit summary: ${summary.checked} checked, ${summary.inSync} in sync, ${summary.drift} drift, ${summary.failed} failed, ${summary.notChecked} not checked`,
      summaryDetails,
    ),
  );

  keys.sort(
    (a, b) => (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff') || a.keyId.localeCompare(b.keyId),
  );
  const keyFindings = keys.flatMap((key) => (key.finding ? [key.finding] : []));
  const report: AuditReport = {
    runId: options.runId,
    startedAt: started.toISOString(),
    durationMs: durationMs(),
    complete: notChecked.length === 0 && problems.length === 0,
    summary,
    keys,
    notChecked,
    awsManagedSkipped,
    problems,
    notes,
    findings: [...keyFindings, ...accountFindings],
  };
  if (health) report.health = health;
  if (healthError !== undefined) report.healthError = healthError;
  if (location) report.location = location;
  log(report.complete ? 'info' : 'error', 'audit_finished', {
    summary,
    durationMs: report.durationMs,
    awsManagedSkipped,
    problems,
  });
  return report;
}

/**
 * auditKeys: the scheduled audit and `kms-guard audit` (docs/architecture.md#data-flow). Checks every key
 * the manifest manages, optionally reports customer managed keys no entry matches, and checks the guard's
 * own health (its drift rule, and what feeds, runs and hears it: ./health). Each key goes through
 * checkKey, so the audit decides nothing checkKey does not; this module only finds the keys
 * (./audit/inventory), bounds the concurrency and accounts for every key (./audit/report,
 * ./audit/account-findings).
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
import type { Finding } from '../core/finding';
import { describeMatcher } from '../manifest/match';
import type { LoadedManifest } from '../manifest/types';
import {
  reportGuardDegraded,
  reportGuardHealth,
  reportIncomplete,
  reportSummary,
} from './audit/account-findings';
import { aliasesByKey, type Candidate, candidateArn, takeInventory } from './audit/inventory';
import {
  type AuditedKey,
  type AuditKeyResult,
  type AuditOptions,
  type AuditReport,
  errorMessage,
  type NotCheckedKey,
  plural,
  resultOf,
  summarize,
} from './audit/report';
import { CachingKeyStore } from './caching-store';
import { type CheckKeyDeps, type CheckKeyRequest, checkKey } from './check-key';
import { accountComplianceRecord } from './compliance';
import { runPool } from './concurrency';
import { type GuardHealthProbe, type HealthCheck, healthGaps, type RuleHealth } from './health';
import { deliverHeld } from './outbox';

export * from './audit/report';

export interface AuditDeps extends CheckKeyDeps {
  /** The guard's own health (drift rule, schedule, concurrency, trail, subscribers); absent: not checked. */
  health?: GuardHealthProbe;
}

const DEFAULT_MAX_FAILED_KEYS = 10;
const DEFAULT_RESERVE_MS = 20_000;

function isAwsManagedAlias(alias: string): boolean {
  return alias.startsWith('alias/aws/');
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
  const accountFindings: Finding[] = [];
  let awsManagedSkipped = 0;

  // 1. The guard's own health: a blind real-time guard is the most urgent thing an audit can find. Its
  // calls (other services than KMS) run while the keys are checked; the findings come first all the same.
  let health: RuleHealth | undefined;
  let guardChecks: HealthCheck[] | undefined;
  let healthError: string | undefined;
  const healthChecked = (async () => {
    if (!deps.health) return;
    try {
      ({ driftRule: health, checks: guardChecks } = await deps.health.checkHealth());
      const gaps = healthGaps(guardChecks);
      if (gaps.length > 0) log('error', 'audit_guard_degraded', { gaps });
    } catch (error) {
      healthError = errorMessage(error);
      problems.unshift(`the drift rule's health could not be checked: ${errorMessage(error)}`);
      log('error', 'audit_health_check_failed', { error });
    }
  })();

  // 2. Which keys, and where they live. One lookup cache for the whole run, primed with the listing.
  const hasTagMatcher = deps.manifest.keys.some((entry) => entry.match.tag !== undefined);
  const store = new CachingKeyStore(deps.store.source, deps.clock, Number.POSITIVE_INFINITY);
  const location = options.location ?? deps.defaultLocation;
  const inventory = await takeInventory(
    store.source,
    deps.bindings,
    deps.manifest,
    {
      listAllKeys: reportUnmanaged || hasTagMatcher,
      ...(location ? { location } : {}),
      ...(deps.ousOf ? { ousOf: deps.ousOf } : {}),
    },
    log,
  );
  store.primeAliases(inventory.aliasTargets);
  const { notes } = inventory;
  if (inventory.failure !== undefined) {
    const reason = `the key inventory failed: ${errorMessage(inventory.failure)}`;
    problems.push(reason);
    log('error', 'audit_inventory_failed', { error: inventory.failure });
    for (const entry of deps.manifest.keys) {
      notChecked.push({ keyRef: entry.name, name: entry.name, reason: `not checked: ${reason}` });
    }
  }
  const here = inventory.location;
  // Findings held but never delivered (a Publish that failed after a restore, a crash): every audit sweeps them.
  if (here) {
    const held = await deliverHeld(deps.outbox, deps.publisher, here, deps.logger);
    for (const stuck of held.failed)
      problems.push(`held finding ${stuck.findingId} still not delivered: ${stuck.error}`);
  }
  const keyAliases = aliasesByKey(inventory.aliasTargets);
  const auditManifest: LoadedManifest = {
    ...deps.manifest,
    unmanagedKeys: reportUnmanaged ? 'report' : 'ignore',
  };
  const checkDeps: CheckKeyDeps = { ...deps, store, manifest: auditManifest };
  if (here) checkDeps.defaultLocation = here;

  // 3. Every key through checkKey, at most `concurrency` at a time.
  const work = inventory.failure === undefined ? [...inventory.candidates.values()] : [];
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
    const keyArn = candidateArn(candidate, here);
    const named = candidate.namedBy !== undefined || candidate.boundTo !== undefined;
    if (!named && aliases.some(isAwsManagedAlias)) {
      awsManagedSkipped += 1;
      finish(candidate.keyId, 'skipped');
      return;
    }
    try {
      const request: CheckKeyRequest = { keyRef: keyArn, trigger, eventId: options.runId };
      if (options.readOnly) request.readOnly = true;
      const outcome = await checkKey(checkDeps, request);
      if (outcome.result === 'aws-managed') awsManagedSkipped += 1;
      const result = resultOf(outcome);
      if (result === undefined) {
        finish(candidate.keyId, 'skipped');
        return;
      }
      const finding = outcome.finding ?? outcome.findings[0];
      const audited: AuditedKey = {
        keyArn: outcome.keyArn,
        keyId: outcome.keyId,
        aliases: finding?.aliases ?? aliases,
        result,
        findings: outcome.findings,
      };
      if (outcome.entryName !== undefined && result !== 'unmanaged') audited.name = outcome.entryName;
      if (outcome.entryMode !== undefined && result !== 'unmanaged') audited.mode = outcome.entryMode;
      if (finding) audited.finding = finding;
      keys.push(audited);
      finish(candidate.keyId, result);
    } catch (error) {
      failedKeys += 1;
      const item: NotCheckedKey = { keyRef: keyArn, keyId: candidate.keyId, reason: errorMessage(error) };
      const name = candidate.namedBy?.name ?? candidate.boundTo;
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
      keyRef: candidateArn(candidate, here),
      keyId: candidate.keyId,
      reason: stopReason ?? 'not started',
    };
    if (candidate.namedBy) item.name = candidate.namedBy.name;
    notChecked.push(item);
  }

  // Entries that found no key protect nothing: say so (the alias case was noted while listing).
  if (inventory.failure === undefined && notChecked.length === 0) {
    const checkedNames = new Set(keys.map((key) => key.name));
    for (const entry of inventory.manifest.keys) {
      const { match } = entry;
      if (match.alias !== undefined || checkedNames.has(entry.name)) continue;
      notes.push(`manifest entry ${entry.name}: no key has ${describeMatcher(match)} here`);
    }
  }

  // 4. Account-level findings: guard health, incompleteness, and the summary, in that order.
  await healthChecked;
  const durationMs = () => deps.clock.now().getTime() - started.getTime();
  const findingContext = {
    runId: options.runId,
    trigger,
    location: {
      partition: here?.partition ?? 'aws',
      region: here?.region ?? options.region ?? 'unknown',
      accountId: here?.accountId ?? 'unknown',
    },
    clock: deps.clock,
    publisher: deps.publisher,
    outbox: deps.outbox,
    logger: deps.logger,
    findings: accountFindings,
    problems,
    log,
  };
  await reportGuardHealth(findingContext, health);
  if (guardChecks) await reportGuardDegraded(findingContext, guardChecks);
  const summary = summarize(keys, notChecked.length);
  if (!options.unitOfRun) {
    await reportIncomplete(findingContext, notChecked, keys.length === 0 || inventory.failure !== undefined);
    await reportSummary(findingContext, {
      summary,
      durationMs: durationMs(),
      awsManagedSkipped,
      notes,
      notChecked,
      ...(health ? { health } : {}),
      ...(guardChecks ? { guardChecks } : {}),
      ...(healthError !== undefined ? { healthError } : {}),
    });
  }
  // The compliance view learns the account-level checks too, so a guard that is healthy again closes them
  // (a unit of an organization audit decides no account-level subject: the run's close does).
  if (here && !options.unitOfRun) {
    deps.compliance?.record(
      accountComplianceRecord({
        location: here,
        trigger,
        time: started,
        findings: accountFindings,
        ruleChecked: health !== undefined,
        healthChecked: guardChecks !== undefined,
      }),
    );
  }

  keys.sort(
    (a, b) => (a.name ?? '\uffff').localeCompare(b.name ?? '\uffff') || a.keyId.localeCompare(b.keyId),
  );
  const keyFindings = keys.flatMap((key) => key.findings);
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
  if (guardChecks) report.guardChecks = guardChecks;
  if (healthError !== undefined) report.healthError = healthError;
  if (here) report.location = here;
  log(report.complete ? 'info' : 'error', 'audit_finished', {
    summary,
    durationMs: report.durationMs,
    awsManagedSkipped,
    problems,
  });
  return report;
}

/**
 * The compliance sink over AWS Security Hub (docs/architecture.md#security-hub). `record` keeps each
 * check's record; `flush`, once per invocation (drift), run (audit) or command (CLI), per account and
 * Region of the records:
 *
 * 1. maps every finding to its ASFF record (src/alerts/asff.ts), the latest per record ID;
 * 2. for the subjects the checks found back in their desired state, lists the guard's records still open
 *    there (one paginated GetFindings, only when there is such a subject) and closes each (PASSED, ARCHIVED);
 * 3. imports them, at most 100 per BatchImportFindings call, in the account the key belongs to (the client
 *    comes from the injected `clientFor(account, region)`: the local client, or a spoke's).
 *
 * Transient failures throw a RetryableAwsError (after the records of the other accounts were sent). A
 * Security Hub that refuses the guard (not enabled, access denied, records it rejects) is logged every time
 * and reported once per instance, account, Region and reason through `report`; never thrown, so a missing
 * Security Hub causes neither a crash loop nor a retry storm.
 */
import type { AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import {
  ASFF_ID_PREFIX,
  asffClosure,
  asffFinding,
  asffIdOf,
  asffIdOfFinding,
  productArnOf,
} from '../alerts/asff';
import type { ComplianceRecord, ComplianceSubject } from '../core/compliance';
import type { KeyLocation } from '../core/key-arn';
import type { ComplianceSink, ComplianceViewProblem } from '../guard/compliance';
import { RetryableAwsError } from '../guard/errors';
import type { GuardLogger } from '../guard/logger';
import type { Clock } from '../guard/ports';
import {
  IMPORT_BATCH_SIZE,
  type ImportRefusal,
  importFindings,
  openFindings,
  type SecurityHubClientFor,
} from './security-hub';

export const SECURITY_HUB = 'AWS Security Hub';
/** Waits before sending again the findings Security Hub failed one by one with a transient code. */
export const DEFAULT_ITEM_RETRY_DELAYS_MS = [500, 2_000] as const;

export interface SecurityHubSinkOptions {
  clientFor: SecurityHubClientFor;
  logger: GuardLogger;
  /** Told once per instance, account, Region and reason that Security Hub refuses the guard's records. */
  report: (problem: ComplianceViewProblem) => Promise<void>;
  clock: Pick<Clock, 'now' | 'sleep'>;
  itemRetryDelaysMs?: readonly number[];
}

/** A record that may be open, and that the check found back in its desired state. */
interface Candidate {
  record: ComplianceRecord;
  subject: ComplianceSubject;
  /** Exactly this record ID, or (grants) every ID under `prefix` but the `except` ones. */
  id?: string;
  prefix?: string;
  except?: ReadonlySet<string>;
}

function resourceIdOf(record: ComplianceRecord): string {
  return record.keyId === '*' ? `AWS::::Account:${record.location.accountId}` : record.keyArn;
}

function later(a: AwsSecurityFinding, b: AwsSecurityFinding): boolean {
  return Date.parse(a.UpdatedAt ?? '') > Date.parse(b.UpdatedAt ?? '');
}

function keepLatest(records: Map<string, AwsSecurityFinding>, finding: AwsSecurityFinding): void {
  const id = finding.Id ?? '';
  const kept = records.get(id);
  if (!kept || later(finding, kept)) records.set(id, finding);
}

/** Subjects a check looked at and made no finding about (grants: every grant but those it reported). */
function candidatesOf(record: ComplianceRecord): Candidate[] {
  const reported = new Set(
    record.findings.map(asffIdOfFinding).filter((id): id is string => id !== undefined),
  );
  const candidates: Candidate[] = [];
  for (const subject of new Set(record.checked)) {
    const id = asffIdOf(record, subject);
    if (subject === 'grant') {
      candidates.push({ record, subject, prefix: `${id}/`, except: reported });
    } else if (!reported.has(id)) {
      candidates.push({ record, subject, id });
    }
  }
  return candidates;
}

function matches(candidate: Candidate, id: string): boolean {
  if (candidate.id !== undefined) return candidate.id === id;
  return candidate.prefix !== undefined && id.startsWith(candidate.prefix) && !candidate.except?.has(id);
}

function groupByLocation(records: readonly ComplianceRecord[]): Map<string, ComplianceRecord[]> {
  const groups = new Map<string, ComplianceRecord[]>();
  for (const record of records) {
    const { partition, region, accountId } = record.home ?? record.location;
    const key = `${partition}:${region}:${accountId}`;
    groups.set(key, [...(groups.get(key) ?? []), record]);
  }
  return groups;
}

export class SecurityHubSink implements ComplianceSink {
  readonly #records: ComplianceRecord[] = [];
  /** `<account>/<region>/<reason>` already reported by this instance. */
  readonly #reported = new Set<string>();

  constructor(private readonly options: SecurityHubSinkOptions) {}

  record(record: ComplianceRecord): void {
    this.#records.push(record);
  }

  async flush(): Promise<void> {
    const records = this.#records.splice(0);
    let retryable: RetryableAwsError | undefined;
    for (const group of groupByLocation(records).values()) {
      try {
        await this.#flushLocation(group);
      } catch (error) {
        // The other accounts and Regions are still sent; the first transient failure is thrown at the end.
        if (!(error instanceof RetryableAwsError)) throw error;
        this.options.logger.error('security_hub_flush_failed', { error });
        retryable ??= error;
      }
    }
    if (retryable) throw retryable;
  }

  async #flushLocation(records: readonly ComplianceRecord[]): Promise<void> {
    const [first] = records;
    if (!first) return;
    const location = first.home ?? first.location;
    const client = await this.options.clientFor(location.accountId, location.region);
    const productArn = productArnOf(location);
    const imports = new Map<string, AwsSecurityFinding>();
    for (const record of records) {
      for (const finding of record.findings) {
        const asff = asffFinding(finding, record.home);
        if (asff) keepLatest(imports, asff);
      }
    }
    const candidates = records.flatMap(candidatesOf);
    let closed = 0;
    if (candidates.length > 0) {
      const open = await openFindings(client, {
        productArn,
        accountId: location.accountId,
        idPrefix: ASFF_ID_PREFIX,
        resourceIds: [...new Set(candidates.map((candidate) => resourceIdOf(candidate.record)))],
      });
      if (!Array.isArray(open)) {
        await this.#refused(location, first, open);
        if (open.reason === 'unavailable') return;
      } else {
        for (const finding of open) {
          const id = finding.Id ?? '';
          const candidate = candidates.find((item) => matches(item, id));
          // A record updated since this check started is newer than what the check saw: Security Hub would
          // ignore the closure anyway (UpdatedAt must grow).
          if (
            !candidate ||
            imports.has(id) ||
            Date.parse(finding.UpdatedAt ?? '') >= Date.parse(candidate.record.time)
          )
            continue;
          const closure = asffClosure(finding, candidate.record, candidate.subject);
          if (closure) {
            imports.set(id, closure);
            closed += 1;
          }
        }
      }
    }
    const findings = [...imports.values()];
    let imported = 0;
    for (let start = 0; start < findings.length; start += IMPORT_BATCH_SIZE) {
      const result = await importFindings(client, findings.slice(start, start + IMPORT_BATCH_SIZE), {
        delaysMs: this.options.itemRetryDelaysMs ?? DEFAULT_ITEM_RETRY_DELAYS_MS,
        sleep: (ms) => this.options.clock.sleep(ms),
      });
      imported += result.imported;
      for (const refusal of result.refusals) await this.#refused(location, first, refusal);
      // Not subscribed (or denied): the other batches would be refused the same way.
      if (result.refusals.some((refusal) => refusal.reason === 'unavailable')) return;
    }
    if (findings.length > 0) {
      this.options.logger.info('security_hub_imported', {
        account: location.accountId,
        region: location.region,
        imported,
        closed,
        sent: findings.length,
      });
    }
  }

  async #refused(location: KeyLocation, first: ComplianceRecord, refusal: ImportRefusal): Promise<void> {
    this.options.logger.error(`security_hub_${refusal.reason}`, {
      account: location.accountId,
      region: location.region,
      error: refusal.message,
      findingIds: refusal.ids,
    });
    const key = `${location.accountId}/${location.region}/${refusal.reason}`;
    if (this.#reported.has(key)) return;
    await this.options.report({
      view: SECURITY_HUB,
      location,
      reason: refusal.reason,
      message: refusal.message,
      fix:
        refusal.reason === 'unavailable'
          ? `enable Security Hub in this account and Region (aws securityhub enable-security-hub --region ${location.region}), or deploy with --param="securityHub=false" to stop sending findings there. If it is enabled, the guard's role needs securityhub:BatchImportFindings on ${productArnOf(location)} and securityhub:GetFindings (the stack grants both with securityHub=true; an organization spoke role needs SecurityHubFindings=true).`
          : "a finding Security Hub rejects is a bug in the guard's ASFF mapping: the log line security_hub_refused names each finding and Security Hub's reason; report it. The other findings were imported.",
      trigger: first.trigger,
      time: this.options.clock.now(),
    });
    this.#reported.add(key);
  }
}

/**
 * RemediationLedger kept in memory: for tests and the CLI (one process, one run). The Lambda uses a
 * DynamoDB ledger, because a container's memory neither survives nor is shared between invocations.
 */

import { createHash } from 'node:crypto';
import type { FlappingLimit } from '../manifest/types';
import { type ReapplyDetails, type RemediationLedger, WRITE_INTENT_WINDOW_MS } from './ports';

export interface ReapplyRecord {
  keyArn: string;
  overwritten: string;
  at: Date;
  details: ReapplyDetails;
}

export class InMemoryRemediationLedger implements RemediationLedger {
  private readonly records: ReapplyRecord[] = [];

  constructor(private readonly window: Pick<FlappingLimit, 'windowMinutes'>) {}

  async append(keyArn: string, overwritten: string, at: Date, details: ReapplyDetails = {}): Promise<void> {
    this.records.push({ keyArn, overwritten, at, details });
  }

  async recordReapply(
    keyArn: string,
    overwritten: string,
    at: Date,
    details: ReapplyDetails = {},
  ): Promise<number> {
    await this.append(keyArn, overwritten, at, details);
    return this.reapplyCount(keyArn, at);
  }

  /** Re-applies of the key in the window that ends at `at` (both ends included). */
  async reapplyCount(keyArn: string, at: Date): Promise<number> {
    const windowStart = at.getTime() - this.window.windowMinutes * 60_000;
    return this.records.filter(
      (record) =>
        record.keyArn === keyArn &&
        record.details.subject !== 'grant' &&
        record.at.getTime() >= windowStart &&
        record.at.getTime() <= at.getTime(),
    ).length;
  }

  /** A policy entry with this desired document, recorded at most the intent window before `at`. */
  async intended(keyArn: string, documentSha256: string, at: Date): Promise<boolean> {
    const windowStart = at.getTime() - WRITE_INTENT_WINDOW_MS;
    return this.records.some(
      (record) =>
        record.keyArn === keyArn &&
        record.details.subject !== 'grant' &&
        record.details.desiredPolicy !== undefined &&
        record.at.getTime() >= windowStart &&
        createHash('sha256').update(record.details.desiredPolicy, 'utf8').digest('hex') === documentSha256,
    );
  }

  /** Everything recorded, oldest first (copies: callers cannot rewrite history). */
  entries(): ReapplyRecord[] {
    return this.records.map((record) => ({ ...record, details: { ...record.details } }));
  }
}

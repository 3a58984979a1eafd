/**
 * Write intents and the finding outbox kept in memory: for tests and the CLI (one process, one run).
 * The Lambda functions keep both in the state table (src/aws/dynamo-intents.ts, src/aws/dynamo-outbox.ts).
 */
import type { Finding } from '../core/finding';
import type { KeyLocation } from '../core/key-arn';
import type { FindingOutbox, WriteIntents } from './ports';

/** How long an intent stays open: EventBridge delivers (and retries) the guard's own event within 24 h. */
export const WRITE_INTENT_WINDOW_MS = 24 * 60 * 60 * 1000;

export class InMemoryWriteIntents implements WriteIntents {
  private readonly intents = new Map<string, number>();

  async record(keyArn: string, documentSha256: string, at: Date): Promise<void> {
    this.intents.set(`${keyArn} ${documentSha256}`, at.getTime());
  }

  async matches(keyArn: string, documentSha256: string, at: Date): Promise<boolean> {
    const recorded = this.intents.get(`${keyArn} ${documentSha256}`);
    return recorded !== undefined && at.getTime() - recorded <= WRITE_INTENT_WINDOW_MS;
  }
}

export class InMemoryOutbox implements FindingOutbox {
  private readonly held = new Map<string, Finding>();

  async hold(finding: Finding): Promise<void> {
    this.held.delete(finding.id);
    this.held.set(finding.id, finding);
  }

  async delivered(finding: Finding): Promise<void> {
    this.held.delete(finding.id);
  }

  async pending(location: KeyLocation): Promise<Finding[]> {
    return [...this.held.values()].filter(
      (finding) => finding.account === location.accountId && finding.region === location.region,
    );
  }
}

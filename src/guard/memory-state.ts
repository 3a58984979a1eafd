/**
 * The finding outbox kept in memory: for tests and the CLI (one process, one run). The Lambda functions
 * keep it in the state table (src/aws/dynamo-state.ts).
 */
import type { Finding } from '../core/finding';
import type { KeyLocation } from '../core/key-arn';
import type { FindingOutbox } from './ports';

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

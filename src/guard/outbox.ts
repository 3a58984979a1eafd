/**
 * Publishing through the outbox (docs/architecture.md#outbox): a finding is held in the state table
 * before SNS sees it and removed once SNS accepted it. A failed Publish leaves it held: the invocation
 * fails (Lambda retries the event), the retry delivers what is held once its own check is done, and every
 * audit sweeps the outbox, so no order of failures loses a finding. Consumers de-duplicate by the finding's ID.
 */
import type { Finding } from '../core/finding';
import type { KeyLocation } from '../core/key-arn';
import type { GuardLogger } from './logger';
import type { FindingOutbox, FindingPublisher } from './ports';

export async function publishThroughOutbox(
  outbox: FindingOutbox,
  publisher: FindingPublisher,
  finding: Finding,
  logger: Pick<GuardLogger, 'warn'>,
): Promise<void> {
  await outbox.hold(finding);
  await publisher.publish(finding);
  try {
    await outbox.delivered(finding);
  } catch (error) {
    // Published but still held: the next sweep publishes it again, a duplicate consumers drop by ID.
    logger.warn('outbox_release_failed', { findingId: finding.id, error });
  }
}

export interface Delivery {
  delivered: number;
  /** Findings still held after this attempt (SNS refused them). */
  failed: { findingId: string; error: string }[];
}

/** Publishes every finding held for the location, oldest first; one that fails stays held. */
export async function deliverHeld(
  outbox: FindingOutbox,
  publisher: FindingPublisher,
  location: KeyLocation,
  logger: Pick<GuardLogger, 'info' | 'warn'>,
): Promise<Delivery> {
  const delivery: Delivery = { delivered: 0, failed: [] };
  for (const finding of await outbox.pending(location)) {
    try {
      await publishThroughOutbox(outbox, publisher, finding, logger);
      delivery.delivered += 1;
      logger.info('held_finding_delivered', {
        findingId: finding.id,
        kind: finding.kind,
        keyArn: finding.keyArn,
      });
    } catch (error) {
      delivery.failed.push({
        findingId: finding.id,
        error: error instanceof Error ? error.message : String(error),
      });
      logger.warn('held_finding_not_delivered', { findingId: finding.id, error });
    }
  }
  return delivery;
}

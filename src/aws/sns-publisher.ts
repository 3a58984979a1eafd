/**
 * FindingPublisher backed by SNS: one Publish per finding (src/alerts/sns-message.ts builds it).
 * A failed Publish throws PublishFailedError so the invocation fails and the event is retried.
 */
import { PublishCommand, SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import { buildSnsPublishInput } from '../alerts/sns-message';
import type { Finding } from '../core/finding';
import { PublishFailedError } from '../guard/errors';
import type { GuardLogger } from '../guard/logger';
import type { FindingPublisher } from '../guard/ports';
import { AWS_RETRY_CONFIG } from './client-settings';
import { sdkErrorShape } from './errors';

/** The guard's SNS client, with the retry configuration every client shares; created once per container. */
export function createSnsClient(config: SNSClientConfig = {}): SNSClient {
  return new SNSClient({ ...AWS_RETRY_CONFIG, ...config });
}

export class SnsFindingPublisher implements FindingPublisher {
  constructor(
    private readonly sns: SNSClient,
    private readonly topicArn: string,
    private readonly logger?: GuardLogger,
  ) {}

  async publish(finding: Finding): Promise<void> {
    const message = buildSnsPublishInput(finding, this.topicArn);
    if (message.truncated.length > 0) {
      // The message had to be shortened: the complete finding (overwritten document included) goes to the log.
      this.logger?.warn('finding_truncated', {
        findingId: finding.id,
        truncated: message.truncated,
        finding,
      });
    }
    try {
      await this.sns.send(new PublishCommand(message.input));
    } catch (error) {
      const shape = sdkErrorShape(error);
      throw new PublishFailedError(finding.id, shape.message, shape.name, { cause: error });
    }
  }
}

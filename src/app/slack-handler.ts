/**
 * The Slack notifier (docs/architecture.md#findings-and-messages): SNS findings topic -> Slack. For every
 * record: read the finding, render Block Kit, post it to the incoming webhook whose URL is a SecureString
 * in SSM. The stack's CloudWatch alarms notify the same topic and are rendered as alarms. A message that
 * is neither still produces an "unreadable finding" post. Every record is attempted; if any failed, the
 * invocation throws afterwards so SNS retries it: an alert is never dropped silently.
 * handlers/notify-slack.ts only calls initSlackHandler.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { SNSEvent, SNSEventRecord } from 'aws-lambda';
import {
  renderAlarmMessage,
  renderSlackMessage,
  renderUnreadableFindingMessage,
  type SlackMessage,
} from '../alerts/slack';
import { readFindingFromSnsMessage } from '../alerts/slack-sns-message';
import { SlackDeliveryError, SlackWebhookPoster, SlackWebhookUrl } from '../aws/slack-webhook';
import { SecureParameterReader } from '../aws/ssm-secret';
import { readSlackConfig } from './config';

export class SlackNotificationError extends Error {
  override readonly name = 'SlackNotificationError';
  readonly failures: RecordFailure[];

  constructor(failures: RecordFailure[], total: number) {
    super(
      `${failures.length} of ${total} Slack notification(s) failed; the invocation fails so SNS retries it`,
    );
    this.failures = failures;
  }
}

export class SlackConfigurationError extends Error {
  override readonly name = 'SlackConfigurationError';
}

export interface RecordFailure {
  snsMessageId: string;
  findingId?: string;
  errorName: string;
  status?: number;
}

/** The one method of the webhook poster the handler uses. */
export interface SlackPoster {
  post(url: SlackWebhookUrl, message: SlackMessage): Promise<{ attempts: number; status: number }>;
}

/** The SSM parameter that holds the webhook URL. */
export interface WebhookUrlSource {
  readonly parameterName: string;
  get(): Promise<string>;
  invalidate(): void;
}

export interface SlackHandlerDeps {
  logger: Logger;
  webhookUrlSource: WebhookUrlSource;
  poster: SlackPoster;
  /** `SLACK_WEBHOOK_ALLOW_INSECURE_LOCAL=1`: accept `http://127.0.0.1:<port>` (tests, local runs only). */
  allowInsecureLocal: boolean;
  /** Middy's early-timeout margin; tests pass 0. */
  timeoutEarlyInMillis?: number;
}

/** Statuses that mean the webhook itself is gone or was rotated: read SSM again on the next try. */
const STALE_WEBHOOK_STATUSES = new Set([401, 403, 404, 410]);
const EXCERPT_LENGTH = 500;

function attributesOf(record: SNSEventRecord): Record<string, string> {
  const attributes: Record<string, string> = {};
  for (const name of ['severity', 'keyId', 'action']) {
    const value = record.Sns.MessageAttributes?.[name]?.Value;
    if (typeof value === 'string') attributes[name] = value;
  }
  return attributes;
}

function messageFor(record: SNSEventRecord, logger: Logger): { message: SlackMessage; findingId?: string } {
  const attributes = attributesOf(record);
  const read = readFindingFromSnsMessage(record.Sns.Message);
  if (read.ok && read.kind === 'alarm') return { message: renderAlarmMessage(read.alarm) };
  if (read.ok) return { message: renderSlackMessage(read.finding), findingId: read.finding.id };
  logger.error('SNS message is not a readable finding; posting an unreadable-finding message', {
    classification: read.reason,
    detail: read.detail,
    snsMessageId: record.Sns.MessageId,
    ...attributes,
  });
  return {
    message: renderUnreadableFindingMessage({
      reason: `${read.reason}: ${read.detail}`,
      snsMessageId: record.Sns.MessageId,
      subject: record.Sns.Subject ?? undefined,
      attributes,
      excerpt: record.Sns.Message.slice(0, EXCERPT_LENGTH),
    }),
  };
}

/** The handler logic, wrapped in middy with the Powertools Logger context. */
export function createSlackHandler(deps: SlackHandlerDeps) {
  const { logger, webhookUrlSource, poster } = deps;

  async function webhookUrl(): Promise<SlackWebhookUrl> {
    const value = await webhookUrlSource.get();
    try {
      return SlackWebhookUrl.parse(value, { allowInsecureLocal: deps.allowInsecureLocal });
    } catch (error) {
      webhookUrlSource.invalidate();
      throw new SlackConfigurationError(
        `SSM parameter ${webhookUrlSource.parameterName} does not hold a valid Slack webhook URL`,
        { cause: error },
      );
    }
  }

  async function notify(event: SNSEvent): Promise<void> {
    const records = event.Records ?? [];
    // Without the URL nothing can be delivered: fail the whole invocation now, SNS retries it.
    const url = await webhookUrl().catch((error: unknown) => {
      logger.error('cannot read the Slack webhook URL', {
        parameterName: webhookUrlSource.parameterName,
        errorName: error instanceof Error ? error.name : 'unknown',
        errorMessage: error instanceof Error ? error.message : undefined,
      });
      throw error;
    });

    const failures: RecordFailure[] = [];
    for (const record of records) {
      const { message, findingId } = messageFor(record, logger);
      try {
        const report = await poster.post(url, message);
        logger.info('posted finding to Slack', {
          snsMessageId: record.Sns.MessageId,
          findingId,
          attempts: report.attempts,
          status: report.status,
        });
      } catch (error) {
        const status = error instanceof SlackDeliveryError ? error.status : undefined;
        if (status !== undefined && STALE_WEBHOOK_STATUSES.has(status)) webhookUrlSource.invalidate();
        const failure: RecordFailure = {
          snsMessageId: record.Sns.MessageId,
          findingId,
          errorName: error instanceof Error ? error.name : 'unknown',
          status,
        };
        failures.push(failure);
        logger.error('could not post finding to Slack', {
          ...failure,
          parameterName: webhookUrlSource.parameterName,
          errorMessage: error instanceof Error ? error.message : undefined,
        });
      }
    }
    if (failures.length > 0) {
      logger.error('Slack notifications failed', { failed: failures, total: records.length });
      throw new SlackNotificationError(failures, records.length);
    }
  }

  return middy<SNSEvent, void>({ timeoutEarlyInMillis: deps.timeoutEarlyInMillis ?? 50 })
    .handler(notify)
    .use(injectLambdaContext(logger));
}

/** The webhook URL's SSM parameter, read on first use so init needs no network and no parameter. */
class ParameterWebhookUrlSource implements WebhookUrlSource {
  private reader: SecureParameterReader | undefined;

  constructor(private readonly name: string | undefined) {}

  get parameterName(): string {
    return this.name ?? '(SLACK_WEBHOOK_PARAM not set)';
  }

  get(): Promise<string> {
    if (!this.reader) {
      if (!this.name) return Promise.reject(new SlackConfigurationError('SLACK_WEBHOOK_PARAM is not set'));
      this.reader = SecureParameterReader.create({}, this.name);
    }
    return this.reader.get();
  }

  invalidate(): void {
    this.reader?.invalidate();
  }
}

/** Production wiring from the environment: one Logger and one SSM client per container. */
export function initSlackHandler(env: Readonly<Record<string, string | undefined>>) {
  const config = readSlackConfig(env);
  return createSlackHandler({
    logger: new Logger({ serviceName: 'kms-policy-guard' }),
    webhookUrlSource: new ParameterWebhookUrlSource(config.webhookParam),
    poster: new SlackWebhookPoster(),
    allowInsecureLocal: config.allowInsecureLocal,
  });
}

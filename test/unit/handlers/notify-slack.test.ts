import { Logger } from '@aws-lambda-powertools/logger';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Context, SNSEvent, SNSEventRecord } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { renderSlackMessage, type SlackMessage } from '../../../src/alerts/slack';
import {
  createSlackHandler,
  initSlackHandler,
  SlackConfigurationError,
  SlackNotificationError,
  type SlackPoster,
} from '../../../src/app/slack-handler';
import { SlackDeliveryError, SlackWebhookPoster, type SlackWebhookUrl } from '../../../src/aws/slack-webhook';
import { SecureParameterReader } from '../../../src/aws/ssm-secret';
import { driftFinding } from '../alerts/slack-fixtures';
import { RecordingWebhookServer } from '../aws/slack-webhook-server';

const PARAMETER = '/kms-policy-guard/slack-webhook-url';
const WEBHOOK = 'https://hooks.slack.com/services/T000/B000/SUPERSECRETTOKEN';

const context = {
  functionName: 'kms-policy-guard-dev-notify-slack',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:kms-policy-guard-dev-notify-slack',
  memoryLimitInMB: '256',
  awsRequestId: 'req-1',
  logGroupName: '/aws/lambda/kms-policy-guard-dev-notify-slack',
  logStreamName: 'stream',
  callbackWaitsForEmptyEventLoop: true,
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
} satisfies Context;

function snsRecord(
  message: string,
  messageId: string,
  attributes: Record<string, string> = {},
): SNSEventRecord {
  return {
    EventSource: 'aws:sns',
    EventVersion: '1.0',
    EventSubscriptionArn: 'arn:aws:sns:eu-west-1:111122223333:kms-policy-guard-findings:sub',
    Sns: {
      Type: 'Notification',
      MessageId: messageId,
      TopicArn: 'arn:aws:sns:eu-west-1:111122223333:kms-policy-guard-findings',
      Subject: 'KMS key policy drift',
      Message: message,
      Timestamp: '2026-05-04T10:11:15.000Z',
      SignatureVersion: '1',
      Signature: 'EXAMPLE',
      SigningCertUrl: 'https://sns.eu-west-1.amazonaws.com/cert.pem',
      UnsubscribeUrl: 'https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe',
      MessageAttributes: Object.fromEntries(
        Object.entries(attributes).map(([name, value]) => [name, { Type: 'String', Value: value }]),
      ),
    },
  };
}

/** A poster that records what it was asked to post and fails for the messages it is told to. */
class RecordingPoster implements SlackPoster {
  readonly posted: { url: string; message: SlackMessage }[] = [];
  failWhen: (message: SlackMessage) => SlackDeliveryError | undefined = () => undefined;

  async post(url: SlackWebhookUrl, message: SlackMessage): Promise<{ attempts: number; status: number }> {
    this.posted.push({ url: url.reveal(), message });
    const error = this.failWhen(message);
    if (error) throw error;
    return { attempts: 1, status: 200 };
  }
}

describe('notify-slack handler', () => {
  const ssm = mockClient(SSMClient);
  let logger: Logger;
  let logged: { level: string; args: unknown[] }[];
  let poster: RecordingPoster;

  beforeEach(() => {
    ssm.reset();
    ssm.on(GetParameterCommand).resolves({ Parameter: { Name: PARAMETER, Value: WEBHOOK } });
    logger = new Logger({ serviceName: 'kms-policy-guard-test' });
    logged = [];
    for (const level of ['debug', 'info', 'warn', 'error'] as const) {
      jest.spyOn(logger, level).mockImplementation((...args: unknown[]) => {
        logged.push({ level, args });
      });
    }
    poster = new RecordingPoster();
  });

  function slackHandler(
    reader = new SecureParameterReader({ client: new SSMClient({}), parameterName: PARAMETER }),
  ) {
    return createSlackHandler({
      logger,
      webhookUrlSource: reader,
      poster,
      allowInsecureLocal: false,
      timeoutEarlyInMillis: 0,
    });
  }

  function logText(): string {
    return JSON.stringify(logged);
  }

  it('posts one rendered Block Kit message per record, reading the finding JSON or its envelope', async () => {
    // Prepare
    const first = driftFinding({ id: 'finding-1' });
    const second = driftFinding({ id: 'finding-2', severity: 'medium' });
    const event: SNSEvent = {
      Records: [
        snsRecord(JSON.stringify(first), 'msg-1', {
          severity: 'critical',
          keyId: first.keyId,
          action: 'alerted',
        }),
        snsRecord(JSON.stringify({ default: JSON.stringify(second), email: 'text' }), 'msg-2'),
      ],
    };

    // Act
    await slackHandler()(event, context);

    // Assess
    expect(poster.posted).toEqual([
      { url: WEBHOOK, message: renderSlackMessage(first) },
      { url: WEBHOOK, message: renderSlackMessage(second) },
    ]);
    expect(logged.filter((entry) => entry.args[0] === 'posted finding to Slack')).toHaveLength(2);
  });

  it('still posts an unreadable-finding message for a message that is not a finding, and logs why', async () => {
    // Prepare
    const event: SNSEvent = {
      Records: [
        snsRecord('Key policy drift <!channel>', 'msg-9', {
          severity: 'high',
          keyId: 'k-1',
          action: 'alerted',
        }),
      ],
    };

    // Act
    await slackHandler()(event, context);

    // Assess
    expect(poster.posted).toHaveLength(1);
    const message = poster.posted[0]?.message;
    expect(message?.blocks[0]).toMatchObject({
      type: 'header',
      text: { text: ':warning: Unreadable kms-policy-guard finding' },
    });
    expect(JSON.stringify(message)).toContain('Key policy drift &lt;!channel&gt;');
    expect(JSON.stringify(message)).not.toContain('<!channel>');
    expect(logged).toContainEqual({
      level: 'error',
      args: [
        'SNS message is not a readable finding; posting an unreadable-finding message',
        expect.objectContaining({
          classification: 'not-json',
          snsMessageId: 'msg-9',
          severity: 'high',
          keyId: 'k-1',
        }),
      ],
    });
  });

  it('attempts every record, then throws naming the ones that failed so SNS retries', async () => {
    // Prepare
    poster.failWhen = (message) =>
      message.blocks.some((block) => JSON.stringify(block).includes('finding-2'))
        ? new SlackDeliveryError('Slack webhook answered HTTP 500; gave up after 4 attempts', {
            status: 500,
            attempts: 4,
            retryable: true,
          })
        : undefined;
    const event: SNSEvent = {
      Records: ['finding-1', 'finding-2', 'finding-3'].map((id, index) =>
        snsRecord(JSON.stringify(driftFinding({ id })), `msg-${index + 1}`),
      ),
    };

    // Act
    const error: unknown = await slackHandler()(event, context).catch((caught: unknown) => caught);

    // Assess
    expect(poster.posted).toHaveLength(3);
    expect(error).toBeInstanceOf(SlackNotificationError);
    expect(error).toMatchObject({
      failures: [
        { snsMessageId: 'msg-2', findingId: 'finding-2', errorName: 'SlackDeliveryError', status: 500 },
      ],
    });
    expect(logged).toContainEqual({
      level: 'error',
      args: [
        'Slack notifications failed',
        { failed: [expect.objectContaining({ snsMessageId: 'msg-2' })], total: 3 },
      ],
    });
  });

  it('reads the webhook URL from SSM once for many invocations', async () => {
    // Prepare
    const notify = slackHandler();
    const event: SNSEvent = { Records: [snsRecord(JSON.stringify(driftFinding()), 'msg-1')] };

    // Act
    for (let invocation = 0; invocation < 10; invocation += 1) await notify(event, context);

    // Assess
    expect(poster.posted).toHaveLength(10);
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
  });

  it('reads SSM again after the webhook answered 404 (revoked or rotated)', async () => {
    // Prepare
    const notify = slackHandler();
    const event: SNSEvent = { Records: [snsRecord(JSON.stringify(driftFinding()), 'msg-1')] };
    poster.failWhen = () =>
      new SlackDeliveryError('Slack webhook answered HTTP 404 (no_service); not retried', {
        status: 404,
        attempts: 1,
        retryable: false,
      });
    await expect(notify(event, context)).rejects.toThrow(SlackNotificationError);
    poster.failWhen = () => undefined;

    // Act
    await notify(event, context);

    // Assess
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(2);
  });

  it.each([
    ['not a Slack URL', 'https://evil.example/services/SUPERSECRETTOKEN'],
    ['plain http', 'http://hooks.slack.com/services/SUPERSECRETTOKEN'],
    ['loopback without the escape hatch', 'http://127.0.0.1:9000/SUPERSECRETTOKEN'],
  ])(
    'refuses a parameter value that is %s, logging the parameter name but never the value',
    async (_name, value) => {
      // Prepare
      ssm.on(GetParameterCommand).resolves({ Parameter: { Value: value } });
      const event: SNSEvent = { Records: [snsRecord(JSON.stringify(driftFinding()), 'msg-1')] };

      // Act
      const error: unknown = await slackHandler()(event, context).catch((caught: unknown) => caught);

      // Assess
      expect(error).toBeInstanceOf(SlackConfigurationError);
      expect(poster.posted).toEqual([]);
      expect(logText()).toContain(PARAMETER);
      expect(logText()).not.toContain('SUPERSECRETTOKEN');
      expect(String(error)).not.toContain('SUPERSECRETTOKEN');
    },
  );

  it('never logs the webhook URL, on success or on failure', async () => {
    // Prepare
    poster.failWhen = (message) =>
      message.text.includes('medium')
        ? new SlackDeliveryError('Slack webhook answered HTTP 400 (invalid_payload); not retried', {
            status: 400,
            attempts: 1,
            retryable: false,
          })
        : undefined;
    const event: SNSEvent = {
      Records: [
        snsRecord(JSON.stringify(driftFinding()), 'msg-1'),
        snsRecord(JSON.stringify(driftFinding({ severity: 'medium', title: 'medium drift' })), 'msg-2'),
      ],
    };

    // Act
    await expect(slackHandler()(event, context)).rejects.toThrow(SlackNotificationError);

    // Assess
    expect(logged.length).toBeGreaterThan(1);
    expect(logText()).not.toContain('SUPERSECRETTOKEN');
    expect(logText()).not.toContain('hooks.slack.com');
  });

  it('fails the invocation when SSM cannot be read, without posting', async () => {
    // Prepare
    ssm
      .on(GetParameterCommand)
      .rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    const event: SNSEvent = { Records: [snsRecord(JSON.stringify(driftFinding()), 'msg-1')] };

    // Act
    const error: unknown = await slackHandler()(event, context).catch((caught: unknown) => caught);

    // Assess
    expect(error).toMatchObject({ name: 'SecureParameterError', parameterName: PARAMETER });
    expect(poster.posted).toEqual([]);
    expect(logged).toContainEqual({
      level: 'error',
      args: ['cannot read the Slack webhook URL', expect.objectContaining({ parameterName: PARAMETER })],
    });
  });
});

describe('notify-slack handler end to end (SSM mock, real poster, local webhook server)', () => {
  const ssm = mockClient(SSMClient);
  const server = new RecordingWebhookServer();
  let webhookUrl = '';

  beforeAll(async () => {
    webhookUrl = await server.start();
  });
  afterAll(() => server.stop());

  it('delivers the rendered finding over HTTP, retrying a 429 as Slack asks', async () => {
    // Prepare
    ssm.reset();
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: webhookUrl } });
    server.answerWith({ status: 429, headers: { 'retry-after': '1' } }, { status: 200, body: 'ok' });
    const waits: number[] = [];
    const logger = new Logger({ serviceName: 'kms-policy-guard-test', logLevel: 'SILENT' });
    const notify = createSlackHandler({
      logger,
      webhookUrlSource: new SecureParameterReader({ client: new SSMClient({}), parameterName: PARAMETER }),
      poster: new SlackWebhookPoster({ sleep: async (ms) => void waits.push(ms) }),
      allowInsecureLocal: true,
      timeoutEarlyInMillis: 0,
    });
    const finding = driftFinding();

    // Act
    await notify({ Records: [snsRecord(JSON.stringify(finding), 'msg-1')] }, context);

    // Assess
    expect(waits).toEqual([1000]);
    expect(server.posts).toHaveLength(2);
    expect(JSON.parse(server.posts[1]?.body ?? '')).toEqual(renderSlackMessage(finding));
  });
});

describe('notify-slack deployed handler', () => {
  it('fails loudly when SLACK_WEBHOOK_PARAM is not set', async () => {
    // Prepare
    const deployedHandler = initSlackHandler({});
    const event: SNSEvent = { Records: [snsRecord(JSON.stringify(driftFinding()), 'msg-1')] };

    // Act
    const error: unknown = await deployedHandler(event, context).catch((caught: unknown) => caught);

    // Assess
    expect(error).toBeInstanceOf(SlackConfigurationError);
    expect(error).toMatchObject({ message: 'SLACK_WEBHOOK_PARAM is not set' });
  });
});

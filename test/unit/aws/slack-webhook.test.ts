/**
 * The webhook poster against a real HTTP server on 127.0.0.1 that records every post and answers from a
 * script: the real protocol (fetch, headers, bodies, status codes), no network beyond loopback, milliseconds.
 */
import { inspect } from 'node:util';
import {
  SlackDeliveryError,
  SlackWebhookPoster,
  SlackWebhookUrl,
  SlackWebhookUrlError,
} from '../../../src/aws/slack-webhook';
import { RecordingWebhookServer } from './slack-webhook-server';

const MESSAGE = {
  text: 'hello',
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'hi', verbatim: true } }],
};

describe('SlackWebhookPoster against a local HTTP server', () => {
  const server = new RecordingWebhookServer();
  let rawUrl = '';
  let url: SlackWebhookUrl;
  let sleeps: number[] = [];
  const sleep = async (ms: number): Promise<void> => {
    sleeps.push(ms);
  };

  beforeAll(async () => {
    rawUrl = await server.start();
    url = SlackWebhookUrl.parse(rawUrl, { allowInsecureLocal: true });
  });
  afterAll(() => server.stop());
  beforeEach(() => {
    server.posts.length = 0;
    sleeps = [];
  });

  function poster(
    options: { maxAttempts?: number; maxTotalWaitMs?: number; requestTimeoutMs?: number } = {},
  ) {
    return new SlackWebhookPoster({ sleep, baseBackoffMs: 500, ...options });
  }

  async function failure(promise: Promise<unknown>): Promise<SlackDeliveryError> {
    const error: unknown = await promise.then(
      () => undefined,
      (caught: unknown) => caught,
    );
    if (!(error instanceof SlackDeliveryError))
      throw new Error(`expected a SlackDeliveryError, got ${String(error)}`);
    return error;
  }

  it('posts the message as JSON and reports one attempt', async () => {
    // Prepare
    server.answerWith({ status: 200, body: 'ok' });

    // Act
    const report = await poster().post(url, MESSAGE);

    // Assess
    expect(report).toEqual({ status: 200, attempts: 1, waits: [] });
    expect(server.posts).toHaveLength(1);
    expect(server.posts[0]).toMatchObject({ method: 'POST', path: '/services/T000/B000/SECRETPATH' });
    expect(server.posts[0]?.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(JSON.parse(server.posts[0]?.body ?? '')).toEqual(MESSAGE);
  });

  it('waits as long as Retry-After says on 429, then delivers', async () => {
    // Prepare
    server.answerWith(
      { status: 429, headers: { 'retry-after': '3' }, body: 'rate_limited' },
      { status: 200, body: 'ok' },
    );

    // Act
    const report = await poster().post(url, MESSAGE);

    // Assess
    expect(sleeps).toEqual([3000]);
    expect(report).toEqual({ status: 200, attempts: 2, waits: [3000] });
    expect(server.posts).toHaveLength(2);
  });

  it('fails fast on 429 when Retry-After is beyond the wait budget, so SNS retries later', async () => {
    // Prepare
    server.answerWith({ status: 429, headers: { 'retry-after': '120' } });

    // Act
    const error = await failure(poster({ maxTotalWaitMs: 20_000 }).post(url, MESSAGE));

    // Assess
    expect(error).toMatchObject({ status: 429, attempts: 1, retryable: true });
    expect(error.message).toMatch(/would exceed the 20000 ms budget/);
    expect(sleeps).toEqual([]);
    expect(server.posts).toHaveLength(1);
  });

  it('backs off on 5xx and delivers when the server recovers', async () => {
    // Prepare
    server.answerWith({ status: 503 }, { status: 502 }, { status: 200, body: 'ok' });

    // Act
    const report = await poster().post(url, MESSAGE);

    // Assess
    expect(report).toEqual({ status: 200, attempts: 3, waits: [500, 1000] });
  });

  it('throws a retryable SlackDeliveryError after repeated 500s, with bounded attempts', async () => {
    // Prepare
    server.answerWith(...Array.from({ length: 10 }, () => ({ status: 500, body: 'internal' })));

    // Act
    const error = await failure(poster({ maxAttempts: 4 }).post(url, MESSAGE));

    // Assess
    expect(error).toMatchObject({ name: 'SlackDeliveryError', status: 500, attempts: 4, retryable: true });
    expect(sleeps).toEqual([500, 1000, 2000]);
    expect(server.posts).toHaveLength(4);
  });

  it.each([
    [400, 'invalid_payload'],
    [403, 'invalid_token'],
    [404, 'no_service'],
  ])('throws on %i at once, with the status and without the URL in the message', async (status, body) => {
    // Prepare
    server.answerWith({ status, body });

    // Act
    const error = await failure(poster().post(url, MESSAGE));

    // Assess
    expect(error).toMatchObject({ status, attempts: 1, retryable: false });
    expect(error.message).toBe(`Slack webhook answered HTTP ${status} (${body}); not retried`);
    const printed = `${error.message} ${error.stack ?? ''} ${inspect(error)} ${JSON.stringify(error)}`;
    expect(printed).not.toContain('SECRETPATH');
    expect(printed).not.toContain(rawUrl);
    expect(server.posts).toHaveLength(1);
  });

  it('retries network errors and reports them without the URL', async () => {
    // Prepare: a port nothing listens on.
    const closed = new RecordingWebhookServer();
    const closedUrl = SlackWebhookUrl.parse(await closed.start(), { allowInsecureLocal: true });
    await closed.stop();

    // Act
    const error = await failure(poster({ maxAttempts: 2 }).post(closedUrl, MESSAGE));

    // Assess
    expect(error).toMatchObject({ status: undefined, attempts: 2, retryable: true });
    expect(error.message).toMatch(
      /Slack webhook request failed \(TypeError ECONNREFUSED\); gave up after 2 attempts/,
    );
    expect(`${error.message} ${String(error.cause)}`).not.toContain('SECRETPATH');
  });

  it('gives up on a server that never answers after the request timeout', async () => {
    // Prepare
    server.answerWith({ status: 200, hang: true }, { status: 200, hang: true });

    // Act
    const error = await failure(poster({ maxAttempts: 2, requestTimeoutMs: 50 }).post(url, MESSAGE));

    // Assess
    expect(error).toMatchObject({ status: undefined, attempts: 2, retryable: true });
    expect(error.message).toMatch(/TimeoutError/);
  });
});

describe('SlackWebhookUrl', () => {
  it.each([
    ['https://hooks.slack.com/services/T000/B000/XXXX', false],
    ['https://hooks.slack.com/triggers/T000/123/abc', false],
    ['http://127.0.0.1:8080/services/x', true],
  ])('accepts %s', (value, allowInsecureLocal) => {
    expect(SlackWebhookUrl.parse(value, { allowInsecureLocal }).reveal()).toBe(value);
  });

  it.each([
    ['plain http to Slack', 'http://hooks.slack.com/services/T000/B000/XXXX', false],
    ['a look-alike host', 'https://hooks.slack.com.evil.example/services/T000/B000/XXXX', false],
    ['Slack in the path only', 'https://evil.example/hooks.slack.com/services/XXXX', false],
    ['credentials in the URL', 'https://user:pass@hooks.slack.com/services/XXXX', false],
    ['another port', 'https://hooks.slack.com:8443/services/XXXX', false],
    ['no path', 'https://hooks.slack.com/', false],
    ['loopback without the escape hatch', 'http://127.0.0.1:8080/services/XXXX', false],
    ['localhost even with the escape hatch', 'http://localhost:8080/services/XXXX', true],
    ['another address with the escape hatch', 'http://10.0.0.1:8080/services/XXXX', true],
    ['not a URL', 'hooks.slack.com/services/XXXX', false],
  ])('rejects %s without echoing the value', (_name, value, allowInsecureLocal) => {
    // Act
    const error: unknown = (() => {
      try {
        SlackWebhookUrl.parse(value, { allowInsecureLocal });
        return undefined;
      } catch (caught) {
        return caught;
      }
    })();

    // Assess
    expect(error).toBeInstanceOf(SlackWebhookUrlError);
    expect(error instanceof Error ? error.message : '').not.toContain('XXXX');
  });

  it('redacts itself when printed, logged or serialised', () => {
    // Prepare
    const url = SlackWebhookUrl.parse('https://hooks.slack.com/services/T000/B000/XXXX');

    // Act
    const printed = [
      String(url),
      `${url}`,
      JSON.stringify({ url }),
      inspect(url),
      inspect({ nested: { url } }),
    ];

    // Assess
    for (const text of printed) {
      expect(text).toContain('[redacted Slack webhook URL]');
      expect(text).not.toContain('XXXX');
    }
  });
});

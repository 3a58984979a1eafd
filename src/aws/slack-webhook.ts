/**
 * Posts a message to a Slack incoming webhook with Node's global fetch.
 *
 * The webhook URL is a bearer credential: it lives in a `SlackWebhookUrl` whose string and JSON forms are
 * redacted, so a stray log line or error cannot print it, and no error built here ever contains it.
 * Delivery: 2xx is done; 429 waits as long as `Retry-After` says and tries again; 5xx and network errors
 * back off and try again; both within a bounded number of attempts and total wait. Anything else, or
 * running out of attempts, throws `SlackDeliveryError` so the Lambda invocation fails and SNS retries it:
 * no alert is dropped silently.
 */

export class SlackWebhookUrlError extends Error {
  override readonly name = 'SlackWebhookUrlError';
}

const REDACTED = '[redacted Slack webhook URL]';

/** A validated webhook URL that does not print itself. */
export class SlackWebhookUrl {
  readonly #url: string;

  private constructor(url: string) {
    this.#url = url;
  }

  /** Validates `value`: `https://hooks.slack.com/…`, or with `allowInsecureLocal` also `http://127.0.0.1:<port>/…`. */
  static parse(value: string, options: { allowInsecureLocal?: boolean } = {}): SlackWebhookUrl {
    const expected = options.allowInsecureLocal
      ? 'an https://hooks.slack.com/ URL or (local testing) an http://127.0.0.1:<port>/ URL'
      : 'an https://hooks.slack.com/ URL';
    let url: URL;
    try {
      url = new URL(value.trim());
    } catch {
      throw new SlackWebhookUrlError(`the webhook value is not a URL; expected ${expected}`);
    }
    const noCredentials = url.username === '' && url.password === '';
    const isSlack =
      url.protocol === 'https:' &&
      url.hostname === 'hooks.slack.com' &&
      url.port === '' &&
      url.pathname.length > 1 &&
      noCredentials;
    const isLocal =
      options.allowInsecureLocal === true &&
      url.protocol === 'http:' &&
      url.hostname === '127.0.0.1' &&
      noCredentials;
    if (!isSlack && !isLocal) throw new SlackWebhookUrlError(`the webhook value is not ${expected}`);
    return new SlackWebhookUrl(url.toString());
  }

  /** The real URL, for the one place that needs it: the request. */
  reveal(): string {
    return this.#url;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return REDACTED;
  }
}

export class SlackDeliveryError extends Error {
  override readonly name = 'SlackDeliveryError';
  /** Last HTTP status; undefined when no response was received (network error, timeout). */
  readonly status: number | undefined;
  readonly attempts: number;
  /** True for 429/5xx/network failures: a later retry (SNS re-invoking the Lambda) may succeed. */
  readonly retryable: boolean;

  constructor(
    message: string,
    details: { status: number | undefined; attempts: number; retryable: boolean },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = details.status;
    this.attempts = details.attempts;
    this.retryable = details.retryable;
  }
}

export interface SlackWebhookPosterOptions {
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Attempts per message, the first included. */
  maxAttempts?: number;
  /** Total time spent waiting between attempts; a Retry-After beyond it fails fast instead. */
  maxTotalWaitMs?: number;
  /** Backoff for 5xx and network errors: base, 2×base, 4×base … */
  baseBackoffMs?: number;
  /** Per-request timeout. */
  requestTimeoutMs?: number;
}

export interface DeliveryReport {
  status: number;
  attempts: number;
  /** Waits between attempts, in order (ms). */
  waits: number[];
}

const MAX_ERROR_BODY = 200;

function retryAfterMs(header: string | null): number | undefined {
  if (header === null || !/^\s*\d+\s*$/.test(header)) return undefined;
  return Number.parseInt(header, 10) * 1000;
}

function stringProperty(value: unknown, key: string): string | undefined {
  if (typeof value !== 'object' || value === null || !(key in value)) return undefined;
  const property: unknown = (value as Record<string, unknown>)[key];
  return typeof property === 'string' ? property : undefined;
}

/**
 * A network error without anything that could carry the URL: its name and system error code only.
 * Duck-typed, because fetch's errors (undici TypeError, DOMException TimeoutError) may come from another
 * realm (Jest's VM context) where `instanceof Error` is false.
 */
function redactedNetworkCause(error: unknown): Error {
  const name = stringProperty(error, 'name') ?? 'UnknownError';
  const code = stringProperty(
    typeof error === 'object' && error !== null ? (error as { cause?: unknown }).cause : undefined,
    'code',
  );
  return new Error(code ? `${name} ${code}` : name);
}

async function readBodySafely(response: Response): Promise<string> {
  try {
    const text = await response.text();
    // Only Slack's short error codes are useful (`invalid_payload`, `no_service`); keep printable ASCII.
    return text.replace(/[^\x20-\x7E]/g, ' ').slice(0, MAX_ERROR_BODY);
  } catch {
    return '';
  }
}

export class SlackWebhookPoster {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly maxAttempts: number;
  private readonly maxTotalWaitMs: number;
  private readonly baseBackoffMs: number;
  private readonly requestTimeoutMs: number;

  constructor(options: SlackWebhookPosterOptions = {}) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    // Worst case per message: 4 attempts × 5 s + 15 s of waits = 35 s, inside the function's 60 s timeout.
    this.maxTotalWaitMs = options.maxTotalWaitMs ?? 15_000;
    this.baseBackoffMs = options.baseBackoffMs ?? 500;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
  }

  async post(url: SlackWebhookUrl, message: unknown): Promise<DeliveryReport> {
    const body = JSON.stringify(message);
    const waits: number[] = [];
    let waited = 0;
    for (let attempt = 1; ; attempt += 1) {
      let status: number | undefined;
      let retryAfter: number | undefined;
      let failure: string;
      let cause: Error | undefined;
      try {
        const response = await this.fetch(url.reveal(), {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body,
          redirect: 'error',
          signal: AbortSignal.timeout(this.requestTimeoutMs),
        });
        status = response.status;
        const responseBody = await readBodySafely(response);
        if (response.ok) return { status, attempts: attempt, waits };
        retryAfter = status === 429 ? retryAfterMs(response.headers.get('retry-after')) : undefined;
        failure = `Slack webhook answered HTTP ${status}${responseBody ? ` (${responseBody.trim()})` : ''}`;
        if (status !== 429 && status < 500) {
          throw new SlackDeliveryError(`${failure}; not retried`, {
            status,
            attempts: attempt,
            retryable: false,
          });
        }
      } catch (error) {
        if (error instanceof SlackDeliveryError) throw error;
        cause = redactedNetworkCause(error);
        failure = `Slack webhook request failed (${cause.message})`;
      }

      const wait = retryAfter ?? this.baseBackoffMs * 2 ** (attempt - 1);
      const details = { status, attempts: attempt, retryable: true };
      if (attempt >= this.maxAttempts) {
        throw new SlackDeliveryError(`${failure}; gave up after ${attempt} attempts`, details, { cause });
      }
      if (waited + wait > this.maxTotalWaitMs) {
        throw new SlackDeliveryError(
          `${failure}; the next wait of ${wait} ms would exceed the ${this.maxTotalWaitMs} ms budget`,
          details,
          { cause },
        );
      }
      waits.push(wait);
      waited += wait;
      await this.sleep(wait);
    }
  }
}

/**
 * A SecureString from SSM Parameter Store, read with decryption and cached per Lambda container.
 *
 * The value is a secret (the Slack webhook URL is a bearer credential): it is never logged and never put in
 * an error message — errors name the parameter only. Create one reader at module scope so the cache lives
 * as long as the container; the TTL bounds how long a rotated value is ignored, and `invalidate()` lets a
 * caller that learned the value is stale (the webhook answers 404) force the next read.
 */
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { AWS_RETRY_CONFIG, type AwsClientSettings } from './client-settings';

export const DEFAULT_SECRET_TTL_MS = 5 * 60 * 1000;

export class SecureParameterError extends Error {
  override readonly name = 'SecureParameterError';
  readonly parameterName: string;

  constructor(message: string, parameterName: string, options?: { cause?: unknown }) {
    super(message, options);
    this.parameterName = parameterName;
  }
}

export interface SecureParameterReaderOptions {
  client: Pick<SSMClient, 'send'>;
  parameterName: string;
  ttlMs?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

interface CachedValue {
  value: string;
  expiresAt: number;
}

/** Summarises an SDK error without anything it might echo back: name and HTTP status only (duck-typed). */
function redactedCause(error: unknown): Error {
  if (typeof error !== 'object' || error === null) return new Error('non-object thrown by the SSM client');
  const { name, $metadata } = error as { name?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = typeof $metadata?.httpStatusCode === 'number' ? ` (HTTP ${$metadata.httpStatusCode})` : '';
  return new Error(`${typeof name === 'string' ? name : 'UnknownError'}${status}`);
}

export class SecureParameterReader {
  readonly parameterName: string;
  private readonly client: Pick<SSMClient, 'send'>;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private cached: CachedValue | undefined;
  /** Concurrent callers during a miss share one GetParameter. */
  private inFlight: Promise<string> | undefined;

  constructor(options: SecureParameterReaderOptions) {
    this.client = options.client;
    this.parameterName = options.parameterName;
    this.ttlMs = options.ttlMs ?? DEFAULT_SECRET_TTL_MS;
    this.now = options.now ?? Date.now;
  }

  /** A reader with its own SSM client (one per container). */
  static create(settings: AwsClientSettings, parameterName: string): SecureParameterReader {
    return new SecureParameterReader({
      client: new SSMClient({ ...AWS_RETRY_CONFIG, ...settings }),
      parameterName,
    });
  }

  async get(): Promise<string> {
    const cached = this.cached;
    if (cached && this.now() < cached.expiresAt) return cached.value;
    if (!this.inFlight) {
      this.inFlight = this.fetch().finally(() => {
        this.inFlight = undefined;
      });
    }
    return this.inFlight;
  }

  /** Forgets the cached value: the next `get()` reads SSM again. */
  invalidate(): void {
    this.cached = undefined;
  }

  private async fetch(): Promise<string> {
    let value: string | undefined;
    try {
      const output = await this.client.send(
        new GetParameterCommand({ Name: this.parameterName, WithDecryption: true }),
      );
      value = output.Parameter?.Value;
    } catch (error) {
      throw new SecureParameterError(
        `could not read SSM parameter ${this.parameterName}`,
        this.parameterName,
        {
          cause: redactedCause(error),
        },
      );
    }
    if (value === undefined || value.trim() === '') {
      throw new SecureParameterError(`SSM parameter ${this.parameterName} has no value`, this.parameterName);
    }
    this.cached = { value, expiresAt: this.now() + this.ttlMs };
    return value;
  }
}

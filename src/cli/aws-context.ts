/**
 * The CLI's AWS settings, from `--region`, `--profile` and `--endpoint-url` (any AWS-compatible
 * endpoint, e.g. a local moto server), and AWS failures turned into one line a person can act on.
 *
 * `--profile` is passed to the SDK clients' own `profile` setting: the default credential chain and
 * Region lookup then read that profile (no extra dependency, no change to the process environment).
 * Every client gets the guard's retry configuration (AWS_RETRY_CONFIG: adaptive, 5 attempts).
 */
import type { AwsClientSettings } from '../aws/client-settings';
import { REGION_PATTERN } from '../core/key-arn';
import { CliExitError, EXIT_USAGE } from './errors';

export interface AwsCliOptions {
  region?: string;
  profile?: string;
  endpointUrl?: string;
}

/** Where the CLI's AWS calls go, for failure hints. */
export interface CliAwsTarget {
  endpointUrl?: string;
}

/** `--endpoint-url` must be an http(s) URL; anything else is a usage error, not a network failure later. */
export function parseEndpointUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CliExitError(
      `--endpoint-url: "${value}" is not a URL (e.g. http://127.0.0.1:5000)`,
      EXIT_USAGE,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliExitError(`--endpoint-url: "${value}" must start with http:// or https://`, EXIT_USAGE);
  }
  return value.replace(/\/+$/, '');
}

/** The SDK configuration shared by every client (exported for tests). */
export function awsClientConfig(
  options: AwsCliOptions,
  env: Readonly<Record<string, string | undefined>>,
): AwsClientSettings {
  const config: AwsClientSettings = {};
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region !== undefined && region !== '') {
    if (!REGION_PATTERN.test(region)) {
      throw new CliExitError(`--region: "${region}" is not an AWS Region (e.g. eu-west-1)`, EXIT_USAGE);
    }
    config.region = region;
  }
  if (options.profile) config.profile = options.profile;
  if (options.endpointUrl !== undefined) config.endpoint = parseEndpointUrl(options.endpointUrl);
  return config;
}

/** A hint for the usual reasons an AWS call fails from a laptop or CI job, or undefined. */
export function awsFailureHint(message: string, clients: CliAwsTarget): string | undefined {
  if (/Region is missing/i.test(message)) return 'pass --region or set AWS_REGION';
  if (
    /credential/i.test(message) ||
    /security token|UnrecognizedClient|InvalidSignature|ExpiredToken/i.test(message)
  ) {
    return 'check the credentials: --profile, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY';
  }
  if (
    /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|socket hang up|getaddrinfo|TimeoutError/i.test(
      message,
    )
  ) {
    return clients.endpointUrl
      ? `is ${clients.endpointUrl} right, and is the endpoint running?`
      : 'is the network (or a proxy) reaching AWS?';
  }
  if (/AccessDenied|not authorized/i.test(message))
    return 'the credentials lack a KMS permission (see the message)';
  return undefined;
}

/** One line: the message (first line only) and a hint when one applies. */
export function describeAwsFailure(message: string, clients: CliAwsTarget): string {
  const firstLine = message.split('\n')[0] ?? message;
  const hint = awsFailureHint(firstLine, clients);
  return hint ? `${firstLine} (${hint})` : firstLine;
}

/**
 * What the CLI commands that talk to AWS share: the common options, the manifest, and the guard built
 * by the composition root (src/app/guard-deps.ts) for a laptop or CI job: findings collected in the
 * process (forwarded to SNS only on request), a ledger in memory, no log lines, paths from the cwd.
 */
import type { Command } from 'commander';
import { buildGuard, type Guard, type GuardWiring } from '../app/guard-deps';
import type { AwsClientSettings } from '../aws/client-settings';
import type { Finding } from '../core/finding';
import { DEFAULT_SPOKE_ROLE_NAME } from '../core/spoke-names';
import { DEFAULT_AUDIT_CONCURRENCY, MAX_AUDIT_CONCURRENCY } from '../guard/audit/report';
import type { GuardLogger } from '../guard/logger';
import { InMemoryRemediationLedger } from '../guard/memory-ledger';
import type { FindingPublisher } from '../guard/ports';
import { loadManifest, ManifestError } from '../manifest';
import type { LoadedManifest } from '../manifest/types';
import { type AwsCliOptions, awsClientConfig, type CliAwsTarget } from './aws-context';
import { CliExitError, EXIT_USAGE } from './errors';
import { collectValues } from './option-values';
import type { OrgCliOptions } from './org-targets';

export const DEFAULT_MANIFEST = 'policies/manifest.yaml';

/** The options `audit` and `apply` share. */
export interface CommonCliOptions extends AwsCliOptions, OrgCliOptions {
  manifest: string;
  concurrency?: string;
}

/** Adds --region, --profile, --endpoint-url and --concurrency (what `what` keys do at once) to a command. */
export function addAwsOptions(command: Command, what = 'keys checked'): Command {
  return command
    .option('--region <region>', 'AWS Region (default: AWS_REGION or the profile)')
    .option('--profile <name>', 'AWS shared-config profile for credentials and Region')
    .option(
      '--endpoint-url <url>',
      'an AWS-compatible endpoint, e.g. a local moto server (http://127.0.0.1:5000)',
    )
    .option(
      '--concurrency <n>',
      `${what} at the same time (1..${MAX_AUDIT_CONCURRENCY})`,
      String(DEFAULT_AUDIT_CONCURRENCY),
    );
}

/** Adds the cross-account options, --manifest and the AWS options to a command. */
export function addCommonOptions(command: Command): Command {
  return addAwsOptions(
    command
      .option(
        '--accounts <ids>',
        'work in these accounts through their spoke role (repeatable, comma-separated)',
        collectValues,
      )
      .option('--regions <regions>', 'work in these Regions (repeatable, comma-separated)', collectValues)
      .option('--role-name <name>', 'the spoke role to assume in each of --accounts', DEFAULT_SPOKE_ROLE_NAME)
      .option('--external-id <id>', 'the sts:ExternalId the spoke roles require')
      .option('--manifest <path>', 'the manifest (keys -> desired policies and modes)', DEFAULT_MANIFEST),
  );
}

export function parseConcurrency(raw: string | undefined): number {
  const text = raw ?? String(DEFAULT_AUDIT_CONCURRENCY);
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > MAX_AUDIT_CONCURRENCY) {
    throw new CliExitError(
      `--concurrency: "${text}" must be an integer from 1 to ${MAX_AUDIT_CONCURRENCY}`,
      EXIT_USAGE,
    );
  }
  return value;
}

/** Loads and validates the manifest; an invalid one is a usage error listing every problem. */
export function loadCliManifest(path: string): LoadedManifest {
  try {
    return loadManifest(path);
  } catch (error) {
    if (error instanceof ManifestError) {
      const [headline = error.message] = error.message.split('\n');
      const problems = error.problems.map((problem) => `\n  - ${problem}`).join('');
      throw new CliExitError(`${headline}${problems}`, EXIT_USAGE, { cause: error });
    }
    throw error;
  }
}

/** Findings stay in the process (printed by the command); optionally also forwarded to SNS. */
export class CollectingPublisher implements FindingPublisher {
  readonly findings: Finding[] = [];

  constructor(private readonly forward?: FindingPublisher) {}

  async publish(finding: Finding): Promise<void> {
    this.findings.push(finding);
    if (this.forward) await this.forward.publish(finding);
  }
}

/** The CLI prints a report; the guard's structured log lines would only be noise on a terminal. */
export const QUIET_LOGGER: GuardLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export interface CliGuard extends CliAwsTarget {
  guard: Guard;
  publisher: CollectingPublisher;
  /** The Region given on the command line or in the environment; undefined: the SDK's profile lookup. */
  region?: string;
}

/**
 * The guard on a laptop or in CI; `topicArn` forwards every finding to SNS as well (audit --publish),
 * `securityHub` sends them to AWS Security Hub (audit --security-hub).
 */
export function cliGuard(
  options: AwsCliOptions,
  env: Readonly<Record<string, string | undefined>>,
  manifest: LoadedManifest,
  topicArn?: string,
  /**
   * One account and Region of --accounts/--regions: its Region, the spoke role's credentials and the spoke role's
   * ARN, the principal the guard acts as there (what `{{GuardPrincipal}}` names, docs/manifest.md#placeholders).
   */
  target?: Pick<AwsClientSettings, 'region' | 'credentials'> & { guardPrincipalArn?: string },
  /** Findings to Security Hub too, with these credentials (the target's account). */
  securityHub?: GuardWiring['securityHub'],
): CliGuard {
  const { guardPrincipalArn, ...settings } = target ?? {};
  const aws = { ...awsClientConfig(options, env), ...settings };
  let publisher: CollectingPublisher | undefined;
  const guard = buildGuard({
    manifest,
    aws,
    logger: QUIET_LOGGER,
    repoRoot: process.cwd(),
    ledger: new InMemoryRemediationLedger(manifest.flapping),
    ...(topicArn ? { topicArn } : {}),
    ...(guardPrincipalArn ? { guardPrincipalArn } : {}),
    ...(securityHub ? { securityHub } : {}),
    publisher: (sns) => {
      publisher = new CollectingPublisher(sns);
      return publisher;
    },
  });
  if (!publisher) throw new TypeError('buildGuard did not ask for the publisher');
  const cli: CliGuard = { guard, publisher };
  if (aws.region) cli.region = aws.region;
  if (aws.endpoint) cli.endpointUrl = aws.endpoint;
  return cli;
}

export function cliRunId(now: Date): string {
  return `cli-${now.toISOString()}`;
}

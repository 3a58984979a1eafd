/**
 * `--accounts`, `--regions` and `--role-name` (audit, apply; docs/cli.md#across-accounts): the same spoke role
 * the hub assumes, assumed from a laptop or CI job. Each account is reached through
 * `arn:<partition>:iam::<account>:role/<role name>` (STS AssumeRole with the caller's credentials, session name
 * `kms-guard-cli`), each Region with its own KMS client; the reports of every account and Region are merged into
 * one, every key named by its ARN (account and Region).
 */
import { SpokeAccess } from '../aws/spoke-access';
import { ACCOUNT_ID_PATTERN, partitionOfRegion, REGION_PATTERN } from '../core/key-arn';
import { DEFAULT_SPOKE_ROLE_NAME } from '../core/spoke-names';
import { summarize } from '../guard/audit/report';
import type { AuditReport } from '../guard/audit-keys';
import type { AwsCliOptions } from './aws-context';
import { awsClientConfig } from './aws-context';
import { CliExitError, EXIT_USAGE } from './errors';

export interface OrgCliOptions {
  accounts?: string[];
  regions?: string[];
  roleName?: string;
  externalId?: string;
}

export interface CliTarget {
  accountId?: string;
  region?: string;
}

/** The account and Region pairs to work on; one target without account (the caller's) when no option says. */
export function cliTargets(options: OrgCliOptions & AwsCliOptions): CliTarget[] {
  for (const account of options.accounts ?? []) {
    if (!ACCOUNT_ID_PATTERN.test(account))
      throw new CliExitError(`--accounts: "${account}" is not a 12-digit account ID`, EXIT_USAGE);
  }
  for (const region of options.regions ?? []) {
    if (!REGION_PATTERN.test(region))
      throw new CliExitError(`--regions: "${region}" is not an AWS Region (e.g. eu-west-1)`, EXIT_USAGE);
  }
  if (options.regions?.length && options.region)
    throw new CliExitError('--region and --regions contradict each other: use --regions', EXIT_USAGE);
  const regions: (string | undefined)[] = options.regions?.length
    ? [...new Set(options.regions)]
    : [options.region];
  const accounts: (string | undefined)[] = options.accounts?.length
    ? [...new Set(options.accounts)]
    : [undefined];
  return accounts.flatMap((accountId) =>
    regions.map((region) => ({
      ...(accountId !== undefined ? { accountId } : {}),
      ...(region !== undefined ? { region } : {}),
    })),
  );
}

/** SpokeAccess for the CLI, when --accounts names accounts: the caller's credentials assume the spoke role. */
export function cliSpokeAccess(
  options: OrgCliOptions & AwsCliOptions,
  env: Readonly<Record<string, string | undefined>>,
): SpokeAccess | undefined {
  if (!options.accounts?.length) return undefined;
  const base = awsClientConfig(options, env);
  const region = options.regions?.[0] ?? base.region ?? 'us-east-1';
  return SpokeAccess.create(
    { ...base, region },
    {
      partition: partitionOfRegion(region),
      roleName: options.roleName ?? DEFAULT_SPOKE_ROLE_NAME,
      sessionName: 'kms-guard-cli',
      ...(options.externalId ? { externalId: options.externalId } : {}),
    },
  );
}

/** One report out of the reports of every account and Region (keys, findings and problems kept apart by ARN). */
export function mergeReports(runId: string, reports: readonly AuditReport[]): AuditReport {
  const [first] = reports;
  if (!first) throw new TypeError('mergeReports needs at least one report');
  if (reports.length === 1) return first;
  const keys = reports.flatMap((report) => report.keys);
  const notChecked = reports.flatMap((report) => report.notChecked);
  const merged: AuditReport = {
    runId,
    startedAt: first.startedAt,
    durationMs: reports.reduce((total, report) => total + report.durationMs, 0),
    complete: reports.every((report) => report.complete),
    summary: summarize(keys, notChecked.length),
    keys,
    notChecked,
    awsManagedSkipped: reports.reduce((total, report) => total + report.awsManagedSkipped, 0),
    problems: reports.flatMap((report) =>
      report.problems.map((problem) =>
        report.location ? `${report.location.accountId}/${report.location.region}: ${problem}` : problem,
      ),
    ),
    notes: reports.flatMap((report) =>
      report.notes.map((note) =>
        report.location ? `${report.location.accountId}/${report.location.region}: ${note}` : note,
      ),
    ),
    findings: reports.flatMap((report) => report.findings),
  };
  if (first.health) merged.health = first.health;
  if (first.guardChecks) merged.guardChecks = first.guardChecks;
  return merged;
}

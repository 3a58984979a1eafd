/**
 * `kms-guard audit`: the scheduled audit, run from a laptop or CI against any account (or an
 * AWS-compatible endpoint such as moto). Findings are collected and printed; nothing is published
 * unless `--publish --topic-arn <arn>` says so.
 *
 * Read-only: keys in remediate mode are checked as dry-run (`kms-guard apply --key … --yes` writes).
 *
 * Exit: 0 every checked key in sync (unmanaged keys are listed, not a failure), 1 drift, a failed key
 * or a disabled drift rule, 2 usage error, invalid manifest, or an AWS error that left keys unchecked.
 */
import type { KMSClient } from '@aws-sdk/client-kms';
import { type Command, Option } from 'commander';
import packageJson from '../../../package.json';
import { KmsKeyPolicyStore } from '../../aws/kms-store';
import { EventBridgeRuleHealth } from '../../aws/rule-health';
import { SnsFindingPublisher } from '../../aws/sns-publisher';
import { type AuditDeps, type AuditReport, auditKeys } from '../../guard/audit-keys';
import type { CheckKeyDeps } from '../../guard/check-key';
import type { Finding } from '../../guard/finding';
import type { GuardLogger } from '../../guard/logger';
import { InMemoryRemediationLedger } from '../../guard/memory-ledger';
import { type FindingPublisher, systemClock } from '../../guard/ports';
import { loadManifest, ManifestError } from '../../manifest';
import type { LoadedManifest } from '../../manifest/types';
import { type AwsCliOptions, createAwsClients, describeAwsFailure } from '../aws-context';
import type { CommandContext } from '../context';
import { CliExitError, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from '../errors';
import { colourEnabled, createStyle, writeJson } from '../output';
import { toAuditJson } from '../report/audit-json';
import { renderAuditHtml } from '../report/html';
import { ProgressBar } from '../report/progress';
import { toSarif } from '../report/sarif';
import { renderAuditTable } from '../report/table';

export const DEFAULT_MANIFEST = 'policies/manifest.yaml';
export const DEFAULT_CONCURRENCY = 8;
export const MAX_CONCURRENCY = 64;

/** The options `audit` and `apply` share. */
export interface CommonCliOptions extends AwsCliOptions {
  manifest: string;
  concurrency?: string;
}

/** Adds --manifest, --region, --profile, --endpoint-url and --concurrency to a command. */
export function addCommonOptions(command: Command): Command {
  return command
    .option('--manifest <path>', 'the manifest (keys -> desired policies and modes)', DEFAULT_MANIFEST)
    .option('--region <region>', 'AWS Region (default: AWS_REGION or the profile)')
    .option('--profile <name>', 'AWS shared-config profile for credentials and Region')
    .option(
      '--endpoint-url <url>',
      'an AWS-compatible endpoint, e.g. a local moto server (http://127.0.0.1:5000)',
    )
    .option(
      '--concurrency <n>',
      `keys checked at the same time (1..${MAX_CONCURRENCY})`,
      String(DEFAULT_CONCURRENCY),
    );
}

export function parseConcurrency(raw: string | undefined): number {
  const text = raw ?? String(DEFAULT_CONCURRENCY);
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > MAX_CONCURRENCY) {
    throw new CliExitError(
      `--concurrency: "${text}" must be an integer from 1 to ${MAX_CONCURRENCY}`,
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

/** checkKey's dependencies on a laptop or in CI: one run's in-memory ledger, no log lines, paths from cwd. */
export function cliCheckKeyDeps(
  kms: KMSClient,
  manifest: LoadedManifest,
  publisher: FindingPublisher,
): CheckKeyDeps {
  return {
    store: new KmsKeyPolicyStore(kms),
    publisher,
    ledger: new InMemoryRemediationLedger(manifest.flapping),
    clock: systemClock,
    logger: QUIET_LOGGER,
    manifest,
    repoRoot: process.cwd(),
  };
}

export function cliRunId(now: Date): string {
  return `cli-${now.toISOString()}`;
}

interface AuditCliOptions extends CommonCliOptions {
  json?: boolean;
  format: 'table' | 'json' | 'sarif' | 'html';
  unmanaged: boolean;
  driftRule?: string;
  publish?: boolean;
  topicArn?: string;
}

function exitCodeOf(report: AuditReport): number {
  if (!report.complete) return EXIT_USAGE;
  const guardDisabled = report.findings.some((finding) => finding.kind === 'guard-disabled');
  return report.summary.drift > 0 || report.summary.failed > 0 || guardDisabled ? EXIT_FINDINGS : EXIT_OK;
}

export function registerAuditCommand(program: Command, { io, rawStderr, setExitCode }: CommandContext): void {
  const command = program
    .command('audit')
    .description(
      'check every key the manifest manages (and report unmanaged keys) against its desired policy',
    );
  addCommonOptions(command)
    .option('--json', 'print the audit as JSON (same as --format json)')
    .addOption(
      new Option('--format <format>', 'output format (html: one self-contained page for auditors)')
        .choices(['table', 'json', 'sarif', 'html'])
        .default('table'),
    )
    .option('--no-unmanaged', 'do not list all keys to report the ones the manifest does not manage')
    .option('--drift-rule <name>', "also check that the guard's EventBridge drift rule exists and is enabled")
    .option('--publish', 'also publish every finding to --topic-arn (default: print only)')
    .option('--topic-arn <arn>', 'the SNS topic for --publish')
    .action(async (options: AuditCliOptions) => {
      if (options.json && options.format !== 'table' && options.format !== 'json') {
        throw new CliExitError(`--json and --format ${options.format} contradict each other`, EXIT_USAGE);
      }
      const format = options.json ? 'json' : options.format;
      if (options.publish && !options.topicArn?.startsWith('arn:')) {
        throw new CliExitError('--publish needs --topic-arn <SNS topic ARN>', EXIT_USAGE);
      }
      const concurrency = parseConcurrency(options.concurrency);
      const manifest = loadCliManifest(options.manifest);
      const clients = createAwsClients(options, io.env);

      const forward =
        options.publish && options.topicArn
          ? new SnsFindingPublisher(clients.sns, options.topicArn)
          : undefined;
      const publisher = new CollectingPublisher(forward);
      const deps: AuditDeps = cliCheckKeyDeps(clients.kms, manifest, publisher);
      if (options.driftRule) deps.health = new EventBridgeRuleHealth(clients.events, options.driftRule);
      const progress = io.stderrIsTTY ? new ProgressBar((text) => rawStderr(text)) : undefined;

      const report = await auditKeys(deps, {
        runId: cliRunId(systemClock.now()),
        trigger: 'cli',
        // A laptop or CI job only reports: remediate-mode keys are checked as dry-run.
        readOnly: true,
        concurrency,
        reportUnmanaged: options.unmanaged,
        ...(clients.region ? { region: clients.region } : {}),
        ...(progress ? { progress } : {}),
      });
      progress?.finish();

      const nothingChecked = report.keys.length === 0 && !report.complete;
      if (format === 'json') writeJson(io, toAuditJson(report));
      else if (format === 'sarif')
        writeJson(io, toSarif(report.findings, { toolVersion: packageJson.version, policyRoot: '.' }));
      else if (format === 'html') io.stdout(renderAuditHtml(report, { toolVersion: packageJson.version }));
      else if (!nothingChecked) io.stdout(renderAuditTable(report, createStyle(colourEnabled(io))));

      const code = exitCodeOf(report);
      if (code === EXIT_USAGE) {
        const reason = report.problems[0] ?? report.notChecked[0]?.reason ?? 'unknown failure';
        io.stderr(
          `kms-guard: audit incomplete (${report.summary.notChecked} key(s) not checked): ${describeAwsFailure(reason, clients)}\n`,
        );
      }
      setExitCode(code);
    });
}

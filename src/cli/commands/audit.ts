/**
 * `kms-guard audit`: the scheduled audit, run from a laptop or CI against any account (or an
 * AWS-compatible endpoint such as moto). Findings are collected and printed; nothing is published
 * unless `--publish --topic-arn <arn>` (SNS) or `--security-hub` (AWS Security Hub) says so.
 *
 * Read-only: keys in remediate mode are checked as dry-run (`kms-guard apply --key … --yes` writes).
 *
 * Exit: 0 every checked key in sync (unmanaged keys are listed, not a failure), 1 drift, a failed key,
 * a disabled drift rule or a degraded one (--drift-rule: its pattern, no target), 2 usage error,
 * invalid manifest, an AWS error that left keys unchecked, or (--security-hub) Security Hub refusing
 * or failing to take the findings.
 */
import { type Command, Option } from 'commander';
import packageJson from '../../../package.json';
import { EventBridgeRuleHealth } from '../../aws/rule-health';
import { type AuditDeps, type AuditReport, auditKeys } from '../../guard/audit-keys';
import { type ComplianceViewProblem, flushCompliance } from '../../guard/compliance';
import { systemClock } from '../../guard/ports';
import { awsClientConfig, describeAwsFailure } from '../aws-context';
import type { CommandContext } from '../context';
import { CliExitError, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from '../errors';
import {
  addCommonOptions,
  type CommonCliOptions,
  cliGuard,
  cliRunId,
  loadCliManifest,
  parseConcurrency,
  QUIET_LOGGER,
} from '../guard-context';
import { cliSpokeAccess, cliTargets, mergeReports } from '../org-targets';
import { colourEnabled, createStyle, writeJson } from '../output';
import { toAuditJson } from '../report/audit-json';
import { renderAuditHtml } from '../report/html';
import { ProgressBar } from '../report/progress';
import { toSarif } from '../report/sarif';
import { renderAuditTable } from '../report/table';

interface AuditCliOptions extends CommonCliOptions {
  json?: boolean;
  format: 'table' | 'json' | 'sarif' | 'html';
  unmanaged: boolean;
  driftRule?: string;
  publish?: boolean;
  topicArn?: string;
  securityHub?: boolean;
}

function exitCodeOf(report: AuditReport): number {
  if (!report.complete) return EXIT_USAGE;
  const guardUnwell = report.findings.some(
    (finding) => finding.kind === 'guard-disabled' || finding.kind === 'guard-degraded',
  );
  return report.summary.drift > 0 || report.summary.failed > 0 || guardUnwell ? EXIT_FINDINGS : EXIT_OK;
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
    .option(
      '--drift-rule <name>',
      "also check that the guard's EventBridge drift rule exists, is enabled, has the guard's pattern and a target",
    )
    .option(
      '--publish',
      'also publish every finding to --topic-arn and/or --security-hub (default: print only)',
    )
    .option('--topic-arn <arn>', 'the SNS topic for --publish')
    .option(
      '--security-hub',
      "also send every finding to AWS Security Hub (in the key's account and Region), and archive the ones back in their desired state (with or without --publish)",
    )
    .action(async (options: AuditCliOptions) => {
      if (options.json && options.format !== 'table' && options.format !== 'json') {
        throw new CliExitError(`--json and --format ${options.format} contradict each other`, EXIT_USAGE);
      }
      const format = options.json ? 'json' : options.format;
      if (options.topicArn !== undefined && !options.topicArn.startsWith('arn:')) {
        throw new CliExitError('--topic-arn needs an SNS topic ARN', EXIT_USAGE);
      }
      if (options.publish && !options.topicArn && !options.securityHub) {
        throw new CliExitError(
          '--publish needs --topic-arn <SNS topic ARN>, --security-hub, or both',
          EXIT_USAGE,
        );
      }
      const concurrency = parseConcurrency(options.concurrency);
      const manifest = loadCliManifest(options.manifest);
      const targets = cliTargets(options);
      const access = cliSpokeAccess(options, io.env);
      const runId = cliRunId(systemClock.now());
      const securityHubProblems: ComplianceViewProblem[] = [];
      const securityHubErrors: Error[] = [];
      const progress = io.stderrIsTTY ? new ProgressBar((text) => rawStderr(text)) : undefined;
      const reports = [];
      let clients: ReturnType<typeof cliGuard> | undefined;
      for (const target of targets) {
        // One account and Region at a time: each through its spoke role (--accounts), with its own clients.
        const principal = target.accountId !== undefined ? access?.principalFor(target.accountId) : undefined;
        const settings =
          access && target.accountId !== undefined
            ? {
                ...access.settings(
                  {},
                  target.accountId,
                  target.region ?? awsClientConfig(options, io.env).region ?? '',
                ),
                ...(principal ? { guardPrincipalArn: principal } : {}),
              }
            : target.region !== undefined
              ? { region: target.region }
              : undefined;
        clients = cliGuard(
          options,
          io.env,
          manifest,
          options.publish ? options.topicArn : undefined,
          settings,
          options.securityHub
            ? { report: async (problem) => void securityHubProblems.push(problem) }
            : undefined,
        );
        const deps: AuditDeps = { ...clients.guard.deps };
        if (options.driftRule) {
          deps.health = EventBridgeRuleHealth.create(awsClientConfig(options, io.env), options.driftRule);
        }
        reports.push(
          await auditKeys(deps, {
            runId,
            trigger: 'cli',
            // A laptop or CI job only reports: remediate-mode keys are checked as dry-run.
            readOnly: true,
            concurrency,
            reportUnmanaged: options.unmanaged,
            ...(clients.region ? { region: clients.region } : {}),
            ...(progress ? { progress } : {}),
          }),
        );
        // Each account's findings go to Security Hub with that account's credentials, before its clients go.
        const securityHubError = await flushCompliance(clients.guard.deps.compliance, QUIET_LOGGER);
        if (securityHubError) securityHubErrors.push(securityHubError);
        clients.guard.destroy();
      }
      progress?.finish();
      const report = mergeReports(runId, reports);
      if (!clients) throw new CliExitError('no account or Region to audit', EXIT_USAGE);

      const nothingChecked = report.keys.length === 0 && !report.complete;
      if (format === 'json') writeJson(io, toAuditJson(report));
      else if (format === 'sarif')
        writeJson(io, toSarif(report.findings, { toolVersion: packageJson.version, policyRoot: '.' }));
      else if (format === 'html') io.stdout(renderAuditHtml(report, { toolVersion: packageJson.version }));
      else if (!nothingChecked) io.stdout(renderAuditTable(report, createStyle(colourEnabled(io))));

      let code = exitCodeOf(report);
      for (const problem of securityHubProblems) {
        io.stderr(`kms-guard: ${problem.view}: ${problem.message}\n  Fix: ${problem.fix}\n`);
      }
      for (const error of securityHubErrors) {
        io.stderr(`kms-guard: ${describeAwsFailure(error.message, clients)}\n`);
      }
      if (securityHubProblems.length > 0 || securityHubErrors.length > 0) code = EXIT_USAGE;
      if (code === EXIT_USAGE && !report.complete) {
        const reason = report.problems[0] ?? report.notChecked[0]?.reason ?? 'unknown failure';
        io.stderr(
          `kms-guard: audit incomplete (${report.summary.notChecked} key(s) not checked): ${describeAwsFailure(reason, clients)}\n`,
        );
      }
      setExitCode(code);
    });
}

/**
 * `kms-guard apply --key <id|arn|alias>`: shows how the key's live policy differs from its desired one
 * and what remediation would do; with `--yes` it writes the desired policy through the guard's own
 * remediation path (validation, lockout and flapping refusals, key-state checks, re-read until stable).
 * Without `--yes` nothing is written.
 *
 * Exit: 0 applied, in sync, or (dry run) would apply; 1 refused or failed (or, dry run, would refuse);
 * 2 usage error, invalid manifest, a key the manifest does not manage, or an AWS error.
 */
import type { Command } from 'commander';
import type { SpokeAccess } from '../../aws/spoke-access';
import type { Finding } from '../../core/finding';
import { plainFinding } from '../../core/plain-text';
import { type ApplyOutcome, applyDesired } from '../../guard/apply-desired';
import { GuardError, KeyReferenceError } from '../../guard/errors';
import { systemClock } from '../../guard/ports';
import { renderDiffText } from '../../policy/render';
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
} from '../guard-context';
import { cliSpokeAccess, cliTargets } from '../org-targets';
import { colourDiffLine, colourEnabled, createStyle, type Style, writeJson } from '../output';

interface ApplyCliOptions extends CommonCliOptions {
  key: string;
  yes?: boolean;
  json?: boolean;
}

const EXIT_BY_STATUS: Record<ApplyOutcome['status'], number> = {
  'in-sync': EXIT_OK,
  'would-apply': EXIT_OK,
  applied: EXIT_OK,
  'would-refuse': EXIT_FINDINGS,
  refused: EXIT_FINDINGS,
  failed: EXIT_FINDINGS,
  unmanaged: EXIT_USAGE,
};

function keyLine(outcome: ApplyOutcome, finding: Finding | undefined): string {
  const labels = [finding?.keyName, ...(finding?.aliases ?? [])].filter((label) => label !== undefined);
  return `Key: ${outcome.keyArn}${labels.length > 0 ? ` (${labels.join(', ')})` : ''}`;
}

const HEADLINES: Record<ApplyOutcome['status'], (style: Style) => string> = {
  'in-sync': (style) =>
    style.green('✔ In sync: the live policy already grants what the desired one does. Nothing to apply.'),
  'would-apply': (style) =>
    style.yellow(
      'DRY RUN: the desired policy would be written. Nothing was changed; run again with --yes to apply.',
    ),
  'would-refuse': (style) =>
    style.red('✖ DRY RUN: remediation would REFUSE to write this key. Nothing was changed.'),
  applied: (style) => style.green('✔ Applied: the desired policy was written and confirmed.'),
  refused: (style) => style.red('✖ Refused: the desired policy was NOT written.'),
  failed: (style) => style.red('✖ Failed: see below.'),
  unmanaged: (style) =>
    style.red('✖ No manifest entry matches this key: there is no desired policy to apply.'),
};

/**
 * The outcome for people. Every value of the finding is neutralised first (`plainFinding`: one line per
 * value, controls, bidi and zero-width characters as `\uXXXX`), so a Sid or CloudTrail value cannot
 * start a line or hide text; `--json` prints the finding itself.
 */
export function renderApplyText(outcome: ApplyOutcome, style: Style): string {
  const finding = outcome.finding && plainFinding(outcome.finding);
  const lines: string[] = [style.bold(keyLine(outcome, finding))];
  if (finding?.policyFile) lines.push(`Desired policy: ${finding.policyFile}`);
  const comparison = finding?.diff && { diff: finding.diff, cosmetic: finding.cosmetic ?? [] };
  if (comparison)
    lines.push(
      '',
      ...renderDiffText(comparison)
        .split('\n')
        .map((line) => colourDiffLine(line, style)),
    );
  const desiredFindings = finding?.validation?.desired ?? [];
  if (desiredFindings.length > 0) {
    lines.push('', style.bold('Validation of the desired policy:'));
    for (const item of desiredFindings) {
      const level = item.level === 'error' ? style.red('ERROR') : style.yellow('WARNING');
      lines.push(`  ${level} ${item.code} ${item.path}: ${item.message}`);
    }
  }
  lines.push('', style.bold(HEADLINES[outcome.status](style)));
  if (finding && outcome.status !== 'unmanaged')
    lines.push(...finding.details.map((detail) => `  ${detail}`));
  if (outcome.status === 'applied' && finding?.livePolicy !== undefined) {
    lines.push(
      '',
      style.bold(
        'The overwritten live policy (to undo by hand; control, bidi and zero-width characters are shown as \\uXXXX, which means the same inside a JSON string; --json has the exact text):',
      ),
      finding.livePolicy,
    );
  }
  return `${lines.join('\n')}\n`;
}

export function registerApplyCommand(program: Command, { io, setExitCode }: CommandContext): void {
  const command = program
    .command('apply')
    .description("restore one key's desired policy (a dry run unless --yes)")
    .requiredOption('--key <id|arn|alias>', 'the key: key ID, key ARN or alias/name');
  addCommonOptions(command)
    .option('--yes', 'write the desired policy (without it: a dry run that changes nothing)')
    .option('--json', 'print the outcome (status and finding) as JSON')
    .action(async (options: ApplyCliOptions) => {
      parseConcurrency(options.concurrency);
      const manifest = loadCliManifest(options.manifest);
      const [target, ...more] = cliTargets(options);
      if (!target || more.length > 0)
        throw new CliExitError(
          'apply restores one key: give at most one --accounts and one --regions',
          EXIT_USAGE,
        );
      // In another account, through its spoke role (--accounts, --role-name).
      const access = cliSpokeAccess(options, io.env);
      const region = target.region ?? awsClientConfig(options, io.env).region;
      const settings =
        access && target.accountId !== undefined && region !== undefined
          ? {
              ...access.settings({}, target.accountId, region),
              // {{GuardPrincipal}} in that account is its spoke role, as when the hub restores the key.
              ...spokePrincipal(access, target.accountId),
            }
          : target.region !== undefined
            ? { region: target.region }
            : undefined;
      const clients = cliGuard(options, io.env, manifest, undefined, settings);
      let outcome: ApplyOutcome;
      try {
        outcome = await applyDesired(clients.guard.deps, {
          keyRef: options.key,
          confirm: options.yes === true,
          runId: cliRunId(systemClock.now()),
        });
      } catch (error) {
        if (error instanceof KeyReferenceError)
          throw new CliExitError(error.message, EXIT_USAGE, { cause: error });
        if (error instanceof GuardError) {
          throw new CliExitError(describeAwsFailure(error.message, clients), EXIT_USAGE, { cause: error });
        }
        throw error;
      }
      if (options.json) writeJson(io, outcome);
      else io.stdout(renderApplyText(outcome, createStyle(colourEnabled(io))));
      setExitCode(EXIT_BY_STATUS[outcome.status]);
    });
}

/** The spoke role the CLI acts as in another account: `{{GuardPrincipal}}` there, as when the hub restores a key. */
function spokePrincipal(access: SpokeAccess, accountId: string): { guardPrincipalArn?: string } {
  const principal = access.principalFor(accountId);
  return principal ? { guardPrincipalArn: principal } : {};
}

/**
 * `kms-guard validate <file...>`: is each file a valid (and safe) KMS key policy? A manifest is
 * validated as a whole through src/manifest (manifest-hook.ts).
 *
 * Exit: 0 every file valid (warnings allowed), 1 some file has an error, 2 usage error or a file
 * that cannot be read (or a manifest where manifest support is missing).
 *
 * Lockout safety: KMS305 (no administrator left able to change the policy) and KMS306 (remediate
 * mode: the guard would lose its own Get/PutKeyPolicy) are warnings in the catalogue, because a live
 * policy may legitimately be like that; but validate REFUSES them (reported as errors, exit 1), as the
 * guard's remediation refuses to write them (REMEDIATION_BLOCKING_CODES): CI stops such a desired
 * policy before it is merged, not after the guard would apply it.
 */
import { type Command, Option } from 'commander';
import { guardPrincipalOf, renderPlaceholders, SAMPLE_PLACEHOLDER_VALUES } from '../../manifest';
import type { PlaceholderValues } from '../../manifest/types';
import { REMEDIATION_BLOCKING_CODES } from '../../policy/catalogue';
import type { ValidateOptions, ValidationFinding } from '../../policy/types';
import { validatePolicy } from '../../policy/validate';
import type { CommandContext } from '../context';
import { CliExitError, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from '../errors';
import { readTextFile, UNWRAPPED_NOTE, unwrapGetKeyPolicyOutput } from '../files';
import { keyOptionsFrom } from '../key-options';
import { checkManifest, looksLikeManifest, type ManifestCheck } from '../manifest-hook';
import { collectValues } from '../option-values';
import { type CliIo, colourEnabled, createStyle, type Style, writeJson } from '../output';

interface ValidateCliOptions {
  json?: boolean;
  allowedAccounts?: string[];
  admin?: string[];
  guardPrincipal?: string;
  mode?: 'alert' | 'remediate' | 'dry-run';
  keyAccount?: string;
  keyArn?: string;
  partition?: string;
  region?: string;
}

/** One file's result; the `--json` output is `{ files: FileReport[], valid }`. */
export interface FileReport {
  file: string;
  /** `policy` (a key policy document) or `manifest`. */
  kind: 'policy' | 'manifest';
  valid: boolean;
  byteLength: number;
  findings: ValidationFinding[];
  /** Why the file could not be checked (unreadable, manifest support missing); absent otherwise. */
  error?: string;
  /** A desired-policy template (`{{Partition}}`, `{{Region}}`, `{{AccountId}}`): the values it was validated with. */
  placeholders?: PlaceholderValues;
  /** Errors outside the document's content, such as an unknown `{{…}}` placeholder. */
  problems?: string[];
  /** The file was `aws kms get-key-policy` output: its Policy string is what was validated. */
  unwrapped?: boolean;
  /** Manifest files only: how many keys it manages, its problems, and its documents' warnings. */
  manifest?: {
    keys: number;
    problems: string[];
    warnings: { key: string; policyFile: string; finding: ValidationFinding }[];
  };
}

const ACCOUNT_ID = /^\d{12}$/;
const LOCKOUT_CODES: ReadonlySet<string> = new Set(REMEDIATION_BLOCKING_CODES);

/** A lockout finding as validate reports it: an error that says it is refused, and why. */
function refused(finding: ValidationFinding): ValidationFinding {
  if (!LOCKOUT_CODES.has(finding.code)) return finding;
  return {
    ...finding,
    level: 'error',
    message: `${finding.message} — refused: the guard never applies a policy that could lock out its administrators or itself`,
  };
}

function validateOptionsFrom(options: ValidateCliOptions): ValidateOptions & { region?: string } {
  const allowedAccounts = options.allowedAccounts ?? [];
  const badAccount = allowedAccounts.find((account) => !ACCOUNT_ID.test(account));
  if (badAccount !== undefined) {
    throw new CliExitError(`--allowed-accounts: "${badAccount}" is not a 12-digit account ID`, EXIT_USAGE);
  }
  const key = keyOptionsFrom(options);
  const adminPrincipals = options.admin ?? [];
  return {
    allowedAccounts,
    adminPrincipals,
    guardPrincipal: options.guardPrincipal,
    mode: options.mode,
    keyAccount: key.keyAccount,
    keyArn: key.keyArn,
    partition: key.partition ?? options.partition,
    region: key.region ?? options.region,
  };
}

function manifestReport(file: string, byteLength: number, check: ManifestCheck): FileReport {
  if (check.status === 'unavailable') {
    return { file, kind: 'manifest', valid: false, byteLength, findings: [], error: check.message };
  }
  if (check.status === 'invalid') {
    return {
      file,
      kind: 'manifest',
      valid: false,
      byteLength,
      findings: [],
      manifest: {
        keys: 0,
        problems: check.problems.length > 0 ? check.problems : [check.message],
        warnings: [],
      },
    };
  }
  // A desired document with a lockout finding (KMS306 only appears for remediate-mode entries) is refused.
  const warnings = check.warnings.map((warning) => ({ ...warning, finding: refused(warning.finding) }));
  const refusals = warnings.filter((warning) => warning.finding.level === 'error');
  return {
    file,
    kind: 'manifest',
    valid: refusals.length === 0,
    byteLength,
    findings: [],
    manifest: {
      keys: check.keys,
      problems: refusals.map(
        (refusal) =>
          `${refusal.key} (${refusal.policyFile}): ${refusal.finding.code} ${refusal.finding.path}: ${refusal.finding.message}`,
      ),
      warnings: warnings.filter((warning) => warning.finding.level !== 'error'),
    },
  };
}

async function checkFile(file: string, options: ValidateOptions & { region?: string }): Promise<FileReport> {
  const read = await readTextFile(file);
  if (!read.ok) {
    return {
      file,
      kind: 'policy',
      valid: false,
      byteLength: 0,
      findings: [],
      error: `cannot read: ${read.reason}`,
    };
  }
  if (await looksLikeManifest(file, read.text)) {
    return manifestReport(file, Buffer.byteLength(read.text, 'utf8'), await checkManifest(file));
  }
  const inner = unwrapGetKeyPolicyOutput(read.text);
  const report = await checkPolicyText(file, inner ?? read.text, options);
  return inner === undefined ? report : { ...report, unwrapped: true };
}

async function checkPolicyText(
  file: string,
  text: string,
  options: ValidateOptions & { region?: string },
): Promise<FileReport> {
  const byteLength = Buffer.byteLength(text, 'utf8');
  if (!TEMPLATE_MARKER.test(text)) {
    if (options.mode === 'remediate' && options.guardPrincipal === undefined) {
      const error = '--mode remediate needs --guard-principal <arn> (the guard must keep its access)';
      return { file, kind: 'policy', valid: false, byteLength, findings: [], error };
    }
    return policyReport(file, text, options);
  }
  // A desired-policy template from policies/: validate it as the guard would apply it.
  const values = placeholderValuesFor(options);
  let rendered: string;
  try {
    rendered = renderPlaceholders(text, values, file);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return {
      file,
      kind: 'policy',
      valid: false,
      byteLength,
      findings: [],
      placeholders: values,
      problems: [message],
    };
  }
  const templateOptions: ValidateOptions = { ...options, keyAccount: options.keyAccount ?? values.accountId };
  if (options.mode === 'remediate') templateOptions.guardPrincipal ??= guardPrincipalOf(values);
  return { ...policyReport(file, rendered, templateOptions), placeholders: values };
}

const TEMPLATE_MARKER = /\{\{[^{}]*\}\}/;

function placeholderValuesFor(options: ValidateOptions & { region?: string }): PlaceholderValues {
  return {
    partition: options.partition ?? SAMPLE_PLACEHOLDER_VALUES.partition,
    region: options.region ?? SAMPLE_PLACEHOLDER_VALUES.region,
    accountId: options.keyAccount ?? SAMPLE_PLACEHOLDER_VALUES.accountId,
    // {{GuardPrincipal}} is the principal --guard-principal names, else the guard role in the key's account.
    ...(options.guardPrincipal !== undefined ? { guardPrincipal: options.guardPrincipal } : {}),
  };
}

function policyReport(file: string, text: string, options: ValidateOptions): FileReport {
  const result = validatePolicy(text, options);
  const findings = result.findings.map(refused);
  return {
    file,
    kind: 'policy',
    valid: findings.every((finding) => finding.level !== 'error'),
    byteLength: result.byteLength,
    findings,
  };
}

function findingLine(finding: ValidationFinding, style: Style): string {
  const level = finding.level === 'error' ? style.red(finding.level) : style.yellow(finding.level);
  return `  ${level}  ${style.bold(finding.code)}  ${style.cyan(finding.path)}  ${finding.message}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function renderHuman(reports: readonly FileReport[], io: CliIo): void {
  const style = createStyle(colourEnabled(io));
  const lines: string[] = [];
  for (const report of reports) {
    const mark = report.valid ? style.green('✔') : style.red('✖');
    if (report.error !== undefined) {
      lines.push(`${mark} ${report.file}: ${report.error}`);
      continue;
    }
    const what = report.manifest
      ? `manifest, ${plural(report.manifest.keys, 'key')}`
      : `${report.byteLength} bytes`;
    lines.push(`${mark} ${report.file} ${style.dim(`(${what})`)}`);
    if (report.unwrapped) lines.push(style.dim(`  note: ${report.file} ${UNWRAPPED_NOTE}`));
    if (report.placeholders) {
      const { partition, region, accountId } = report.placeholders;
      lines.push(
        style.dim(
          `  template: validated with {{Partition}}=${partition} {{Region}}=${region} {{AccountId}}=${accountId}`,
        ),
      );
    }
    for (const problem of report.problems ?? []) lines.push(`  ${style.red('error')}  ${problem}`);
    for (const finding of report.findings) lines.push(findingLine(finding, style));
    for (const problem of report.manifest?.problems ?? []) lines.push(`  ${style.red('error')}  ${problem}`);
    for (const warning of report.manifest?.warnings ?? []) {
      lines.push(
        `${findingLine(warning.finding, style)} ${style.dim(`(${warning.key}: ${warning.policyFile})`)}`,
      );
    }
  }
  const findings = reports.flatMap((report) => [
    ...report.findings,
    ...(report.manifest?.warnings.map((warning) => warning.finding) ?? []),
  ]);
  const errors =
    findings.filter((finding) => finding.level === 'error').length +
    reports.reduce(
      (sum, report) => sum + (report.manifest?.problems.length ?? 0) + (report.problems?.length ?? 0),
      0,
    );
  const warnings = findings.length - findings.filter((finding) => finding.level === 'error').length;
  const valid = reports.filter((report) => report.valid).length;
  const unchecked = reports.filter((report) => report.error !== undefined).length;
  const parts = [
    `${plural(reports.length, 'file')} checked`,
    `${valid} valid`,
    `${reports.length - valid - unchecked} invalid`,
    ...(unchecked > 0 ? [`${unchecked} not checked`] : []),
  ];
  lines.push('', `${parts.join(', ')} (${plural(errors, 'error')}, ${plural(warnings, 'warning')})`);
  io.stdout(`${lines.join('\n')}\n`);
}

export function registerValidateCommand(program: Command, { io, setExitCode }: CommandContext): void {
  program
    .command('validate')
    .description('validate KMS key policy files (or a manifest and every document it names)')
    .argument('<file...>', 'key policy JSON files, or a manifest (manifest.yaml|yml|json)')
    .option('--json', 'print one JSON document instead of text')
    .option(
      '--allowed-accounts <ids>',
      'account IDs principals may belong to (comma-separated; repeatable)',
      collectValues,
    )
    .option(
      '--admin <arn>',
      'a principal ARN that administers the key, besides the account root (comma-separated; repeatable)',
      collectValues,
    )
    .option(
      '--guard-principal <arn>',
      "the guard's own role ARN (must keep Get/PutKeyPolicy in remediate mode)",
    )
    .addOption(
      new Option('--mode <mode>', 'guard mode the policy is validated for').choices([
        'alert',
        'remediate',
        'dry-run',
      ]),
    )
    .option(
      '--key-account <id>',
      "the key's own account (default: inferred from the policy; 111122223333 for {{AccountId}} in templates)",
    )
    .option(
      '--key-arn <arn>',
      "the key's ARN: a Resource naming this key is accepted (KMS116) (also sets --key-account and --partition)",
    )
    .option(
      '--partition <name>',
      'AWS partition of account-root ARNs (and {{Partition}} in templates)',
      'aws',
    )
    .option(
      '--region <name>',
      'Region filled into {{Region}} when a file is a desired-policy template',
      'us-east-1',
    )
    .action(async (files: string[], options: ValidateCliOptions) => {
      const validateOptions = validateOptionsFrom(options);
      const reports: FileReport[] = [];
      for (const file of files) reports.push(await checkFile(file, validateOptions));
      for (const report of reports) {
        if (report.error !== undefined) io.stderr(`kms-guard: ${report.file}: ${report.error}\n`);
      }
      const valid = reports.every((report) => report.valid);
      if (options.json) writeJson(io, { files: reports, valid });
      else renderHuman(reports, io);
      const unchecked = reports.some((report) => report.error !== undefined);
      setExitCode(unchecked ? EXIT_USAGE : valid ? EXIT_OK : EXIT_FINDINGS);
    });
}

/**
 * `kms-guard diff <desired> <live>`: do two key policies grant the same access? Semantic, not
 * textual (src/policy/compare.ts).
 *
 * Exit: 0 equivalent (cosmetic differences are listed), 1 drift, 2 a file cannot be read, is not
 * JSON, or is not a key policy document.
 */
import type { Command } from 'commander';
import { comparePolicies } from '../../policy/compare';
import { parsePolicy } from '../../policy/parse';
import { renderDiffText } from '../../policy/render';
import type { CompareResult, NormalizeContext } from '../../policy/types';
import { describeJsonSyntaxError } from '../../policy/validate';
import type { CommandContext } from '../context';
import { CliExitError, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from '../errors';
import { readTextFile, UNWRAPPED_NOTE, unwrapGetKeyPolicyOutput } from '../files';
import { keyOptionsFrom } from '../key-options';
import { type CliIo, colourDiffLine, colourEnabled, createStyle, writeJson } from '../output';

/** The `--json` output: the comparison, with the diff's overall severity lifted to the top. */
export interface DiffJson {
  status: CompareResult['status'];
  severity: CompareResult['diff']['severity'];
  cosmetic: CompareResult['cosmetic'];
  diff: CompareResult['diff'];
  problems: CompareResult['problems'];
  serviceDataDate: string;
  /** The files that were `aws kms get-key-policy` output, whose Policy string was compared; absent when none. */
  unwrapped?: string[];
}

interface DiffCliOptions {
  json?: boolean;
  keyAccount?: string;
  keyArn?: string;
}

interface PolicyInput {
  file: string;
  text: string;
  /** The file was get-key-policy output: `text` is its Policy string. */
  unwrapped: boolean;
}

/** The document's text, or a CliExitError naming the file and what is wrong with it. */
async function readPolicyDocument(file: string): Promise<PolicyInput> {
  const read = await readTextFile(file);
  if (!read.ok) throw new CliExitError(`${file}: cannot read: ${read.reason}`, EXIT_USAGE);
  const inner = unwrapGetKeyPolicyOutput(read.text);
  const text = inner ?? read.text;
  const where = inner === undefined ? file : `${file} (its Policy string)`;
  const syntaxError = describeJsonSyntaxError(text);
  if (syntaxError) throw new CliExitError(`${where}: not JSON: ${syntaxError.message}`, EXIT_USAGE);
  const parsed = parsePolicy(text);
  if (!parsed.ok) {
    const issues = parsed.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    throw new CliExitError(`${where}: not a key policy document: ${issues}`, EXIT_USAGE);
  }
  return { file, text, unwrapped: inner !== undefined };
}

function renderHuman(result: CompareResult, inputs: readonly PolicyInput[], io: CliIo): void {
  const style = createStyle(colourEnabled(io));
  const [headline = '', ...rest] = renderDiffText(result).split('\n');
  const mark = result.status === 'equivalent' ? style.green(`✔ ${headline}`) : style.red(`✖ ${headline}`);
  const notes = inputs
    .filter((input) => input.unwrapped)
    .map((input) => style.dim(`note: ${input.file} ${UNWRAPPED_NOTE}`));
  const lines = [...notes, style.bold(mark), ...rest.map((line) => colourDiffLine(line, style))];
  io.stdout(`${lines.join('\n')}\n`);
}

export function registerDiffCommand(program: Command, { io, setExitCode }: CommandContext): void {
  program
    .command('diff')
    .description('compare a desired key policy with a live one (semantic: who may do what)')
    .argument('<desired>', 'the desired key policy (JSON), e.g. from Git')
    .argument('<live>', 'the live key policy (JSON), e.g. from `aws kms get-key-policy`')
    .option('--json', 'print the comparison as JSON')
    .option(
      '--key-arn <arn>',
      'the key\'s ARN: a Resource naming this key then equals "*" (also sets --key-account)',
    )
    .option(
      '--key-account <id>',
      "the key's own account (default: the accounts the desired document names); other accounts are cross-account",
    )
    .action(async (desiredFile: string, liveFile: string, options: DiffCliOptions) => {
      const key = keyOptionsFrom(options);
      const ctx: NormalizeContext = {};
      if (key.keyArn !== undefined) ctx.keyArn = key.keyArn;
      if (key.keyAccount !== undefined) ctx.keyAccount = key.keyAccount;
      if (key.partition !== undefined) ctx.partition = key.partition;
      const desired = await readPolicyDocument(desiredFile);
      const live = await readPolicyDocument(liveFile);
      const result = comparePolicies(desired.text, live.text, ctx);
      const unwrapped = [desired, live].filter((input) => input.unwrapped).map((input) => input.file);
      if (options.json) {
        const json: DiffJson = {
          status: result.status,
          severity: result.diff.severity,
          cosmetic: result.cosmetic,
          diff: result.diff,
          problems: result.problems,
          serviceDataDate: result.serviceDataDate,
        };
        if (unwrapped.length > 0) json.unwrapped = unwrapped;
        writeJson(io, json);
      } else {
        renderHuman(result, [desired, live], io);
      }
      setExitCode(result.status === 'equivalent' ? EXIT_OK : EXIT_FINDINGS);
    });
}

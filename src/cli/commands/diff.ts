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
import type { CompareResult } from '../../policy/types';
import { describeJsonSyntaxError } from '../../policy/validate';
import type { CommandContext } from '../context';
import { CliExitError, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from '../errors';
import { readTextFile } from '../files';
import { type CliIo, colourDiffLine, colourEnabled, createStyle, writeJson } from '../output';

/** The `--json` output: the comparison, with the diff's overall severity lifted to the top. */
export interface DiffJson {
  status: CompareResult['status'];
  severity: CompareResult['diff']['severity'];
  cosmetic: CompareResult['cosmetic'];
  diff: CompareResult['diff'];
  problems: CompareResult['problems'];
  serviceDataDate: string;
}

/** The document's text, or a CliExitError naming the file and what is wrong with it. */
async function readPolicyDocument(file: string): Promise<string> {
  const read = await readTextFile(file);
  if (!read.ok) throw new CliExitError(`${file}: cannot read: ${read.reason}`, EXIT_USAGE);
  const syntaxError = describeJsonSyntaxError(read.text);
  if (syntaxError) throw new CliExitError(`${file}: not JSON: ${syntaxError.message}`, EXIT_USAGE);
  const parsed = parsePolicy(read.text);
  if (!parsed.ok) {
    const issues = parsed.issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
    throw new CliExitError(`${file}: not a key policy document: ${issues}`, EXIT_USAGE);
  }
  return read.text;
}

function renderHuman(result: CompareResult, io: CliIo): void {
  const style = createStyle(colourEnabled(io));
  const [headline = '', ...rest] = renderDiffText(result).split('\n');
  const mark = result.status === 'equivalent' ? style.green(`✔ ${headline}`) : style.red(`✖ ${headline}`);
  io.stdout(`${[style.bold(mark), ...rest.map((line) => colourDiffLine(line, style))].join('\n')}\n`);
}

export function registerDiffCommand(program: Command, { io, setExitCode }: CommandContext): void {
  program
    .command('diff')
    .description('compare a desired key policy with a live one (semantic: who may do what)')
    .argument('<desired>', 'the desired key policy (JSON), e.g. from Git')
    .argument('<live>', 'the live key policy (JSON), e.g. from `aws kms get-key-policy`')
    .option('--json', 'print the comparison as JSON')
    .action(async (desiredFile: string, liveFile: string, options: { json?: boolean }) => {
      const desired = await readPolicyDocument(desiredFile);
      const live = await readPolicyDocument(liveFile);
      const result = comparePolicies(desired, live);
      if (options.json) {
        const json: DiffJson = {
          status: result.status,
          severity: result.diff.severity,
          cosmetic: result.cosmetic,
          diff: result.diff,
          problems: result.problems,
          serviceDataDate: result.serviceDataDate,
        };
        writeJson(io, json);
      } else {
        renderHuman(result, io);
      }
      setExitCode(result.status === 'equivalent' ? EXIT_OK : EXIT_FINDINGS);
    });
}

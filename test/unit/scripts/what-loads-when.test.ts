/**
 * What each Lambda bundle compiles at init (docs/architecture.md#what-loads-when): every handler is built as
 * `npm run package` builds it (serverless.yml `custom.esbuild`, with scripts/esbuild-plugins.cjs), in a child
 * process as serverless-esbuild runs it, and the esbuild metafile says which source files are in the entry file and
 * in the chunks it imports statically (what a cold start compiles), and which are only in chunks behind a dynamic
 * `import()` (compiled when that path runs).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseDocument } from 'yaml';
import * as z from 'zod';

const ROOT = resolve(__dirname, '../../..');

/** serverless.yml's esbuild settings as esbuild options (serverless-esbuild's own keys translated or dropped). */
function esbuildOptions(): Record<string, unknown> {
  const yml = parseDocument(readFileSync(resolve(ROOT, 'serverless.yml'), 'utf8'), { logLevel: 'silent' });
  const settings = z
    .object({ custom: z.object({ esbuild: z.record(z.string(), z.unknown()) }) })
    .parse(yml.toJS()).custom.esbuild;
  const { exclude, outputFileExtension, packager, plugins, ...options } = settings;
  expect(plugins).toBe('./scripts/esbuild-plugins.cjs');
  expect(packager).toBe('npm');
  return {
    ...options,
    external: exclude,
    outExtension: { '.js': outputFileExtension },
  };
}

/** Builds handlers/<name>.ts (not written) and prints the metafile. */
const BUILD = `
const esbuild = require('esbuild');
const plugins = require('./scripts/esbuild-plugins.cjs')({ serviceDir: process.cwd(), service: {} });
const [options, name] = [JSON.parse(process.argv[1]), process.argv[2]];
esbuild
  .build({ ...options, entryPoints: ['handlers/' + name + '.ts'], outdir: '.esbuild-what-loads-when/handlers',
    write: false, metafile: true, logLevel: 'silent',
    plugins: plugins.filter((plugin) => plugin.name !== 'source-maps-beside-the-package') })
  .then((result) => process.stdout.write(JSON.stringify(result.metafile)), (error) => {
    process.stderr.write(error.message);
    process.exit(3);
  });
`;

const metafileSchema = z.object({
  outputs: z.record(
    z.string(),
    z.object({
      entryPoint: z.string().optional(),
      inputs: z.record(z.string(), z.unknown()),
      imports: z.array(z.object({ path: z.string(), kind: z.string(), external: z.boolean().optional() })),
    }),
  ),
});

interface Graph {
  /** Source files in the entry file and the chunks it imports statically: compiled at every cold start. */
  atInit: Set<string>;
  /** Source files only in chunks behind a dynamic import. */
  onItsPath: Set<string>;
}

function graphOf(name: string): Graph {
  const stdout = execFileSync(process.execPath, ['-e', BUILD, JSON.stringify(esbuildOptions()), name], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KMS_GUARD_PACKAGE_MANIFESTS: '' },
    maxBuffer: 64 * 1024 * 1024,
  });
  const { outputs } = metafileSchema.parse(JSON.parse(stdout));
  const entry = Object.keys(outputs).find((file) => outputs[file]?.entryPoint === `handlers/${name}.ts`);
  if (entry === undefined) throw new Error(`no output for handlers/${name}.ts`);
  const loaded = new Set<string>();
  const pending = [entry];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (loaded.has(file)) continue;
    loaded.add(file);
    for (const item of outputs[file]?.imports ?? []) {
      if (item.kind === 'import-statement' && !item.external) pending.push(item.path);
    }
  }
  const inputsOf = (files: string[]) =>
    new Set(files.flatMap((file) => Object.keys(outputs[file]?.inputs ?? {})));
  const atInit = inputsOf([...loaded]);
  const rest = inputsOf(Object.keys(outputs).filter((file) => !loaded.has(file)));
  return { atInit, onItsPath: new Set([...rest].filter((input) => !atInit.has(input))) };
}

/** The key check and the policy engine it compares and validates with. */
const CHECK_ENGINE = [
  'src/guard/check-key.ts',
  'src/guard/check/evaluation.ts',
  'src/policy/compare.ts',
  'src/policy/diff.ts',
  'src/policy/validate.ts',
];
/** What only rare paths load (docs/architecture.md#what-loads-when): each guard function has it in a chunk. */
const RARE_PATHS = [
  'src/manifest/load.ts', // a manifest not validated at package time
  'src/aws/sts-sdk.ts', // the hub's first AssumeRole into a member account
  'src/aws/organizations-sdk.ts', // a hub with an organization ID: its first account listing
];

function inputsMatching(inputs: Set<string>, files: readonly string[]): string[] {
  return files.filter((file) => inputs.has(file));
}

describe('what each bundle compiles at init (esbuild metafile of the packaged build)', () => {
  const graphs = new Map<string, Graph>();
  const graph = (name: string): Graph => {
    let found = graphs.get(name);
    if (found === undefined) {
      found = graphOf(name);
      graphs.set(name, found);
    }
    return found;
  };

  it('audit: the fan-out (as deployed) compiles no key check, no policy engine and no KMS client; the audit of one account loads them on its path', () => {
    // Act
    const { atInit, onItsPath } = graph('audit');

    // Assess
    expect(atInit.has('src/app/audit-fan-out-handler.ts')).toBe(true);
    expect(atInit.has('src/guard/org-audit/start.ts')).toBe(true);
    // Nor the key check's KMS client and stores (it builds no guard: ./audit-fan-out-handler.ts).
    expect([...atInit].filter((input) => input.includes('/@aws-sdk/client-kms/'))).toEqual([]);
    expect(
      inputsMatching(atInit, ['src/app/guard-deps.ts', 'src/aws/kms-store.ts', 'src/aws/clients.ts']),
    ).toEqual([]);
    const direct = ['src/app/account-audit-handler.ts', 'src/guard/audit-keys.ts', ...CHECK_ENGINE];
    expect(inputsMatching(atInit, direct)).toEqual([]);
    expect(inputsMatching(onItsPath, direct)).toEqual(direct);
  });

  it.each(['drift', 'audit-worker'])('%s: the key check at init, as every event or unit uses it', (name) => {
    // Act
    const { atInit } = graph(name);

    // Assess
    expect(inputsMatching(atInit, CHECK_ENGINE)).toEqual(CHECK_ENGINE);
    expect(atInit.has('src/app/audit-fan-out-handler.ts')).toBe(false);
    expect(atInit.has('src/app/account-audit-handler.ts')).toBe(false);
  });

  it('audit-worker: the SQS client only on the path that sends (a deadline check re-armed)', () => {
    // Act
    const { atInit, onItsPath } = graph('audit-worker');

    // Assess
    expect([...atInit].filter((input) => input.includes('/@aws-sdk/client-sqs/'))).toEqual([]);
    expect(atInit.has('src/aws/sqs-audit-queue.ts')).toBe(true);
    expect(onItsPath.has('src/aws/sqs-sdk.ts')).toBe(true);
  });

  it('audit-worker: the feed checks of member accounts only for a hub that has member accounts', () => {
    // Act
    const { atInit, onItsPath } = graph('audit-worker');

    // Assess
    const feedClients = /\/@aws-sdk\/client-(cloudtrail|eventbridge)\//;
    expect([...atInit].filter((input) => feedClients.test(input))).toEqual([]);
    expect(atInit.has('src/app/spoke-feed.ts')).toBe(false);
    expect(onItsPath.has('src/app/spoke-feed.ts')).toBe(true);
  });

  it.each(['drift', 'audit', 'audit-worker', 'notify-slack'])(
    "%s: zod's tree-shakable API only, at init and on every path (its classic API is in no chunk)",
    (name) => {
      // Act
      const { atInit, onItsPath } = graph(name);

      // Assess
      const all = [...atInit, ...onItsPath];
      expect(all.filter((input) => input.includes('/zod/v4/mini/')).length).toBeGreaterThan(0);
      expect(all.filter((input) => input.includes('/zod/v4/classic/'))).toEqual([]);
    },
  );

  it('audit: the fan-out does not load the AWS service data (its alert texts need only its date)', () => {
    // Act
    const { atInit } = graph('audit');

    // Assess
    expect(atInit.has('src/policy/service-data-date.ts')).toBe(true);
    expect(atInit.has('src/policy/service-data.ts')).toBe(false);
  });

  it.each(['drift', 'audit', 'audit-worker'])(
    '%s: what only rare paths need is in chunks of their own',
    (name) => {
      // Act
      const { atInit, onItsPath } = graph(name);

      // Assess
      expect(inputsMatching(atInit, RARE_PATHS)).toEqual([]);
      expect(inputsMatching(onItsPath, RARE_PATHS)).toEqual(RARE_PATHS);
    },
  );
});

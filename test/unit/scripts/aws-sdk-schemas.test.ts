/**
 * scripts/esbuild-plugins.cjs `aws-sdk-schemas-tree-shakable`: an AWS SDK client's schemas module, with the computed
 * keys of its string constants written as those strings, is the same data, and lets esbuild drop the operations a
 * function never calls. esbuild runs in a child process (its JS API does not run inside Jest's module sandbox), as
 * in ./what-loads-when.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as z from 'zod';

const ROOT = resolve(__dirname, '../../..');

const { inlineSchemaKeys } = require('../../../scripts/esbuild-plugins.cjs') as {
  inlineSchemaKeys: (text: string) => string | undefined;
};

/** The schemas module of every client the functions bundle (package.json dependencies). */
function clientsInPackageJson(): string[] {
  const { dependencies } = z
    .object({ dependencies: z.record(z.string(), z.string()) })
    .parse(JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')));
  return Object.keys(dependencies)
    .filter((name) => name.startsWith('@aws-sdk/client-'))
    .sort();
}

function schemasOf(client: string): string {
  return resolve(ROOT, 'node_modules', client, 'dist-es/schemas/schemas_0.js');
}

/**
 * In a child process: the module at argv[1] bundled (CommonJS, not minified) once as it is and once with the
 * plugin's text, both loaded, every export printed (functions as their source text: the thunks `() => Shape$`).
 */
const LOAD_BOTH = `
const esbuild = require('esbuild');
const { readFileSync, mkdtempSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { tmpdir } = require('node:os');
const { inlineSchemaKeys } = require('./scripts/esbuild-plugins.cjs');
const file = process.argv[1];
const dir = mkdtempSync(join(tmpdir(), 'schemas-'));
const print = (exports) => JSON.stringify(exports, (key, value) =>
  typeof value === 'function' ? 'fn:' + value.toString() : value instanceof Map ? [...value.keys()] : value);
const load = (contents, name) => {
  const outfile = join(dir, name + '.cjs');
  esbuild.buildSync({ stdin: { contents, resolveDir: dirname(file), loader: 'js' }, bundle: true, format: 'cjs',
    platform: 'node', outfile, logLevel: 'silent' });
  return print(require(outfile));
};
const text = readFileSync(file, 'utf8');
process.stdout.write(JSON.stringify({ asIs: load(text, 'as-is'), inlined: load(inlineSchemaKeys(text), 'inlined') }));
`;

/**
 * In a child process: a module that uses one Lambda operation, bundled minified as the functions are, without and
 * with the packaged plugins; prints what the Lambda client's schemas module keeps of each.
 */
const ONE_OPERATION = `
const esbuild = require('esbuild');
const plugins = require('./scripts/esbuild-plugins.cjs')({ serviceDir: process.cwd(), service: {} })
  .filter((plugin) => plugin.name === 'aws-sdk-schemas-tree-shakable');
const entry = "import { GetFunctionConcurrencyCommand, LambdaClient } from '@aws-sdk/client-lambda';" +
  'export const used = [LambdaClient, GetFunctionConcurrencyCommand];';
const build = (withPlugin) => esbuild.build({
  stdin: { contents: entry, resolveDir: process.cwd(), loader: 'js' }, bundle: true, format: 'esm', platform: 'node',
  mainFields: ['module', 'main'], minify: true, write: false, metafile: true, logLevel: 'silent',
  plugins: withPlugin ? plugins : [] })
  .then((result) => {
    const inputs = result.metafile.outputs[Object.keys(result.metafile.outputs)[0]].inputs;
    const schemas = Object.keys(inputs).find((input) => input.endsWith('client-lambda/dist-es/schemas/schemas_0.js'));
    const text = result.outputFiles[0].text;
    return { schemaBytes: inputs[schemas].bytesInOutput, keepsGetFunctionConcurrency: text.includes('/2019-09-30/functions/{FunctionName}/concurrency'),
      keepsCreateFunction: text.includes('"/2015-03-31/functions"') };
  });
Promise.all([build(false), build(true)]).then(([asIs, inlined]) => process.stdout.write(JSON.stringify({ asIs, inlined })));
`;

function node(script: string, ...args: string[]): string {
  return execFileSync(process.execPath, ['-e', script, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
}

describe('aws-sdk-schemas-tree-shakable (scripts/esbuild-plugins.cjs)', () => {
  it.each(clientsInPackageJson())(
    '%s: every computed key of a string constant is written as that string',
    (client) => {
      // Prepare
      const text = readFileSync(schemasOf(client), 'utf8');

      // Act
      const inlined = inlineSchemaKeys(text);

      // Assess
      expect(text).toMatch(/\[_[A-Za-z0-9]+\]:/);
      expect(inlined).toBeDefined();
      expect(inlined).not.toMatch(/\[_[A-Za-z0-9]+\]:/);
    },
  );

  // One client of each protocol the functions use: REST JSON, awsJson1_0, awsJson1_1, query.
  it.each([
    '@aws-sdk/client-lambda',
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/client-cloudtrail',
    '@aws-sdk/client-sns',
  ])('%s: the schemas module exports the same data with its keys inlined', (client) => {
    // Act
    const printed = z
      .object({ asIs: z.string(), inlined: z.string() })
      .parse(JSON.parse(node(LOAD_BOTH, schemasOf(client))));

    // Assess
    expect(printed.asIs.length).toBeGreaterThan(10_000);
    expect(printed.inlined).toBe(printed.asIs);
  });

  it('a function that calls one Lambda operation keeps its schema and drops the others', () => {
    // Act
    const built = z
      .object({
        asIs: z.object({
          schemaBytes: z.number(),
          keepsGetFunctionConcurrency: z.boolean(),
          keepsCreateFunction: z.boolean(),
        }),
        inlined: z.object({
          schemaBytes: z.number(),
          keepsGetFunctionConcurrency: z.boolean(),
          keepsCreateFunction: z.boolean(),
        }),
      })
      .parse(JSON.parse(node(ONE_OPERATION)));

    // Assess: as published, esbuild keeps every operation (when this fails, the SDK or esbuild changed and the
    // plugin may have become unnecessary).
    expect(built.asIs).toMatchObject({ keepsGetFunctionConcurrency: true, keepsCreateFunction: true });
    expect(built.inlined).toMatchObject({ keepsGetFunctionConcurrency: true, keepsCreateFunction: false });
    expect(built.inlined.schemaBytes).toBeLessThan(built.asIs.schemaBytes / 4);
  });

  it.each([
    [
      'a constant declared twice',
      'const _h = "http";\nconst _h = "other";\nexport var A$ = [9, n0, "A", { [_h]: ["GET", "/", 200] }];\n',
    ],
    [
      'a function with a parameter',
      'const _h = "http";\nexport var A$ = [9, n0, "A", { [_h]: 1 }, (_h) => _h];\n',
    ],
    [
      'a function declaration',
      'const _h = "http";\nfunction f(_h) { return { [_h]: 1 }; }\nexport var A$ = f(1);\n',
    ],
    ['no computed key of a constant', 'const _h = "http";\nexport var A$ = [9, n0, "A", { http: 1 }];\n'],
  ])('leaves a module with %s as it is', (_case, text) => {
    // Act
    const inlined = inlineSchemaKeys(text);

    // Assess
    expect(inlined).toBeUndefined();
  });

  it('writes the key of a string constant as the string, and leaves other computed keys', () => {
    // Prepare
    const text =
      'const _h = "http";\nconst _e = "error";\nexport var A$ = [9, n0, "A", { [_h]: ["GET", "/", 200], [other]: 1 }, () => B$];\n';

    // Act
    const inlined = inlineSchemaKeys(text);

    // Assess
    expect(inlined).toBe(
      'const _h = "http";\nconst _e = "error";\nexport var A$ = [9, n0, "A", { "http": ["GET", "/", 200], [other]: 1 }, () => B$];\n',
    );
  });
});

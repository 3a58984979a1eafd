/**
 * scripts/map-stack-trace.cjs: a stack trace of a packaged bundle, mapped back to src/ with the source map that
 * `npm run package` writes beside the zips (docs/operations.md#stack-traces-and-source-maps). The bundle and its
 * map are made here by esbuild, as serverless-esbuild makes them (minified whitespace, no embedded sources).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { transformSync } from 'esbuild';

const SCRIPT = resolve(__dirname, '../../../scripts/map-stack-trace.cjs');
const SOURCE = [
  'export function first(): number {',
  '  return 1;',
  '}',
  '',
  'export function checkKey(keyId: string): never {',
  '  throw new Error(`no key ${keyId}`);',
  '}',
  '',
].join('\n');

/** Line and column (1-based, as V8 prints them) of `needle` in `text`. */
function positionOf(text: string, needle: string): { line: number; column: number } {
  const before = text.slice(0, text.indexOf(needle)).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

describe('map-stack-trace', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'kms-guard-map-trace-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('follows each handlers/<name>.js frame with its position in src/, and leaves other frames as they are', () => {
    // Prepare
    const built = transformSync(SOURCE, {
      loader: 'ts',
      format: 'cjs',
      minifyWhitespace: true,
      sourcemap: 'external',
      sourcesContent: false,
      sourcefile: '../../../src/guard/check-key.ts',
    });
    const mapFile = join(dir, 'drift.js.map');
    writeFileSync(mapFile, built.map);
    const at = positionOf(built.code, 'throw new Error');
    const trace = [
      'Error: no key 1234',
      `    at checkKey (/var/task/handlers/drift.js:${at.line}:${at.column})`,
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      '',
    ].join('\n');

    // Act
    const mapped = execFileSync(process.execPath, [SCRIPT, mapFile], { input: trace, encoding: 'utf8' });

    // Assess
    expect(mapped.split('\n')).toEqual([
      'Error: no key 1234',
      `    at checkKey (/var/task/handlers/drift.js:${at.line}:${at.column} [src/guard/check-key.ts:6:3])`,
      '    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)',
      '',
    ]);
  });

  it('maps each frame of an ES module bundle and its chunks with its own map, from the sourcemaps directory', () => {
    // Prepare: the entry and one chunk, each with its map where the package writes them
    const build = (sourcefile: string) =>
      transformSync(SOURCE, {
        loader: 'ts',
        format: 'esm',
        minifyWhitespace: true,
        sourcemap: 'external',
        sourcesContent: false,
        sourcefile,
      });
    const entry = build('../../../src/guard/check-key.ts');
    const chunk = build('../../../../src/manifest/load.ts');
    const maps = join(dir, 'sourcemaps');
    mkdirSync(join(maps, 'handlers', 'drift.chunks'), { recursive: true });
    writeFileSync(join(maps, 'handlers', 'drift.mjs.map'), entry.map);
    writeFileSync(join(maps, 'handlers', 'drift.chunks', 'load-AB12CD34.mjs.map'), chunk.map);
    const at = positionOf(entry.code, 'throw new Error');
    const atChunk = positionOf(chunk.code, 'throw new Error');
    const trace = [
      'Error: no key 1234',
      `    at checkKey (file:///var/task/handlers/drift.chunks/load-AB12CD34.mjs:${atChunk.line}:${atChunk.column})`,
      `    at first (file:///var/task/handlers/drift.mjs:${at.line}:${at.column})`,
      '',
    ].join('\n');

    // Act
    const mapped = execFileSync(process.execPath, [SCRIPT, maps], { input: trace, encoding: 'utf8' });

    // Assess
    expect(mapped.split('\n')).toEqual([
      'Error: no key 1234',
      `    at checkKey (file:///var/task/handlers/drift.chunks/load-AB12CD34.mjs:${atChunk.line}:${atChunk.column} [src/manifest/load.ts:6:3])`,
      `    at first (file:///var/task/handlers/drift.mjs:${at.line}:${at.column} [src/guard/check-key.ts:6:3])`,
      '',
    ]);
  });
});

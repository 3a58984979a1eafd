#!/usr/bin/env node
/**
 * Maps a stack trace of a packaged function back to src/: reads the trace on stdin, prints it with every frame in
 * `handlers/<name>.mjs:<line>:<column>` (or one of its chunks, `handlers/<name>.chunks/<chunk>.mjs`) followed by
 * the original position ` [src/....ts:<line>:<column>]`. The zips hold no source map (scripts/esbuild-plugins.cjs
 * moves each one beside the package), so the maps must come from the same `npm run package` as the deployed zip
 * (docs/operations.md#stack-traces-and-source-maps).
 *
 * Usage: node scripts/map-stack-trace.cjs .serverless/sourcemaps < trace.txt
 *        (each frame with the map of its own file: `<dir>/handlers/<file>.map`)
 *        node scripts/map-stack-trace.cjs .serverless/sourcemaps/handlers/drift.mjs.map < trace.txt
 *        (one map for every frame: a trace of that file alone)
 * Only node's own SourceMap (node:module) is used: no dependency.
 */
const { existsSync, readFileSync, statSync } = require('node:fs');
const { SourceMap } = require('node:module');
const path = require('node:path');

/** A bundle's frame: the entry file or one of its chunks, `.mjs` (or `.js` for a CommonJS package). */
const FRAME = /(handlers\/[\w-]+(?:\.chunks\/[\w-]+)?\.m?js):(\d+):(\d+)/g;

/** The source as a reader knows it: `src/guard/check-key.ts`, not `../../../src/guard/check-key.ts`. */
function readable(source) {
  return source.replace(/^(\.\.\/)+/, '');
}

/** Maps every frame of the text (1-based, as V8 prints them); `maps`: one SourceMap, or the map of a file. */
function mapTrace(text, maps) {
  const mapOf = typeof maps === 'function' ? maps : () => maps;
  return text.replace(FRAME, (frame, file, line, column) => {
    const map = mapOf(file);
    const entry = map?.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || typeof entry.originalSource !== 'string') return frame;
    return `${frame} [${readable(entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}]`;
  });
}

/** The maps of a sourcemaps directory, each read once: `handlers/drift.mjs` -> `<dir>/handlers/drift.mjs.map`. */
function mapsIn(dir) {
  const read = new Map();
  return (file) => {
    if (!read.has(file)) {
      const mapFile = path.join(dir, `${file}.map`);
      read.set(
        file,
        existsSync(mapFile) ? new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8'))) : undefined,
      );
    }
    return read.get(file);
  };
}

function main() {
  const where = process.argv[2];
  if (!where) {
    process.stderr.write(
      'usage: node scripts/map-stack-trace.cjs <sourcemaps directory | handlers/<name>.mjs.map> < trace.txt\n',
    );
    process.exit(2);
  }
  const maps = statSync(where).isDirectory()
    ? mapsIn(where)
    : new SourceMap(JSON.parse(readFileSync(where, 'utf8')));
  process.stdout.write(mapTrace(readFileSync(0, 'utf8'), maps));
}

if (require.main === module) main();

module.exports = { mapTrace };

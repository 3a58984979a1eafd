#!/usr/bin/env node
/**
 * Maps a stack trace of a packaged function back to src/: reads the trace on stdin, prints it with every frame in
 * `handlers/<name>.js:<line>:<column>` followed by the original position ` [src/....ts:<line>:<column>]`.
 * The zips hold no source map (scripts/esbuild-plugins.cjs moves each one beside the package), so the map must come
 * from the same `npm run package` as the deployed zip (docs/operations.md#stack-traces-and-source-maps).
 *
 * Usage: node scripts/map-stack-trace.cjs .serverless/sourcemaps/handlers/drift.js.map < trace.txt
 * Only node's own SourceMap (node:module) is used: no dependency.
 */
const { readFileSync } = require('node:fs');
const { SourceMap } = require('node:module');

/** The source as a reader knows it: `src/guard/check-key.ts`, not `../../../src/guard/check-key.ts`. */
function readable(source) {
  return source.replace(/^(\.\.\/)+/, '');
}

/** Maps every `handlers/<name>.js:<line>:<column>` of the text (1-based, as V8 prints them). */
function mapTrace(text, map) {
  return text.replace(/(handlers\/[\w-]+\.js):(\d+):(\d+)/g, (frame, _file, line, column) => {
    const entry = map.findEntry(Number(line) - 1, Number(column) - 1);
    if (!entry || typeof entry.originalSource !== 'string') return frame;
    return `${frame} [${readable(entry.originalSource)}:${entry.originalLine + 1}:${entry.originalColumn + 1}]`;
  });
}

function main() {
  const mapFile = process.argv[2];
  if (!mapFile) {
    process.stderr.write('usage: node scripts/map-stack-trace.cjs <handlers/<name>.js.map> < trace.txt\n');
    process.exit(2);
  }
  const map = new SourceMap(JSON.parse(readFileSync(mapFile, 'utf8')));
  process.stdout.write(mapTrace(readFileSync(0, 'utf8'), map));
}

if (require.main === module) main();

module.exports = { mapTrace };

/**
 * Runs every benchmark module in bench/ (files named `*.bench.ts`), one after another, in name order.
 * A module exports `run(): void | Promise<void>` and prints its own table. Add a module by adding a file.
 * Usage: npm run bench [-- <name filter>]
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

interface BenchModule {
  run: () => void | Promise<void>;
}

function isBenchModule(value: unknown): value is BenchModule {
  return (
    typeof value === 'object' && value !== null && typeof (value as { run?: unknown }).run === 'function'
  );
}

async function main(): Promise<void> {
  const filter = process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? ''; // --flags are for modules
  const files = readdirSync(__dirname)
    .filter((file) => file.endsWith('.bench.ts') && file.includes(filter))
    .sort();
  if (files.length === 0) throw new Error(`No bench/*.bench.ts module matches "${filter}"`);
  for (const file of files) {
    console.log(`\n== ${file} ==`);
    const loaded: unknown = await import(join(__dirname, file));
    if (!isBenchModule(loaded)) throw new Error(`${file} does not export run()`);
    await loaded.run();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

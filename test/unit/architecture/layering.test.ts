/**
 * The shipped tree's imports, checked: what is under src/ and handlers/ is what the Lambda bundles and
 * the CLI run, so it may import only runtime dependencies (type-only imports may also name @types
 * packages), never the moto harness, tests or scripts; and each layer imports only the layers below it
 * (docs/architecture.md#layout).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const packageJson = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const RUNTIME = new Set(Object.keys(packageJson.dependencies));
const TYPES = new Set(Object.keys(packageJson.devDependencies).filter((name) => name.startsWith('@types/')));
const BUILTINS = new Set(builtinModules);

interface Import {
  file: string;
  specifier: string;
  typeOnly: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(relative);
    return entry.name.endsWith('.ts') ? [relative] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/g;
const DYNAMIC = /(?:import|require)\(\s*['"]([^'"]+)['"]\s*\)/g;

function importsOf(file: string): Import[] {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const found: Import[] = [];
  for (const match of text.matchAll(IMPORT)) {
    found.push({ file, specifier: match[3] ?? '', typeOnly: match[2] !== undefined });
  }
  for (const match of text.matchAll(DYNAMIC))
    found.push({ file, specifier: match[1] ?? '', typeOnly: false });
  return found;
}

function packageName(specifier: string): string {
  const parts = specifier.replace(/^node:/, '').split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** The top-level folder of `src/<layer>/…` a relative import lands in, or the repository folder outside src. */
function targetOf(item: Import): string {
  const resolved = path.relative(ROOT, path.resolve(ROOT, path.dirname(item.file), item.specifier));
  const [top, layer] = resolved.split(path.sep);
  return top === 'src' ? `src/${layer}` : (top ?? resolved);
}

const SHIPPED = [...sourceFiles('src'), ...sourceFiles('handlers')];
const IMPORTS = SHIPPED.flatMap(importsOf);

describe('the shipped tree (src/, handlers/)', () => {
  it('imports only runtime dependencies and Node built-ins (type-only imports may name @types packages)', () => {
    // Act
    const offending = IMPORTS.filter((item) => !item.specifier.startsWith('.'))
      .filter((item) => {
        const name = packageName(item.specifier);
        if (BUILTINS.has(name) || RUNTIME.has(name)) return false;
        return !(item.typeOnly && TYPES.has(`@types/${name}`));
      })
      .map((item) => `${item.file}: ${item.specifier}`);

    // Assess
    expect(IMPORTS.length).toBeGreaterThan(100);
    expect(offending).toEqual([]);
  });

  it('never imports the moto harness, tests, scripts or benchmarks', () => {
    const offending = IMPORTS.filter((item) => item.specifier.startsWith('.'))
      .filter((item) => ['dev', 'test', 'scripts', 'bench'].includes(targetOf(item)))
      .map((item) => `${item.file}: ${item.specifier}`);
    expect(offending).toEqual([]);
  });

  // Which layers each layer may import (besides itself); handlers/ may import only src/app.
  const ALLOWED: Record<string, readonly string[]> = {
    'src/policy': [],
    'src/core': ['src/policy'],
    'src/manifest': ['src/core', 'src/policy'],
    'src/guard': ['src/core', 'src/manifest', 'src/policy'],
    'src/alerts': ['src/core', 'src/policy'],
    'src/aws': ['src/alerts', 'src/core', 'src/guard', 'src/manifest', 'src/policy'],
    'src/app': ['src/alerts', 'src/aws', 'src/core', 'src/guard', 'src/manifest', 'src/policy'],
    'src/cli': ['src/alerts', 'src/app', 'src/aws', 'src/core', 'src/guard', 'src/manifest', 'src/policy'],
    handlers: ['src/app'],
  };

  it.each(Object.entries(ALLOWED))('%s imports only the layers below it', (layer, allowed) => {
    // Act
    const offending = IMPORTS.filter(
      (item) => item.file.startsWith(`${layer}/`) && item.specifier.startsWith('.'),
    )
      .filter((item) => {
        const target = targetOf(item);
        return target !== layer && !allowed.includes(target) && target !== 'package.json';
      })
      .map((item) => `${item.file}: ${item.specifier} (${targetOf(item)})`);

    // Assess
    expect(offending).toEqual([]);
  });

  it('puts every file under src/ in a known layer', () => {
    const layers = new Set(
      SHIPPED.filter((file) => file.startsWith('src/')).map((file) =>
        file.split(path.sep).slice(0, 2).join('/'),
      ),
    );
    expect([...layers].filter((layer) => !(layer in ALLOWED))).toEqual([]);
  });

  it('keeps the pure policy engine free of AWS SDK imports', () => {
    const offending = IMPORTS.filter(
      (item) => item.file.startsWith('src/policy/') && item.specifier.startsWith('@aws-sdk'),
    );
    expect(offending).toEqual([]);
  });

  it('takes zod from src/core/zod.ts only, which takes only its tree-shakable API (zod/mini) and a locale', () => {
    // Act
    const zodImports = IMPORTS.filter((item) => packageName(item.specifier) === 'zod');
    const elsewhere = zodImports
      .filter((item) => item.file !== path.join('src', 'core', 'zod.ts'))
      .map((item) => `${item.file}: ${item.specifier}`);

    // Assess
    expect(elsewhere).toEqual([]);
    expect(zodImports.map((item) => item.specifier).sort()).toEqual(['zod/locales', 'zod/mini', 'zod/mini']);
  });

  it('keeps CLI commands independent of each other', () => {
    const offending = IMPORTS.filter(
      (item) => item.file.startsWith('src/cli/commands/') && /^\.\/[^/]+$/.test(item.specifier),
    ).map((item) => `${item.file}: ${item.specifier}`);
    expect(offending).toEqual([]);
  });

  it('keeps every file under 400 lines', () => {
    const long = SHIPPED.map((file) => ({
      file,
      lines: readFileSync(path.join(ROOT, file), 'utf8').split('\n').length,
    }))
      .filter((item) => item.lines > 400)
      .map((item) => `${item.file}: ${item.lines}`);
    expect(long).toEqual([]);
  });
});

/**
 * esbuild plugins of the Lambda packages: serverless.yml `custom.esbuild.plugins` names this file, and
 * serverless-esbuild calls it with the serverless instance.
 *
 * source-maps-beside-the-package: each bundle's source maps (its entry's and its chunks') are moved out of the build
 * directory as soon as esbuild wrote them, before serverless-esbuild zips the directory, to
 * `<package dir>/sourcemaps/handlers/<entry>.mjs.map` and `<package dir>/sourcemaps/handlers/<entry>.chunks/`
 * (`.serverless/sourcemaps/` for `npm run package`, the --package directory when given). The zip holds only the
 * bundle; keep the maps with the zips in the artifact store to map a stack trace back to src/
 * (scripts/map-stack-trace.cjs, docs/operations.md#stack-traces-and-source-maps).
 *
 * lambda-credentials-from-environment: the SDK clients' default credential chain becomes its first link alone,
 * the environment (`fromEnv`), which is where Lambda puts the function role's credentials. The other links (SSO,
 * ini files, credential processes, web identity, container and instance metadata) and the STS, SSO and sign-in
 * clients they bring are never used in Lambda, and are about 45 KB of every zip and several ms of every cold
 * start (npm run bench -- lambda). The CLI, the tests and the demo do not use the bundles: they keep the chain.
 *
 * yaml-as-es-module: `yaml` resolves to the package's own ES module build (`yaml/browser/index.js`, the same
 * version and code as its CommonJS `dist/`, which the `node` export condition picks), so esbuild can drop what
 * the functions never call (stringifying documents): ~31 KB less of every guard bundle. The functions only parse
 * the manifest; nothing in that build is browser-specific.
 *
 * manifest-validated-at-package-time (docs/architecture.md#the-manifest-validated-at-package-time): the manifest the
 * functions load (every MANIFEST_PATH in serverless.yml, default policies/manifest.yaml) is loaded and validated here,
 * in full, with the same code the bundle holds (src/manifest/prevalidate.ts through tsx): an invalid manifest fails
 * the package. Its result and the SHA-256 of the manifest and of every desired document replace
 * src/manifest/packaged.ts in each bundle; at init, the function uses that result only when the files it finds are
 * byte for byte the ones validated, and validates in full otherwise. KMS_GUARD_PACKAGE_MANIFESTS (paths separated
 * by the platform's path delimiter) validates and records further manifests too: npm run bench -- lambda packages
 * the manifests of its local world that way, as a deployment packages policies/.
 *
 * aws-sdk-schemas-tree-shakable: every AWS SDK client's `schemas/schemas_0.js` declares the shapes of all its
 * operations, and a REST or query client writes their HTTP traits with computed keys of the module's own string
 * constants (`{ [_h]: ["GET", "/2019-09-30/functions/{FunctionName}/concurrency", 200] }`). esbuild cannot prove
 * such a key free of side effects, so it keeps every operation's schema, and all the shapes those reach, of every
 * client a function imports: for the Lambda client (one operation used, GetFunctionConcurrency) 46 KB of the 71 KB
 * the audit compiles at init. Each such key becomes the constant's own string literal, which is the same object at
 * run time and lets esbuild drop what nothing uses (inlineSchemaKeys, below). A file that does not look as expected
 * (a constant declared twice, a function with parameters that could shadow one) is left as it is: the bundle is then
 * only larger, never different.
 */
const { mkdirSync, readdirSync, readFileSync, renameSync, existsSync } = require('node:fs');
const path = require('node:path');

/**
 * Where the maps go: `<service dir>/.serverless/sourcemaps/`. serverless-esbuild copies the zips into
 * `<service dir>/.serverless/`, and the framework moves that directory's whole content to the --package directory
 * when one is given (aws:common:moveArtifactsToPackage), so the maps end up beside the zips either way.
 */
function serviceDirOf(serverless) {
  return path.resolve(serverless.serviceDir || serverless.config?.serviceDir || process.cwd());
}

function packageDirOf(serverless) {
  return path.resolve(serviceDirOf(serverless), '.serverless');
}

function sourceMapsBesideThePackage(packageDir) {
  return {
    name: 'source-maps-beside-the-package',
    setup(build) {
      build.onEnd((result) => {
        const { entryPoints, outdir, outExtension } = build.initialOptions;
        if (result.errors.length > 0 || !Array.isArray(entryPoints) || outdir === undefined) return;
        for (const entry of entryPoints) {
          const relative = typeof entry === 'string' ? entry : entry.in;
          const base = path.basename(relative, path.extname(relative));
          const name = `${base}${outExtension?.['.js'] ?? '.js'}.map`;
          // The entry's map, and the maps of its chunks (handlers/<entry>.chunks/, chunksBesideTheirEntry).
          const chunkDir = `${base}.chunks`;
          const chunkMaps = existsSync(path.join(outdir, chunkDir))
            ? readdirSync(path.join(outdir, chunkDir))
                .filter((file) => file.endsWith('.map'))
                .map((file) => path.join(chunkDir, file))
            : [];
          for (const map of [name, ...chunkMaps]) {
            const written = path.join(outdir, map);
            if (!existsSync(written)) continue;
            const target = path.join(packageDir, 'sourcemaps', path.dirname(relative), map);
            mkdirSync(path.dirname(target), { recursive: true });
            renameSync(written, target);
          }
        }
      });
    },
  };
}

/**
 * chunks-beside-their-entry: with code splitting, each function's chunks go to `handlers/<entry>.chunks/`.
 * serverless-esbuild builds every function into one directory and leaves another function's bundle out of a zip by
 * its name (`handlers/<entry>.`), so chunks named that way are zipped with their own function only.
 */
function chunksBesideTheirEntry() {
  return {
    name: 'chunks-beside-their-entry',
    setup(build) {
      const { entryPoints, splitting } = build.initialOptions;
      if (!splitting || !Array.isArray(entryPoints) || entryPoints.length !== 1) return;
      const [entry] = entryPoints;
      const relative = typeof entry === 'string' ? entry : entry.in;
      build.initialOptions.chunkNames = `${path.basename(relative, path.extname(relative))}.chunks/[name]-[hash]`;
    },
  };
}

function lambdaCredentialsFromEnvironment() {
  const namespace = 'lambda-credentials';
  return {
    name: 'lambda-credentials-from-environment',
    setup(build) {
      // Resolved next to the client that imports it, so each client gets the fromEnv of its own SDK version.
      build.onResolve({ filter: /^@aws-sdk\/credential-provider-node$/ }, (args) => ({
        path: args.resolveDir,
        namespace,
      }));
      build.onLoad({ filter: /.*/, namespace }, (args) => ({
        contents: "export { fromEnv as defaultProvider } from '@aws-sdk/credential-provider-env';",
        resolveDir: args.path,
        loader: 'js',
      }));
    },
  };
}

function yamlAsEsModule() {
  return {
    name: 'yaml-as-es-module',
    setup(build) {
      build.onResolve({ filter: /^yaml$/ }, (args) => ({
        path: path.join(
          path.dirname(require.resolve('yaml/package.json', { paths: [args.resolveDir] })),
          'browser/index.js',
        ),
      }));
    },
  };
}

/** Matches `const _name = "text";` at the top of a schemas module (a string without escapes). */
const SCHEMA_STRING_CONSTANT = /^const (_[A-Za-z0-9]+) = ("[^"\\\n]*");$/gm;

/**
 * The schemas module's text with every computed key `[_name]:` of a top-level string constant written as that
 * string, or `undefined` when nothing may safely change: a constant declared more than once, or any function with
 * parameters (the module is plain data and thunks `() => Shape$`; a parameter could shadow a constant).
 */
function inlineSchemaKeys(text) {
  const constants = new Map();
  for (const match of text.matchAll(SCHEMA_STRING_CONSTANT)) constants.set(match[1], match[2]);
  if (constants.size === 0) return undefined;
  const arrows = text.match(/=>/g)?.length ?? 0;
  const thunks = text.match(/\(\)\s*=>/g)?.length ?? 0;
  if (arrows !== thunks || /\bfunction\s*[A-Za-z0-9_$]*\s*\(/.test(text.replace(/"[^"\\\n]*"/g, '""'))) {
    return undefined;
  }
  for (const name of constants.keys()) {
    const declarations = text.match(new RegExp(`\\b(?:const|let|var|class)\\s+${name}\\b`, 'g'))?.length ?? 0;
    if (declarations !== 1) return undefined;
  }
  let changed = false;
  const inlined = text.replace(/\[(_[A-Za-z0-9]+)\]:/g, (key, name) => {
    const literal = constants.get(name);
    if (literal === undefined) return key;
    changed = true;
    return `${literal}:`;
  });
  return changed ? inlined : undefined;
}

function awsSdkSchemasTreeShakable() {
  return {
    name: 'aws-sdk-schemas-tree-shakable',
    setup(build) {
      build.onLoad(
        { filter: /[\\/]@aws-sdk[\\/]client-[^\\/]+[\\/]dist-es[\\/]schemas[\\/]schemas_\d+\.js$/ },
        (args) => {
          const contents = inlineSchemaKeys(readFileSync(args.path, 'utf8'));
          return contents === undefined ? undefined : { contents, loader: 'js' };
        },
      );
    },
  };
}

/** The manifests the functions load: every literal MANIFEST_PATH (provider or function), else the default. */
function manifestPathsOf(serverless, serviceDir) {
  const service = serverless.service ?? {};
  const environments = [
    service.provider?.environment,
    ...Object.values(service.functions ?? {}).map((fn) => fn?.environment),
  ];
  const paths = new Set(
    environments
      .map((environment) => environment?.MANIFEST_PATH)
      .filter((value) => typeof value === 'string' && value !== ''),
  );
  if (paths.size === 0) paths.add('policies/manifest.yaml');
  for (const extra of (process.env.KMS_GUARD_PACKAGE_MANIFESTS ?? '').split(path.delimiter)) {
    if (extra.trim() !== '') paths.add(extra.trim());
  }
  return [...paths].map((file) => path.resolve(serviceDir, file));
}

function manifestValidatedAtPackageTime(serviceDir, manifestPaths) {
  let contents;
  const packagedModule = path.join(serviceDir, 'src', 'manifest', 'packaged.ts');
  return {
    name: 'manifest-validated-at-package-time',
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]manifest[\\/]packaged\.ts$/ }, (args) => {
        if (path.resolve(args.path) !== packagedModule) return undefined;
        if (contents === undefined) {
          // Validated once per package, by the TypeScript sources themselves (tsx, a dependency).
          const tsx = require('tsx/cjs/api');
          const { prevalidateManifest } = tsx.require('../src/manifest/prevalidate.ts', __filename);
          const validated = [];
          for (const file of manifestPaths) {
            try {
              validated.push(prevalidateManifest(file));
            } catch (error) {
              throw new Error(`the manifest is invalid, nothing packaged: ${error?.message ?? error}`);
            }
          }
          contents = `export const PACKAGED_MANIFESTS = ${JSON.stringify(validated)};\n`;
        }
        return { contents, loader: 'js' };
      });
    },
  };
}

module.exports = (serverless) => [
  chunksBesideTheirEntry(),
  sourceMapsBesideThePackage(packageDirOf(serverless)),
  lambdaCredentialsFromEnvironment(),
  yamlAsEsModule(),
  awsSdkSchemasTreeShakable(),
  manifestValidatedAtPackageTime(
    serviceDirOf(serverless),
    manifestPathsOf(serverless, serviceDirOf(serverless)),
  ),
];

module.exports.inlineSchemaKeys = inlineSchemaKeys;

/**
 * Fuzzing helpers: case counts per target, and arbitraries that mutate REAL documents (the events in
 * test/events, the shipped policies) at random paths, so generated inputs get past the first schema
 * check and reach the code behind it. Each mutation is a plain record, so fast-check shrinks a failure
 * to the fewest, smallest mutations.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';

/** Cases per fuzz target (the issue asks for at least 10,000; the CLI runs in-process on temp files). */
export const FUZZ_RUNS = {
  driftHandlerEvents: 10_000,
  parsePolicy: 10_000,
  validatePolicy: 10_000,
  compareAndRender: 10_000,
  cliValidateAndDiff: 500,
  snsPublishInput: 10_000,
  slackMessage: 10_000,
  /** One hostile finding through every renderer (e-mail, SNS, Slack, HTML, CLI table and apply), twice. */
  everyRenderer: 1_000,
} as const;

export const REPO_ROOT = path.join(__dirname, '..', '..', '..');

/** Every `*.json` file directly in the given directories (repository-relative), parsed. */
export function loadJsonFiles(...directories: string[]): { file: string; value: unknown; text: string }[] {
  return directories.flatMap((directory) => {
    const absolute = path.join(REPO_ROOT, directory);
    return readdirSync(absolute)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .flatMap((name) => {
        const text = readFileSync(path.join(absolute, name), 'utf8');
        try {
          return [{ file: `${directory}/${name}`, value: JSON.parse(text) as unknown, text }];
        } catch {
          // A fixture that is deliberately not JSON still seeds the text mutations.
          return [{ file: `${directory}/${name}`, value: text as unknown, text }];
        }
      });
  });
}

type JsonPathStep = string | number;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every path into a JSON value, the root (`[]`) included, in a stable order. */
export function jsonPaths(value: unknown, prefix: JsonPathStep[] = []): JsonPathStep[][] {
  const paths: JsonPathStep[][] = [prefix];
  if (Array.isArray(value)) {
    value.forEach((item, index) => {
      paths.push(...jsonPaths(item, [...prefix, index]));
    });
  } else if (isRecord(value)) {
    for (const key of Object.keys(value)) paths.push(...jsonPaths(value[key], [...prefix, key]));
  }
  return paths;
}

function getAt(value: unknown, steps: readonly JsonPathStep[]): unknown {
  let current = value;
  for (const step of steps) {
    if (Array.isArray(current) && typeof step === 'number') current = current[step];
    else if (isRecord(current) && typeof step === 'string') current = current[step];
    else return undefined;
  }
  return current;
}

/** A copy of `value` with the node at `steps` replaced (`remove`: deleted from its parent). */
function setAt(
  value: unknown,
  steps: readonly JsonPathStep[],
  replacement: unknown,
  remove: boolean,
): unknown {
  const [head, ...rest] = steps;
  if (head === undefined) return remove ? undefined : replacement;
  if (Array.isArray(value) && typeof head === 'number') {
    const copy = [...value];
    if (rest.length === 0 && remove) copy.splice(head, 1);
    else copy[head] = setAt(copy[head], rest, replacement, remove);
    return copy;
  }
  if (isRecord(value) && typeof head === 'string') {
    const copy: Record<string, unknown> = { ...value };
    if (rest.length === 0 && remove) delete copy[head];
    else copy[head] = setAt(copy[head], rest, replacement, remove);
    return copy;
  }
  return value;
}

export type MutationKind =
  | 'drop'
  | 'replace'
  | 'retype'
  | 'null'
  | 'huge-string'
  | 'wrap-in-array'
  | 'unwrap'
  | 'add-junk-key'
  | 'duplicate-into-sibling';

export interface Mutation {
  kind: MutationKind;
  /** Which path (modulo the number of paths in the document at that point). */
  target: number;
  value: unknown;
  junkKey: string;
}

const HUGE = 'A'.repeat(40_000);

/** Another JSON type for the node: string <-> number, object <-> array, boolean <-> string. */
function retyped(node: unknown): unknown {
  if (typeof node === 'string')
    return node.length === 0 ? 0 : Number.isNaN(Number(node)) ? [node] : Number(node);
  if (typeof node === 'number') return String(node);
  if (typeof node === 'boolean') return String(node);
  if (Array.isArray(node)) return Object.fromEntries(node.map((item, index) => [String(index), item]));
  if (isRecord(node)) return Object.values(node);
  return {};
}

export function applyMutation(document: unknown, mutation: Mutation): unknown {
  const paths = jsonPaths(document);
  const steps = paths[mutation.target % paths.length] ?? [];
  const node = getAt(document, steps);
  switch (mutation.kind) {
    case 'drop':
      return setAt(document, steps, undefined, true);
    case 'replace':
      return setAt(document, steps, mutation.value, false);
    case 'retype':
      return setAt(document, steps, retyped(node), false);
    case 'null':
      return setAt(document, steps, null, false);
    case 'huge-string':
      return setAt(document, steps, typeof node === 'string' ? `${node}${HUGE}` : HUGE, false);
    case 'wrap-in-array':
      return setAt(document, steps, [node], false);
    case 'unwrap':
      return setAt(document, steps, Array.isArray(node) ? node[0] : node, false);
    case 'add-junk-key':
      return setAt(
        document,
        steps,
        isRecord(node) ? { ...node, [mutation.junkKey]: mutation.value } : { [mutation.junkKey]: node },
        false,
      );
    case 'duplicate-into-sibling': {
      const other = paths[(mutation.target * 7 + 3) % paths.length] ?? [];
      return setAt(document, steps, getAt(document, other), false);
    }
  }
}

/** Values a mutation puts in: nested JSON junk, hostile strings, and the odd well-formed-looking value. */
export const junkValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '',
      '*',
      'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      'arn:aws:kms:us-west-2:111122223333:key/../../etc',
      'arn:aws:iam::111122223333:role/kms-policy-guard-us-west-2',
      'alias/payments-data',
      'alias/does-not-exist',
      'arn:aws:iam::111122223333:root',
      'PutKeyPolicy',
      'CreateKey',
      'ReplicateKey',
      'AccessDenied',
      'aws.kms',
      'AWS API Call via CloudTrail',
      '__proto__',
      'constructor',
      '\u0000',
      '\ud800',
      '\u202e',
      '<!channel>',
    ),
  },
  { weight: 1, arbitrary: fc.constantFrom(Number.MAX_SAFE_INTEGER, -0, 1e308, -1, true, false) },
);

export const mutationArbitrary: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.constantFrom<MutationKind>(
    'drop',
    'replace',
    'retype',
    'null',
    'huge-string',
    'wrap-in-array',
    'unwrap',
    'add-junk-key',
    'duplicate-into-sibling',
  ),
  target: fc.nat({ max: 10_000 }),
  value: junkValue,
  junkKey: fc.oneof(
    fc.string({ maxLength: 12 }),
    fc.constantFrom('__proto__', 'constructor', 'errorCode', 'Statement', 'Principal', 'Condition'),
  ),
});

/** One of `seeds`, with 1 to `maxMutations` random mutations applied in order. */
export function mutatedDocument(seeds: readonly unknown[], maxMutations = 4): fc.Arbitrary<unknown> {
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(mutationArbitrary, { minLength: 1, maxLength: maxMutations }))
    .map(([seed, mutations]) => mutations.reduce<unknown>(applyMutation, seed));
}

export type TextEdit = { at: number; cut: number; insert: string };

/** Byte-level damage to a real document's text: cut, insert junk (incl. binary), truncate. */
export function mutatedText(seeds: readonly string[]): fc.Arbitrary<string> {
  const edit = fc.record({
    at: fc.nat(),
    cut: fc.nat({ max: 20 }),
    insert: fc.oneof(
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.constantFrom('{', '}', '[', ']', '"', ',', ':', '\\', '\\u', '\u0000', '\ufeff', 'null', '1e999'),
    ),
  });
  return fc
    .tuple(fc.constantFrom(...seeds), fc.array(edit, { minLength: 1, maxLength: 5 }))
    .map(([seed, edits]) =>
      edits.reduce((text, { at, cut, insert }) => {
        const position = text.length === 0 ? 0 : at % (text.length + 1);
        return `${text.slice(0, position)}${insert}${text.slice(position + cut)}`;
      }, seed),
    );
}

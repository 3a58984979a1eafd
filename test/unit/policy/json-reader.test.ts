import fc from 'fast-check';
import { childPath } from '../../../src/policy/json/path';
import { describeJsonSyntaxError, readJsonText } from '../../../src/policy/json/reader';
import { inspectJsonValue } from '../../../src/policy/json/value';

/** Every string of a JSON value (names included) with the path the reader should give it. */
function stringsWithPaths(value: unknown, path = '$'): string[] {
  if (typeof value === 'string') return [`${path} ${value}`];
  if (Array.isArray(value))
    return value.flatMap((item, index) => stringsWithPaths(item, childPath(path, index)));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => [
      `${childPath(path, key)} ${key}`,
      ...stringsWithPaths(item, childPath(path, key)),
    ]);
  }
  return [];
}

describe('childPath: the one JSON-path syntax', () => {
  it.each([
    ['$', 'Statement', '$.Statement'],
    ['$.Statement', 0, '$.Statement[0]'],
    ['$.Condition.StringEquals', 'kms:ViaService', '$.Condition.StringEquals.kms:ViaService'],
    ['$.Condition', 'ForAnyValue:StringEquals', '$.Condition.ForAnyValue:StringEquals'],
    ['$', 'a.b', "$['a.b']"],
    ['$', 'x[0]', "$['x[0]']"],
    ['$', "Bob's", "$['Bob\\'s']"],
    ['$', 'two words', "$['two words']"],
    ['$', '', "$['']"],
    ['$', 'back\\slash', '$.back\\slash'],
    ['$', "back\\slash'", "$['back\\\\slash\\'']"],
  ])('%s + %j -> %s', (parent, key, expected) => {
    expect(childPath(parent, key)).toBe(expected);
  });
});

describe('readJsonText', () => {
  it.each([
    ['a value missing before }', '{\n  "Statement": [\n    }\n', "expected a value, found '}'", 3, 5],
    ['an empty text', '', 'expected a value, found end of input', 1, 1],
    [
      'a trailing comma',
      '{"Version": "2012-10-17",}',
      "expected a property name in double quotes, found '}'",
      1,
      26,
    ],
    [
      'a single-quoted name',
      "{\n\n   'Version': 1}",
      'expected a property name in double quotes, found "\'"',
      3,
      4,
    ],
    ['a missing colon', '{"a" 1}', "expected ':' after a property name, found '1'", 1, 6],
    ['a missing comma', '{"a":1 "b":2}', "expected ',' or '}' after a property value, found '\"'", 1, 8],
    ['an unclosed array', '[1', "expected ',' or ']' after an array element, found end of input", 1, 3],
    ['text after the value', '{} x', "unexpected 'x' after the end of the JSON value", 1, 4],
    ['a Python literal', '{"a": True}', "expected a value, found 'True'", 1, 7],
    ['a minus without digits', '-x', "expected a digit after '-', found 'x'", 1, 2],
    ['a leading zero', '[01]', "expected ',' or ']' after an array element, found '1'", 1, 3],
    ['an unterminated string (placed at its opening quote)', '{\n "Sid": "abc', 'unterminated string', 2, 9],
    ['a raw line feed in a string', '"a\nb"', 'unescaped control character U+000A in a string', 1, 3],
    ['an unknown escape', '"\\q"', 'invalid escape sequence in a string', 1, 2],
    ['a short \\u escape', '"\\u12"', 'invalid \\u escape in a string (\\u takes four hex digits)', 1, 2],
    ['a byte order mark', '\ufeff{}', 'expected a value, found U+FEFF', 1, 1],
    ['too deep a nesting', `${'['.repeat(600)}${']'.repeat(600)}`, 'nesting deeper than 512 levels', 1, 514],
  ])('says where and why for %s', (_case, text, reason, line, column) => {
    // Act
    const error = describeJsonSyntaxError(text);
    // Assess
    expect(error).toMatchObject({
      reason,
      line,
      column,
      message: `${reason} at line ${line} column ${column}`,
    });
  });

  it('records every duplicate name with its member path', () => {
    const read = readJsonText('{"Statement":[{"Effect":"Allow","Effect":"Deny"}],"Statement":[]}');
    expect(read.duplicates.map(({ path, key }) => [path, key])).toEqual([
      ['$.Statement[0].Effect', 'Effect'],
      ['$.Statement', 'Statement'],
    ]);
  });

  it('reads a name __proto__ as data, as JSON.parse does', () => {
    const read = readJsonText('{"__proto__":{"Statement":[]}}');
    expect(read.value).toEqual(JSON.parse('{"__proto__":{"Statement":[]}}'));
    expect(Object.keys(read.value as object)).toEqual(['__proto__']);
  });

  it('agrees with JSON.parse on what is JSON and on the value', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 40 }),
          fc.json({ maxDepth: 4 }),
          fc.jsonValue({ maxDepth: 4 }).map((value) => JSON.stringify(value, null, 2)),
          fc
            .tuple(fc.json({ maxDepth: 3 }), fc.nat(), fc.string({ maxLength: 2 }))
            .map(([text, at, insert]) => text.slice(0, at % (text.length + 1)) + insert + text.slice(at)),
        ),
        (text) => {
          let expected: { value: unknown } | undefined;
          try {
            expected = { value: JSON.parse(text) };
          } catch {
            expected = undefined;
          }
          const read = readJsonText(text);
          if (expected) {
            expect(read.error).toBeUndefined();
            expect(read.value).toEqual(expected.value);
          } else {
            expect(read.error?.message).toMatch(/ at line \d+ column \d+$/);
          }
        },
      ),
    );
  });

  it('gives every string token the path of what it names', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const text = JSON.stringify(value);
        const read = readJsonText(text);
        const spans = read.strings.map(
          (span) => `${span.path} ${JSON.parse(text.slice(span.start, span.end))}`,
        );
        expect(spans.sort()).toEqual(stringsWithPaths(JSON.parse(text)).sort());
      }),
    );
  });
});

describe('inspectJsonValue', () => {
  it.each([
    ['undefined', { Sid: undefined }, '$.Sid', 'A value of type undefined has no JSON form'],
    ['NaN', { Id: Number.NaN }, '$.Id', 'NaN has no JSON form'],
    ['a function', [() => 1], '$[0]', 'A value of type function has no JSON form'],
    [
      'a Date',
      { Id: new Date(0) },
      '$.Id',
      'A class instance (not a plain object or array) is not a JSON value',
    ],
  ])('names %s with its path', (_case, value, path, message) => {
    expect(inspectJsonValue(value).faults).toEqual([{ path, message }]);
  });

  it('finds a cycle where it closes', () => {
    const document: Record<string, unknown> = { Statement: [] };
    (document.Statement as unknown[]).push(document);
    expect(inspectJsonValue(document).faults).toEqual([
      { path: '$.Statement[0]', message: 'The value refers to itself (a cycle); JSON cannot hold it' },
    ]);
  });

  it('lists names and string values with their paths, as the text reader does', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        const fromValue = inspectJsonValue(value).strings.map((string) => `${string.path} ${string.text}`);
        const text = JSON.stringify(value);
        const read = readJsonText(text);
        const fromText = read.strings.map(
          (span) => `${span.path} ${JSON.parse(text.slice(span.start, span.end))}`,
        );
        expect(fromValue.sort()).toEqual(fromText.sort());
      }),
    );
  });
});

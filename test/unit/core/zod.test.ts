/**
 * src/ declares its schemas with zod's tree-shakable API (src/core/zod.ts): the messages a user reads (a bad
 * manifest, a malformed environment or event) must be the English ones of zod's classic API, which `zod/mini`
 * alone does not set (it says "Invalid input" for everything). This file does not load the classic API, which
 * would set them for the whole process: the messages are written out (zod 4's, as its classic API gives them).
 */
import * as z from '../../../src/core/zod';

function messagesOf(result: { error?: { issues: { message: string }[] } }): string[] {
  return (result.error?.issues ?? []).map((issue) => issue.message);
}

describe('src/core/zod.ts', () => {
  it.each([
    ['a number where a string is expected', z.string(), 5, 'Invalid input: expected string, received number'],
    [
      'a missing required key',
      z.object({ a: z.string() }),
      {},
      'Invalid input: expected string, received undefined',
    ],
    [
      'a string too short',
      z.string().check(z.minLength(3)),
      'ab',
      'Too small: expected string to have >=3 characters',
    ],
    [
      'a string too long',
      z.string().check(z.maxLength(2)),
      'abc',
      'Too big: expected string to have <=2 characters',
    ],
    ['a value outside an enum', z.enum(['a', 'b']), 'c', 'Invalid option: expected one of "a"|"b"'],
    ['a number below a minimum', z.int().check(z.gte(1)), 0, 'Too small: expected number to be >=1'],
    ['a fraction where an integer is expected', z.int(), 1.5, 'Invalid input: expected int, received number'],
    ['an unknown key in a strict object', z.strictObject({}), { x: 1 }, 'Unrecognized key: "x"'],
    [
      'a string not matching a pattern',
      z.string().check(z.regex(/^\d+$/)),
      'x',
      'Invalid string: must match pattern /^\\d+$/',
    ],
  ])('gives the English message for %s', (_case, schema, input, message) => {
    // Act
    const messages = messagesOf(schema.safeParse(input));

    // Assess
    expect(messages).toEqual([message]);
  });
});

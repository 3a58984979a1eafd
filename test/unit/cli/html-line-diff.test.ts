/**
 * The HTML report's side-by-side view: documents pretty-printed the same way, aligned by a longest
 * common subsequence of lines, unchanged runs folded away from the changes.
 */
import fc from 'fast-check';
import {
  diffLines,
  foldUnchanged,
  prettyLines,
  type SideBySideRow,
  sideBySide,
} from '../../../src/cli/report/html/line-diff';

const texts = (rows: readonly SideBySideRow[], side: 'left' | 'right') =>
  rows.map((row) => row[side]?.text ?? null);

/** Reference: the length of a longest common subsequence, by the textbook recurrence. */
function lcsLength(left: readonly string[], right: readonly string[]): number {
  let previous = new Array<number>(right.length + 1).fill(0);
  for (const line of left) {
    const current = [0];
    right.forEach((other, index) => {
      current.push(
        line === other ? (previous[index] ?? 0) + 1 : Math.max(previous[index + 1] ?? 0, current[index] ?? 0),
      );
    });
    previous = current;
  }
  return previous[right.length] ?? 0;
}

describe('prettyLines', () => {
  it('prints compact and indented JSON the same way, keeping the elements in the order written', () => {
    // Act
    const compact = prettyLines('{"Version":"2012-10-17","Statement":[{"Sid":"b","Effect":"Allow"}]}');
    const indented = prettyLines(
      '{\n    "Version": "2012-10-17",\n "Statement": [ { "Sid": "b", "Effect": "Allow" } ]\n}',
    );

    // Assess
    expect(compact).toEqual(indented);
    expect(compact).toEqual([
      '{',
      '  "Version": "2012-10-17",',
      '  "Statement": [',
      '    {',
      '      "Sid": "b",',
      '      "Effect": "Allow"',
      '    }',
      '  ]',
      '}',
    ]);
  });

  it('shows text that is not JSON line by line as written, and no text as no lines', () => {
    // Act & Assess
    expect(prettyLines('not json\r\n{')).toEqual(['not json', '{']);
    expect(prettyLines('')).toEqual([]);
  });
});

describe('sideBySide', () => {
  it('puts a replaced line next to the line it replaced, and equal lines next to each other', () => {
    // Act
    const rows = sideBySide(['a', 'b', 'c'], ['a', 'B', 'c']);

    // Assess
    expect(rows.map((row) => row.kind)).toEqual(['same', 'changed', 'same']);
    expect(rows[1]).toEqual({
      kind: 'changed',
      left: { number: 2, text: 'b' },
      right: { number: 2, text: 'B' },
    });
  });

  it('faces added and removed lines with an empty side, numbering each side on its own', () => {
    // Act
    const rows = sideBySide(['a', 'x', 'y', 'b'], ['a', 'b', 'c']);

    // Assess
    expect(rows.map((row) => row.kind)).toEqual(['same', 'removed', 'removed', 'same', 'added']);
    expect(texts(rows, 'left')).toEqual(['a', 'x', 'y', 'b', null]);
    expect(texts(rows, 'right')).toEqual(['a', null, null, 'b', 'c']);
    expect(rows[3]).toEqual({
      kind: 'same',
      left: { number: 4, text: 'b' },
      right: { number: 2, text: 'b' },
    });
  });

  it('aligns on the longest common subsequence, not only the common prefix and suffix', () => {
    // Act
    const rows = sideBySide(['1', 'x', '2', '3', 'y', '4'], ['1', '2', 'z', '3', '4']);

    // Assess
    expect(rows.filter((row) => row.kind === 'same').map((row) => row.left?.text)).toEqual([
      '1',
      '2',
      '3',
      '4',
    ]);
  });

  it('keeps every line of both documents in order, and as many equal lines side by side as possible (property)', () => {
    const lines = fc.array(fc.constantFrom('{', '}', '"a": 1,', '"b": 2', '[', ']', ''), { maxLength: 30 });
    fc.assert(
      fc.property(lines, lines, (left, right) => {
        const rows = sideBySide(left, right);
        expect(texts(rows, 'left').filter((text) => text !== null)).toEqual(left);
        expect(texts(rows, 'right').filter((text) => text !== null)).toEqual(right);
        for (const row of rows) if (row.kind === 'same') expect(row.left?.text).toBe(row.right?.text);
        expect(diffLines(left, right).filter((op) => op.kind === 'same')).toHaveLength(
          lcsLength(left, right),
        );
      }),
    );
  });
});

describe('foldUnchanged', () => {
  it('folds unchanged runs away from changes and keeps three lines of context around each change', () => {
    // Prepare
    const left = Array.from({ length: 30 }, (_, index) => `line ${index + 1}`);
    const right = left.map((line) => (line === 'line 15' ? 'line fifteen' : line));

    // Act
    const segments = foldUnchanged(sideBySide(left, right));

    // Assess
    expect(segments.map((segment) => [segment.folded, segment.rows.length])).toEqual([
      [true, 11],
      [false, 7],
      [true, 12],
    ]);
    expect(segments[1]?.rows[3]?.kind).toBe('changed');
  });

  it('shows short unchanged runs rather than folding a few lines', () => {
    // Act
    const segments = foldUnchanged(sideBySide(['a', 'b', 'c', 'd', 'e'], ['a', 'b', 'C', 'd', 'e']));

    // Assess
    expect(segments).toEqual([{ folded: false, rows: expect.any(Array) }]);
    expect(segments[0]?.rows).toHaveLength(5);
  });
});

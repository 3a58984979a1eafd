/**
 * The side-by-side view of a drifted key: both documents pretty-printed the same way, then aligned
 * line by line with a longest-common-subsequence diff, so an auditor sees the text that changed next
 * to the text it replaced. (The repository's own comparison is semantic, src/policy/compare.ts; this
 * is only its textual companion for reading.)
 */

/** One line of one side: its 1-based number in the pretty-printed document and its text. */
export interface SideLine {
  number: number;
  text: string;
}

/** A row of the side-by-side view; a side is absent where the other one has an added line. */
export interface SideBySideRow {
  kind: 'same' | 'changed' | 'removed' | 'added';
  left?: SideLine;
  right?: SideLine;
}

type Op =
  | { kind: 'same'; left: number; right: number }
  | { kind: 'removed'; left: number }
  | { kind: 'added'; right: number };

/** Above this many cells the middle part is shown as removed-then-added instead of aligned. */
const MAX_TABLE_CELLS = 4_000_000;

/**
 * The document as people read it: parsed and printed with two-space indents, elements in the order
 * they were written (JSON.parse keeps it, except that integer-like keys come first, as in every
 * JavaScript object). Text that is not JSON is shown as written; no text is no lines.
 */
export function prettyLines(text: string): string[] {
  if (text === '') return [];
  try {
    return JSON.stringify(JSON.parse(text), null, 2).split('\n');
  } catch {
    return text.split(/\r?\n/);
  }
}

/** The edit script from `left` to `right`: a longest common subsequence, common prefix and suffix first. */
export function diffLines(left: readonly string[], right: readonly string[]): Op[] {
  let start = 0;
  while (start < left.length && start < right.length && left[start] === right[start]) start += 1;
  let leftEnd = left.length;
  let rightEnd = right.length;
  while (leftEnd > start && rightEnd > start && left[leftEnd - 1] === right[rightEnd - 1]) {
    leftEnd -= 1;
    rightEnd -= 1;
  }
  const ops: Op[] = [];
  for (let index = 0; index < start; index += 1) ops.push({ kind: 'same', left: index, right: index });
  ops.push(...middle(left, right, start, leftEnd, rightEnd));
  for (let offset = 0; offset < left.length - leftEnd; offset += 1) {
    ops.push({ kind: 'same', left: leftEnd + offset, right: rightEnd + offset });
  }
  return ops;
}

/** LCS by dynamic programming over left[start..leftEnd) and right[start..rightEnd). */
function middle(
  left: readonly string[],
  right: readonly string[],
  start: number,
  leftEnd: number,
  rightEnd: number,
): Op[] {
  const rows = leftEnd - start;
  const columns = rightEnd - start;
  const ops: Op[] = [];
  if (rows === 0 || columns === 0 || rows * columns > MAX_TABLE_CELLS) {
    for (let index = start; index < leftEnd; index += 1) ops.push({ kind: 'removed', left: index });
    for (let index = start; index < rightEnd; index += 1) ops.push({ kind: 'added', right: index });
    return ops;
  }
  // lengths[i * (columns + 1) + j]: LCS length of left[start+i..] and right[start+j..].
  const width = columns + 1;
  const lengths = new Uint32Array((rows + 1) * width);
  for (let i = rows - 1; i >= 0; i -= 1) {
    for (let j = columns - 1; j >= 0; j -= 1) {
      lengths[i * width + j] =
        left[start + i] === right[start + j]
          ? (lengths[(i + 1) * width + j + 1] ?? 0) + 1
          : Math.max(lengths[(i + 1) * width + j] ?? 0, lengths[i * width + j + 1] ?? 0);
    }
  }
  let i = 0;
  let j = 0;
  while (i < rows && j < columns) {
    if (left[start + i] === right[start + j]) {
      ops.push({ kind: 'same', left: start + i, right: start + j });
      i += 1;
      j += 1;
    } else if ((lengths[(i + 1) * width + j] ?? 0) >= (lengths[i * width + j + 1] ?? 0)) {
      ops.push({ kind: 'removed', left: start + i });
      i += 1;
    } else {
      ops.push({ kind: 'added', right: start + j });
      j += 1;
    }
  }
  for (; i < rows; i += 1) ops.push({ kind: 'removed', left: start + i });
  for (; j < columns; j += 1) ops.push({ kind: 'added', right: start + j });
  return ops;
}

/**
 * Rows for a two-column view: equal lines side by side; within a run of removed and added lines, the
 * n-th removed line faces the n-th added one ("changed"), and the longer side's rest faces nothing.
 */
export function sideBySide(left: readonly string[], right: readonly string[]): SideBySideRow[] {
  const ops = diffLines(left, right);
  const rows: SideBySideRow[] = [];
  const line = (lines: readonly string[], index: number): SideLine => ({
    number: index + 1,
    text: lines[index] ?? '',
  });
  let removed: number[] = [];
  let added: number[] = [];
  const flush = () => {
    for (let index = 0; index < Math.max(removed.length, added.length); index += 1) {
      const leftIndex = removed[index];
      const rightIndex = added[index];
      const row: SideBySideRow = {
        kind: leftIndex === undefined ? 'added' : rightIndex === undefined ? 'removed' : 'changed',
      };
      if (leftIndex !== undefined) row.left = line(left, leftIndex);
      if (rightIndex !== undefined) row.right = line(right, rightIndex);
      rows.push(row);
    }
    removed = [];
    added = [];
  };
  for (const op of ops) {
    if (op.kind === 'removed') removed.push(op.left);
    else if (op.kind === 'added') added.push(op.right);
    else {
      flush();
      rows.push({ kind: 'same', left: line(left, op.left), right: line(right, op.right) });
    }
  }
  flush();
  return rows;
}

/** A stretch of the side-by-side view: shown, or folded away as unchanged lines a reader can open. */
export interface DiffSegment {
  folded: boolean;
  rows: SideBySideRow[];
}

/** Unchanged lines kept visible next to each change. */
export const CONTEXT_LINES = 3;
/** Fewer unchanged lines than this between two contexts are shown rather than folded. */
const MIN_FOLDED = 4;

/** Splits the rows so that unchanged runs away from any change are folded (context kept around changes). */
export function foldUnchanged(rows: readonly SideBySideRow[], context = CONTEXT_LINES): DiffSegment[] {
  const segments: DiffSegment[] = [];
  const show = (part: SideBySideRow[]) => {
    if (part.length === 0) return;
    const last = segments[segments.length - 1];
    if (last && !last.folded) last.rows.push(...part);
    else segments.push({ folded: false, rows: part });
  };
  let start = 0;
  while (start < rows.length) {
    let end = start;
    const same = rows[start]?.kind === 'same';
    while (end < rows.length && (rows[end]?.kind === 'same') === same) end += 1;
    const run = rows.slice(start, end);
    if (!same) {
      show(run);
    } else {
      const keepBefore = start > 0 ? context : 0;
      const keepAfter = end < rows.length ? context : 0;
      if (run.length - keepBefore - keepAfter < MIN_FOLDED) {
        show(run);
      } else {
        show(run.slice(0, keepBefore));
        segments.push({ folded: true, rows: run.slice(keepBefore, run.length - keepAfter) });
        show(run.slice(run.length - keepAfter));
      }
    }
    start = end;
  }
  return segments;
}

/** The right-aligned text table the benchmarks print (bench/run.ts loads only `*.bench.ts`, not this). */

/** Prints `header` and `rows` as right-aligned columns separated by ` | `, under a dashed rule. */
export function printAlignedTable(header: string[], rows: string[][]): void {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells.map((cell, column) => cell.padStart(widths[column] ?? 0)).join(' | ');
  console.log(line(header));
  console.log(widths.map((width) => '-'.repeat(width)).join('-|-'));
  for (const row of rows) console.log(line(row));
}

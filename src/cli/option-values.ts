/**
 * Options that take several values (docs/cli.md#usage): repeatable, each occurrence also split at
 * commas (`--admin A --admin B` = `--admin A,B`). Never variadic (`<arn...>`): commander's variadic
 * options swallow the positional arguments after them (`validate --admin ARN file.json`).
 */

/** Commander's option argument parser for a repeatable, comma-separated option. */
export function collectValues(value: string, previous: readonly string[] | undefined): string[] {
  const added = value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  return [...(previous ?? []), ...added];
}

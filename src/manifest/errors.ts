/**
 * The one error the manifest module throws. `problems` lists every problem found (a manifest is
 * checked as a whole, so a person fixes all of them in one go); the message contains them too.
 */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  /** One line per problem: `<file>: <where>: <what>`. */
  readonly problems: readonly string[];

  constructor(message: string, options: { problems?: readonly string[]; cause?: unknown } = {}) {
    const problems = options.problems ?? [];
    const text = problems.length > 0 ? `${message}\n${problems.map((p) => `  - ${p}`).join('\n')}` : message;
    super(text, options.cause === undefined ? undefined : { cause: options.cause });
    this.problems = problems;
  }
}

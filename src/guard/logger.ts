/**
 * The logging the use cases need. Powertools' Logger satisfies it; tests pass a recording fake.
 * Every line is structured: a short event name as message, details as attributes.
 */
export type LogAttributes = Record<string, unknown>;

export interface GuardLogger {
  debug(message: string, ...attributes: LogAttributes[]): void;
  info(message: string, ...attributes: LogAttributes[]): void;
  warn(message: string, ...attributes: LogAttributes[]): void;
  error(message: string, ...attributes: LogAttributes[]): void;
}

/**
 * Reads back the embedded-metric-format lines Powertools Metrics writes to stdout, as CloudWatch Logs
 * would extract them.
 */

export interface EmfLine {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [field: string]: unknown;
}

function capture(written: string[]): jest.SpyInstance {
  return jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
}

function parse(written: readonly string[]): EmfLine[] {
  return written
    .flatMap((text) => text.split('\n'))
    .filter((line) => line.includes('"_aws"'))
    .map((line) => JSON.parse(line) as EmfLine);
}

/** Every EMF line written to stdout while `act` runs. */
export function emfLines(act: () => void): EmfLine[] {
  const written: string[] = [];
  const spy = capture(written);
  try {
    act();
  } finally {
    spy.mockRestore();
  }
  return parse(written);
}

/** Every EMF line written to stdout while `act` runs, and how `act` ended (resolved or rejected). */
export async function emfLinesOf<T>(
  act: () => Promise<T>,
): Promise<{ lines: EmfLine[]; outcome: PromiseSettledResult<T> }> {
  const written: string[] = [];
  const spy = capture(written);
  let outcome: PromiseSettledResult<T>;
  try {
    outcome = { status: 'fulfilled', value: await act() };
  } catch (reason) {
    outcome = { status: 'rejected', reason };
  } finally {
    spy.mockRestore();
  }
  return { lines: parse(written), outcome };
}

export function metricNames(line: EmfLine): string[] {
  return line._aws.CloudWatchMetrics.flatMap((set) => set.Metrics.map((metric) => metric.Name));
}

/**
 * The EventBridge pattern of the drift rule: every successful KMS call that moves access to a key or its
 * protection (KMS_EVENT_NAMES in src/guard/event.ts), as CloudTrail reports it. serverless.yml and
 * deploy/spoke.yml repeat it (YAML cannot import TypeScript); the template tests prove both equal this
 * constant, and the moto harness routes events with it.
 * `errorCode: [{exists: false}]` drops failed calls (AccessDenied, MalformedPolicyDocument): nothing changed.
 */
import { KMS_EVENT_NAMES } from './event-names';

export const KMS_POLICY_CHANGE_EVENT_PATTERN = {
  source: ['aws.kms'],
  'detail-type': ['AWS API Call via CloudTrail'],
  detail: {
    eventSource: ['kms.amazonaws.com'],
    eventName: [...KMS_EVENT_NAMES],
    errorCode: [{ exists: false }],
  },
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A canonical text of a JSON value: object keys sorted, arrays as sorted sets, so order never matters. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${[...new Set(value.map(canonical))].sort().join(',')}]`;
  if (isRecord(value)) {
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical(value[key])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function differences(expected: unknown, actual: unknown, path: string, out: string[]): void {
  if (canonical(expected) === canonical(actual)) return;
  if (isRecord(expected) && isRecord(actual)) {
    for (const key of Object.keys(expected).sort()) {
      const at = path === '' ? key : `${path}.${key}`;
      if (!(key in actual)) out.push(`${at} is missing`);
      else differences(expected[key], actual[key], at, out);
    }
    for (const key of Object.keys(actual).sort()) {
      if (!(key in expected))
        out.push(`${path === '' ? key : `${path}.${key}`} is extra: ${describe(actual[key])}`);
    }
    return;
  }
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const have = new Map(actual.map((item) => [canonical(item), item]));
    const want = new Map(expected.map((item) => [canonical(item), item]));
    const lacks = [...want].filter(([key]) => !have.has(key)).map(([, item]) => describe(item));
    const extra = [...have].filter(([key]) => !want.has(key)).map(([, item]) => describe(item));
    if (lacks.length > 0) out.push(`${path} lacks ${lacks.join(', ')}`);
    if (extra.length > 0) out.push(`${path} also has ${extra.join(', ')}`);
    return;
  }
  out.push(`${path === '' ? 'the pattern' : path} is ${describe(actual)} instead of ${describe(expected)}`);
}

/**
 * How a rule's live event pattern (the JSON text DescribeRule returns) differs from
 * KMS_POLICY_CHANGE_EVENT_PATTERN, compared semantically: key order and the order (and repetition) of
 * values in a list do not matter. Empty when they are equal; one line per difference otherwise.
 */
export function eventPatternDifferences(
  livePattern: string | undefined,
  expected: unknown = KMS_POLICY_CHANGE_EVENT_PATTERN,
): string[] {
  if (livePattern === undefined || livePattern.trim() === '') return ['the rule has no event pattern'];
  let live: unknown;
  try {
    live = JSON.parse(livePattern);
  } catch {
    return ['the event pattern is not JSON'];
  }
  const out: string[] = [];
  differences(expected, live, '', out);
  return out;
}

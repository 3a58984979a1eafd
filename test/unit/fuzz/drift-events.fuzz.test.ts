/**
 * Fuzzing the drift Lambda with malformed EventBridge events: the real events of test/events mutated
 * at random paths (dropped, retyped, nulled, 40 KB strings, nested junk), plus arbitrary JSON and
 * strings. The handler is built with createDriftHandler over in-memory fakes (no network).
 *
 * Property: every input either returns a summary (a rejection always names its reason) or throws one
 * of the guard's typed errors (src/guard/errors.ts) — never a TypeError or an unclassified failure.
 */

import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import fc from 'fast-check';
import { createDriftHandler, type DriftSummary } from '../../../src/app/drift-handler';
import { buildGuard } from '../../../src/app/guard-deps';
import type { Finding } from '../../../src/core/finding';
import type { GuardMode } from '../../../src/core/key';
import { GuardError } from '../../../src/guard/errors';
import type { KMS_EVENT_NAMES } from '../../../src/guard/event';
import { InMemoryRemediationLedger } from '../../../src/guard/memory-ledger';

import { loadManifest, placeholderValuesFromArn, renderDesiredPolicy } from '../../../src/manifest';
import type { LoadedManifest } from '../../../src/manifest/types';
import { InMemoryKms } from '../support/in-memory-kms';
import { FUZZ_RUNS, loadJsonFiles, mutatedDocument, REPO_ROOT } from './mutate';

const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
const OTHER_KEY_ID = '0987dcba-09ba-76dc-65fe-0987654321ba';
const KEY_ARN = `arn:aws:kms:us-west-2:111122223333:key/${KEY_ID}`;
const MANIFEST = loadManifest(path.join(REPO_ROOT, 'test/unit/guard/fixtures/manifest.yaml'));
const EVENTS = loadJsonFiles('test/events').map((entry) => entry.value);

const CONTEXT: Context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: 'kms-policy-guard-fuzz-drift',
  functionVersion: '$LATEST',
  invokedFunctionArn: 'arn:aws:lambda:us-west-2:111122223333:function:kms-policy-guard-fuzz-drift',
  memoryLimitInMB: '256',
  awsRequestId: 'fuzz',
  logGroupName: '/aws/lambda/kms-policy-guard-fuzz-drift',
  logStreamName: 'fuzz',
  getRemainingTimeInMillis: () => 30_000,
  done: () => undefined,
  fail: () => undefined,
  succeed: () => undefined,
};

type LiveKind = 'desired' | 'drifted' | 'not-json';

function desiredFor(manifest: LoadedManifest): string {
  const entry = manifest.keys[0];
  if (!entry) throw new Error('fixture manifest has no keys');
  return renderDesiredPolicy(entry, placeholderValuesFromArn(KEY_ARN));
}

/** KMS as a map: the one known key answers; any other key is NotFound, as the real adapter reports it. */
/** The fixture's one key, live as `live` says: the desired document, a widened one, or text that is not JSON. */
function fakeKms(live: LiveKind, desired: string): InMemoryKms {
  const drifted = JSON.parse(desired) as { Statement: unknown[] };
  drifted.Statement.push({
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::999988887777:root' },
    Action: 'kms:Decrypt',
    Resource: '*',
  });
  const policy =
    live === 'desired' ? desired : live === 'drifted' ? JSON.stringify(drifted) : '{"Statement": [';
  // A second key no entry manages (the target of update-alias.json), with a clean policy of its own.
  const unmanaged = desired.replaceAll(KEY_ID, OTHER_KEY_ID);
  return new InMemoryKms(
    placeholderValuesFromArn(KEY_ARN),
    new Map([
      [KEY_ID, { policy }],
      [OTHER_KEY_ID, { policy: unmanaged }],
    ]),
    new Map([['alias/payments-data', KEY_ID]]),
  );
}

const STATUSES: ReadonlySet<DriftSummary['status']> = new Set([
  'in-sync',
  'ignored',
  'deferred',
  'published',
  'rejected',
  'other-region',
  'not-served',
  'aws-managed',
]);
const REJECTION_REASONS: ReadonlySet<string> = new Set([
  'malformed-envelope',
  'wrong-source',
  'wrong-detail-type',
  'malformed-detail',
  'unsupported-event-name',
  'api-call-failed',
  'missing-key',
]);

const logger = new Logger({ serviceName: 'kms-policy-guard-fuzz', logLevel: 'SILENT' });

async function invoke(
  event: unknown,
  mode: GuardMode,
  live: LiveKind,
  intended = true,
): Promise<{ summary?: DriftSummary; error?: unknown; published: Finding[] }> {
  const manifest: LoadedManifest = { ...MANIFEST, keys: MANIFEST.keys.map((key) => ({ ...key, mode })) };
  const published: Finding[] = [];
  const { deps } = buildGuard({
    manifest,
    aws: { region: 'us-west-2' },
    logger,
    repoRoot: REPO_ROOT,
    store: fakeKms(live, desiredFor(manifest)),
    publisher: () => ({
      publish: async (finding) => {
        published.push(finding);
      },
    }),
    ledger: new InMemoryRemediationLedger(manifest.flapping),
    clock: { now: () => new Date('2026-03-02T10:00:00.000Z'), sleep: async () => undefined },
    stabilization: { attempts: 3, delayMs: 0, requiredStableReads: 1 },
  });
  // Whether the guard intended the write its role made is drawn by the property (not derived from the event,
  // whose eventID is rarely mutated), so both its own confirmed or deferred writes and impersonations are
  // reached often: a run that never reaches guard-impersonated is a failed coverage check, not bad luck.
  const detail = (event as { detail?: { requestParameters?: { policy?: unknown } } } | null)?.detail;
  const written = detail?.requestParameters?.policy;
  if (intended && typeof written === 'string') {
    await deps.ledger.append(KEY_ARN, 'the overwritten document', new Date('2026-03-02T10:00:00.000Z'), {
      desiredPolicy: written,
    });
  }
  const handler = createDriftHandler({ ...deps, logger, region: 'us-west-2' }, { timeoutEarlyInMillis: 0 });
  try {
    return { summary: await handler(event, CONTEXT), published };
  } catch (error) {
    return { error, published };
  }
}

/** What the property demands of one invocation (returns a reason when it fails, for a readable report). */
function violation(outcome: Awaited<ReturnType<typeof invoke>>): string | undefined {
  if (outcome.error !== undefined) {
    if (outcome.error instanceof GuardError) return undefined;
    const error = outcome.error;
    return `unclassified throw: ${error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error)}`;
  }
  const summary = outcome.summary;
  if (summary === undefined) return 'no summary';
  if (!STATUSES.has(summary.status)) return `unknown status ${String(summary.status)}`;
  if (summary.status === 'rejected' && !REJECTION_REASONS.has(String(summary.reason))) {
    return `rejection without a known reason: ${String(summary.reason)}`;
  }
  const reported = (summary.keys ?? []).flatMap((key) => key.findings.map((finding) => finding.id));
  if (summary.status === 'published') {
    if (!summary.finding || outcome.published.length === 0) return 'published without a finding';
    if (reported.join('\n') !== outcome.published.map((finding) => finding.id).join('\n')) {
      return 'the summary does not list exactly the findings published';
    }
    if (outcome.published.some((finding) => finding.title.trim() === '')) return 'finding without a title';
  }
  if (summary.status !== 'published' && outcome.published.length > 0) return 'published but not reported';
  return undefined;
}

const eventArbitrary: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: mutatedDocument(EVENTS, 4) },
  // A mutation deep in `detail` only: the envelope stays valid, so the detail parser and key lookup run.
  {
    weight: 12,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...EVENTS),
        mutatedDocument(
          EVENTS.map((event) => Reflect.get(Object(event), 'detail')),
          3,
        ),
      )
      .map(([event, detail]) => ({ ...Object(event), detail })),
  },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, 0, [], {}, '', true) },
);

describe('drift handler under malformed EventBridge events (fuzz)', () => {
  it('seeds include every real event kind, so mutations start from valid input', () => {
    // Prepare
    const names = new Set(
      EVENTS.map((event) => Reflect.get(Object(Reflect.get(Object(event), 'detail')), 'eventName')),
    );
    const wanted: (typeof KMS_EVENT_NAMES)[number][] = ['PutKeyPolicy', 'CreateKey', 'ReplicateKey'];
    // Assess
    for (const name of wanted) expect(names).toContain(name);
    expect(EVENTS.length).toBeGreaterThanOrEqual(10);
  });

  it(`returns a classified summary or throws a typed guard error for ${FUZZ_RUNS.driftHandlerEvents} mutated events`, async () => {
    const reached = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(
        eventArbitrary,
        fc.constantFrom<GuardMode>('alert', 'remediate', 'dry-run'),
        fc.constantFrom<LiveKind>('desired', 'drifted', 'not-json'),
        fc.boolean(),
        async (event, mode, live, intended) => {
          // Act
          const outcome = await invoke(event, mode, live, intended);
          const label =
            outcome.error !== undefined
              ? `threw ${Reflect.get(Object(outcome.error), 'name')}`
              : `${outcome.summary?.status}${outcome.summary?.reason ? ` ${outcome.summary.reason}` : ''}${outcome.summary?.finding ? ` ${outcome.summary.finding.kind}` : ''}`;
          reached.set(label, (reached.get(label) ?? 0) + 1);
          // Assess
          const problem = violation(outcome);
          if (problem !== undefined) throw new Error(problem);
        },
      ),
      { numRuns: FUZZ_RUNS.driftHandlerEvents },
    );
    // The generators reach past the schema: events are rejected for many reasons, and many reach checkKey.
    const labels = [...reached.keys()].join('\n');
    for (const expected of [
      /^rejected malformed-envelope$/m,
      /^rejected malformed-detail$/m,
      /^rejected missing-key$/m,
      /^rejected api-call-failed$/m,
      /^rejected unsupported-event-name$/m,
      /^in-sync$/m,
      /^deferred$/m,
      /^published drift$/m,
      /^published remediated$/m,
      /^published would-remediate$/m,
      /^published invalid-live$/m,
      /^published unmanaged-key$/m,
      /^published guard-impersonated$/m,
    ]) {
      expect(labels).toMatch(expected);
    }
    if (process.env.FUZZ_REPORT)
      console.info(
        `drift handler fuzz outcomes:\n${[...reached]
          .sort()
          .map(([label, count]) => `${count}\t${label}`)
          .join('\n')}`,
      );
  });

  it('the property can fail: an adapter TypeError is reported, not swallowed', async () => {
    // Prepare: a store bug (TypeError) must surface as an unclassified throw
    const outcome = await invoke(EVENTS[0], 'alert', 'desired');
    const broken = { ...outcome, summary: undefined, error: new TypeError('x is undefined') };
    // Assess
    expect(violation(outcome)).toBeUndefined();
    expect(violation(broken)).toMatch(/^unclassified throw: TypeError/);
  });
});

/** Waiting for KMS to return the written policy consistently. */
import { KmsAccessDeniedError, RetryableAwsError } from '../../../src/guard/errors';
import { stabilizationDelay, waitUntilStable } from '../../../src/guard/stabilize';
import { InstantClock } from './harness';

const POLICY = { attempts: 5, delayMs: 100, requiredStableReads: 2, maxDelayMs: 300 };

function reader(answers: (string | Error)[]): () => Promise<string> {
  let index = 0;
  return async () => {
    const answer = answers[Math.min(index, answers.length - 1)];
    index += 1;
    if (answer instanceof Error) throw answer;
    return answer ?? '';
  };
}

describe('waitUntilStable', () => {
  it.each([
    ['two equivalent reads at once', ['new', 'new'], true, 2, 0],
    ['stale reads first', ['old', 'old', 'new', 'new'], true, 4, 2],
    ['an equivalent read broken by a stale one', ['new', 'old', 'new', 'new'], true, 4, 1],
    ['never equivalent', ['old'], false, 5, 5],
    ['equivalent only once at the end', ['old', 'old', 'old', 'old', 'new'], false, 5, 4],
  ])('%s', async (_situation, answers, stable, reads, staleReads) => {
    // Act
    const result = await waitUntilStable(
      reader(answers),
      (live) => live === 'new',
      new InstantClock(),
      POLICY,
    );

    // Assess
    expect(result).toMatchObject({ stable, reads, staleReads });
  });

  it('counts a transient read failure as not stable and keeps reading', async () => {
    // Prepare
    const throttled = new RetryableAwsError('GetKeyPolicy', 'Rate exceeded', 'ThrottlingException');

    // Act
    const result = await waitUntilStable(
      reader([throttled, 'new', 'new']),
      (live) => live === 'new',
      new InstantClock(),
      POLICY,
    );

    // Assess
    expect(result).toMatchObject({ stable: true, reads: 3, failedReads: 1 });
  });

  it('throws access denied at once', async () => {
    // Prepare
    const denied = new KmsAccessDeniedError('GetKeyPolicy', 'key', 'denied');

    // Act
    const wait = waitUntilStable(reader([denied]), () => true, new InstantClock(), POLICY);

    // Assess
    await expect(wait).rejects.toBe(denied);
  });

  it('backs off exponentially up to the cap', async () => {
    // Prepare
    const clock = new InstantClock();

    // Act
    await waitUntilStable(reader(['old']), () => false, clock, POLICY);

    // Assess
    expect(clock.sleeps).toEqual([100, 200, 300, 300, 300]);
    expect(stabilizationDelay({ ...POLICY, maxDelayMs: undefined }, 4)).toBe(1600);
  });
});

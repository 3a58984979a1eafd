/** publishFailure: one translation of a failed publish into the guard's PublishFailedError (Lambda retries it). */
import { GuardError, PublishFailedError, publishFailure } from '../../../src/guard/errors';

describe('publishFailure', () => {
  it('returns a PublishFailedError as it is, so the finding it names is kept', () => {
    // Prepare
    const failed = new PublishFailedError('finding-1', 'throttled', 'ThrottlingException');

    // Act
    const error = publishFailure('finding-2', failed);

    // Assess
    expect(error).toBe(failed);
    expect(error.findingId).toBe('finding-1');
  });

  it.each([
    ['an Error', new Error('outbox table gone'), 'outbox table gone'],
    ['a thrown string', 'socket hang up', 'socket hang up'],
  ])('wraps %s with it as the cause, naming the finding', (_case, thrown, reason) => {
    // Act
    const error = publishFailure('finding-3', thrown);

    // Assess
    expect(error).toBeInstanceOf(PublishFailedError);
    expect(error).toBeInstanceOf(GuardError);
    expect(error.findingId).toBe('finding-3');
    expect(error.message).toBe(`Publishing finding finding-3 failed: ${reason}`);
    expect(error.cause).toBe(thrown);
  });
});

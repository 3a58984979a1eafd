/** The in-memory ledger: re-applies counted per key inside the flapping window. */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { InMemoryRemediationLedger } from '../../../src/guard/memory-ledger';

const KEY = 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const OTHER = 'arn:aws:kms:us-west-2:111122223333:key/0987dcba-09ba-76dc-65fe-0987654321ba';
const NOW = new Date('2026-03-02T10:00:00Z');

function minutesBefore(minutes: number): Date {
  return new Date(NOW.getTime() - minutes * 60_000);
}

describe('InMemoryRemediationLedger', () => {
  it('counts only the key’s re-applies inside the window, this one included', async () => {
    // Prepare
    const ledger = new InMemoryRemediationLedger({ windowMinutes: 60 });
    await ledger.recordReapply(KEY, 'a', minutesBefore(90));
    await ledger.recordReapply(KEY, 'b', minutesBefore(30));
    await ledger.recordReapply(OTHER, 'c', minutesBefore(10));

    // Act
    const count = await ledger.recordReapply(KEY, 'd', NOW, {
      eventId: 'e-1',
      actorArn: 'arn:aws:iam::1:user/A',
    });

    // Assess
    expect(count).toBe(2);
    expect(await ledger.reapplyCount(KEY, NOW)).toBe(2);
    expect(ledger.entries().at(-1)).toMatchObject({ overwritten: 'd', details: { eventId: 'e-1' } });
  });

  it('agrees with a direct count for any set of re-apply times', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 240 }), { maxLength: 30 }), async (minutesAgo) => {
        const ledger = new InMemoryRemediationLedger({ windowMinutes: 60 });
        for (const minutes of minutesAgo) await ledger.recordReapply(KEY, 'x', minutesBefore(minutes));
        const expected = minutesAgo.filter((minutes) => minutes <= 60).length;
        expect(await ledger.reapplyCount(KEY, NOW)).toBe(expected);
      }),
    );
  });

  it('opens a write intent only with a policy entry of that key naming exactly that desired document, for 24 hours', async () => {
    // Prepare
    const desired = '{"Version":"2012-10-17","Statement":[]}';
    const sha = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');
    const ledger = new InMemoryRemediationLedger({ windowMinutes: 60 });
    await ledger.append(KEY, 'overwritten', NOW, { desiredPolicy: desired });
    await ledger.append(OTHER, desired, NOW, { subject: 'grant', desiredPolicy: 'granted' });
    const hoursLater = (hours: number, plusMs = 0) => new Date(NOW.getTime() + hours * 3_600_000 + plusMs);

    // Act + Assess
    expect(await ledger.intended(KEY, sha(desired), NOW)).toBe(true);
    expect(await ledger.intended(KEY, sha(desired), hoursLater(24))).toBe(true);
    expect(await ledger.intended(KEY, sha(desired), hoursLater(24, 1))).toBe(false);
    expect(await ledger.intended(KEY, sha(`${desired}\n`), NOW)).toBe(false);
    expect(await ledger.intended(KEY, sha('overwritten'), NOW)).toBe(false);
    expect(await ledger.intended(OTHER, sha(desired), NOW)).toBe(false);
    expect(await ledger.intended(OTHER, sha('granted'), NOW)).toBe(false);
  });
});

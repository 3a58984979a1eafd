import type { Finding } from '../../../src/core/finding';
import { FoldingPublisher, InMemoryFoldStore } from '../../../src/guard/folding';

const HOUR = 60 * 60 * 1000;
const T0 = new Date('2026-03-02T10:00:00Z');

function finding(overrides: Partial<Finding> = {}): Finding {
  return {
    id: `e-${Math.random()}:k:unmanaged-key`,
    kind: 'unmanaged-key',
    severity: 'low',
    title: '[LOW] Key not managed by the manifest: k',
    keyArn: 'arn:aws:kms:us-west-2:111122223333:key/k',
    keyId: 'k',
    aliases: [],
    region: 'us-west-2',
    account: '111122223333',
    mode: 'alert',
    action: 'none',
    trigger: 'event',
    details: [],
    time: T0.toISOString(),
    ...overrides,
  };
}

function setup() {
  const published: Finding[] = [];
  let now = T0;
  const publisher = new FoldingPublisher(
    { publish: async (item) => void published.push(item) },
    new InMemoryFoldStore(),
    () => now,
    HOUR,
  );
  return { publisher, published, advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
}

describe('FoldingPublisher', () => {
  it('publishes the first LOW finding of a key and kind, folds the repeats within the window, and counts them in the next one', async () => {
    // Prepare
    const { publisher, published, advance } = setup();

    // Act
    await publisher.publish(finding());
    advance(10 * 60_000);
    await publisher.publish(finding());
    await publisher.publish(finding());
    advance(HOUR);
    await publisher.publish(finding());

    // Assess
    expect(published).toHaveLength(2);
    expect(published[1]?.details.at(-1)).toBe(
      '2 more unmanaged-key finding(s) of this key were folded into the previous one within 60 minutes.',
    );
  });

  it.each([
    ['a CRITICAL finding', { severity: 'critical' as const }],
    ['a HIGH finding', { severity: 'high' as const }],
    ['a MEDIUM finding', { severity: 'medium' as const }],
    ['an account-level LOW finding (key *)', { keyId: '*' }],
    ['a LOW finding of an audit (its report, once per run)', { trigger: 'audit' as const }],
  ])('never folds %s', async (_what, overrides) => {
    // Prepare
    const { publisher, published } = setup();

    // Act
    for (let n = 0; n < 3; n += 1) await publisher.publish(finding(overrides));

    // Assess
    expect(published).toHaveLength(3);
  });

  it('publishes the same finding again when its first publish failed (a retry is never folded into itself)', async () => {
    // Prepare
    const published: Finding[] = [];
    let failures = 1;
    const publisher = new FoldingPublisher(
      {
        publish: async (item) => {
          if (failures-- > 0) throw new Error('SNS down');
          published.push(item);
        },
      },
      new InMemoryFoldStore(),
      () => T0,
      HOUR,
    );
    const once = finding({ id: 'e-1:k:unmanaged-key' });

    // Act
    await expect(publisher.publish(once)).rejects.toThrow('SNS down');
    await publisher.publish(once);
    await publisher.publish(finding({ id: 'e-2:k:unmanaged-key' }));

    // Assess
    expect(published.map((item) => item.id)).toEqual(['e-1:k:unmanaged-key']);
  });

  it('folds per key and kind: another key or another kind is published', async () => {
    // Prepare
    const { publisher, published } = setup();

    // Act
    await publisher.publish(finding());
    await publisher.publish(
      finding({ keyArn: 'arn:aws:kms:us-west-2:111122223333:key/other', keyId: 'other' }),
    );
    await publisher.publish(finding({ kind: 'drift' }));

    // Assess
    expect(published).toHaveLength(3);
  });
});

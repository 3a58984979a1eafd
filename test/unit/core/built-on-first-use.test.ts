/**
 * Values built or loaded on first use (src/core/built-on-first-use.ts): once, shared by every caller, and a failed
 * load never kept.
 */
import { builtOnFirstUse, loadedOnFirstUse } from '../../../src/core/built-on-first-use';

describe('builtOnFirstUse', () => {
  it('builds nothing until the first use, then once', () => {
    // Prepare
    const build = jest.fn(() => ({ built: true }));
    const value = builtOnFirstUse(build);

    // Act
    const before = build.mock.calls.length;
    const first = value();
    const second = value();

    // Assess
    expect(before).toBe(0);
    expect(first).toBe(second);
    expect(build).toHaveBeenCalledTimes(1);
  });
});

describe('loadedOnFirstUse', () => {
  it('loads once for concurrent first uses, and every caller gets the same value', async () => {
    // Prepare
    const client = { send: () => 'sent' };
    const load = jest.fn(async () => client);
    const value = loadedOnFirstUse(load);

    // Act
    const results = await Promise.all([value(), value(), value()]);

    // Assess
    expect(results).toEqual([client, client, client]);
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('does not keep a failed load: the next use loads again', async () => {
    // Prepare
    const client = { send: () => 'sent' };
    const load = jest
      .fn<Promise<typeof client>, []>()
      .mockRejectedValueOnce(new Error('import failed'))
      .mockResolvedValue(client);
    const value = loadedOnFirstUse(load);

    // Act
    const failed = await value().catch((error: unknown) => error);
    const next = await value();
    const again = await value();

    // Assess
    expect(failed).toEqual(new Error('import failed'));
    expect(next).toBe(client);
    expect(again).toBe(client);
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('uses a value given as is without loading anything', async () => {
    // Prepare
    const client = { send: () => 'sent' };

    // Act
    const value = await loadedOnFirstUse(client)();

    // Assess
    expect(value).toBe(client);
  });
});

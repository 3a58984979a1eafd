import { join } from 'node:path';
import { runCli, tempFiles } from './helpers';

// Stands for a checkout where src/manifest does not (yet) export loadManifest.
jest.mock('../../../src/manifest/index', () => ({}));

describe('kms-guard validate without manifest support', () => {
  it('says manifest support is not available and exits 2', async () => {
    const dir = tempFiles({ 'manifest.yaml': 'keys: []\n' });
    const manifest = join(dir, 'manifest.yaml');
    const result = await runCli(['validate', manifest]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`kms-guard: ${manifest}: manifest support not available\n`);
  });
});

/**
 * cfn-lint over deploy/spoke.yml, the StackSet template of every guarded account (the structural assertions are
 * unit tests: test/unit/deploy/spoke-template.test.ts). It lives with the integration tests because it needs
 * cfn-lint on PATH, as the packaged-template test does; CI runs the same `cfn-lint deploy/spoke.yml` (.ci/run).
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { findOnPath } from '../../dev/moto-server';

const run = promisify(execFile);
const SPOKE_TEMPLATE = join(resolve(__dirname, '../..'), 'deploy/spoke.yml');
/** The role Region of the test stack and others, commercial and GovCloud (cfn-lint checks resource availability). */
const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2', 'us-gov-west-1'];

describe('deploy/spoke.yml', () => {
  it('passes cfn-lint in the role Region and in other Regions, commercial and GovCloud', async () => {
    // Prepare
    const cfnLint = findOnPath('cfn-lint');
    if (!cfnLint) throw new Error('cfn-lint not found on PATH: pip install cfn-lint');

    // Act
    const findings = await run(cfnLint, ['--regions', ...REGIONS, '--', SPOKE_TEMPLATE]).then(
      ({ stdout }) => stdout,
      // (not `instanceof Error`: child_process errors come from outside Jest's sandbox)
      (error: unknown) =>
        typeof error === 'object' && error !== null && 'stdout' in error
          ? String(error.stdout)
          : String(error),
    );

    // Assess
    expect(findings).toBe('');
  }, 120_000);
});

import { toSarif } from '../../../src/cli/report/sarif';
import type { Finding } from '../../../src/core/finding';
import type { Severity } from '../../../src/policy/types';

function finding(overrides: Partial<Finding>): Finding {
  return {
    id: 'audit-1:1234:drift',
    kind: 'drift',
    severity: 'high',
    title: 'Key policy of payments-data drifted',
    keyArn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    aliases: ['alias/payments-data'],
    region: 'us-east-1',
    account: '111122223333',
    mode: 'alert',
    action: 'alerted',
    trigger: 'audit',
    details: ['principal * gained kms:Decrypt'],
    time: '2026-11-26T03:00:00.000Z',
    keyName: 'payments-data',
    policyFile: 'payments-data.json',
    ...overrides,
  };
}

describe('SARIF report', () => {
  it.each<[Severity, string, string]>([
    ['critical', 'error', '9.5'],
    ['high', 'error', '8.0'],
    ['medium', 'warning', '5.5'],
    ['low', 'note', '3.0'],
    ['info', 'note', '1.0'],
  ])('maps a %s finding to SARIF level %s with security-severity %s', (severity, level, securitySeverity) => {
    const log = toSarif([finding({ severity })], { toolVersion: '0.1.0', policyRoot: 'policies' });
    const run = log.runs[0];
    expect(run?.results[0]?.level).toBe(level);
    expect(run?.tool.driver.rules[0]?.properties['security-severity']).toBe(securitySeverity);
  });

  it('locates a key finding in its policy file and names the key ARN', () => {
    const log = toSarif([finding({})], { toolVersion: '0.1.0', policyRoot: 'policies/' });
    const result = log.runs[0]?.results[0];
    expect(result?.ruleId).toBe('drift');
    expect(result?.locations[0]?.physicalLocation?.artifactLocation.uri).toBe('policies/payments-data.json');
    expect(result?.locations[0]?.logicalLocations[0]?.fullyQualifiedName).toContain(':key/1234abcd');
    expect(result?.message.text).toContain('principal * gained kms:Decrypt');
  });

  it('adds one result per validation finding of the desired document, with its catalogue code', () => {
    const log = toSarif(
      [
        finding({
          kind: 'invalid-desired',
          validation: {
            desired: [{ code: 'KMS001', level: 'error', path: '$', message: 'not JSON' }],
            live: [],
          },
        }),
      ],
      { toolVersion: '0.1.0', policyRoot: 'policies' },
    );
    const results = log.runs[0]?.results ?? [];
    expect(results.map((result) => result.ruleId)).toEqual(['invalid-desired', 'KMS001']);
    expect(results[1]?.properties.jsonPath).toBe('$');
    expect(log.runs[0]?.tool.driver.rules.map((rule) => rule.id)).toEqual(['invalid-desired', 'KMS001']);
  });

  it('leaves the audit summary out of the results and emits an empty but valid log when all is in sync', () => {
    const log = toSarif([finding({ kind: 'audit-summary', severity: 'info' })], {
      toolVersion: '0.1.0',
      policyRoot: 'policies',
    });
    expect(log.version).toBe('2.1.0');
    expect(log.runs[0]?.results).toEqual([]);
  });

  it('gives a finding without a policy file a logical location only', () => {
    const log = toSarif([finding({ kind: 'unmanaged-key', policyFile: undefined, keyName: undefined })], {
      toolVersion: '0.1.0',
      policyRoot: 'policies',
    });
    const location = log.runs[0]?.results[0]?.locations[0];
    expect(location?.physicalLocation).toBeUndefined();
    expect(location?.logicalLocations[0]?.name).toBe('1234abcd-12ab-34cd-56ef-1234567890ab');
  });
});

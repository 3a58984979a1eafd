/**
 * A finding as an ASFF record for AWS Security Hub (docs/architecture.md#security-hub): every kind and
 * severity mapped, the record's ID stable per key and subject, a restore and a closure PASSED and
 * ARCHIVED, and no attacker-controlled text reaching Security Hub raw or beyond its limits.
 */
import fc from 'fast-check';
import {
  ASFF_LIMITS,
  ASFF_SEVERITY,
  ASFF_TYPE,
  asffClosure,
  asffDescription,
  asffFinding,
  cutText,
} from '../../../src/alerts/asff';
import { type ComplianceRecord, SUBJECT_OF_KIND } from '../../../src/core/compliance';
import { FINDING_KINDS, type Finding, type FindingKind, SEVERITIES } from '../../../src/core/finding';
import { unsafeCharacterSource } from '../../../src/core/plain-text';
import { hostileFinding } from '../fuzz/hostile';
import { driftFinding } from './slack-fixtures';

const KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const PRODUCT_ARN = 'arn:aws:securityhub:eu-west-1:111122223333:product/111122223333/default';
const ACCOUNT_KINDS: ReadonlySet<FindingKind> = new Set([
  'guard-disabled',
  'guard-degraded',
  'audit-incomplete',
  'audit-summary',
  'account-not-guarded',
  'spoke-unreachable',
]);
const UNSAFE = new RegExp(unsafeCharacterSource(), 'u');

/** A finding of `kind`, as the guard makes it (account-level kinds: key `*`). */
function findingOf(kind: FindingKind, changes: Partial<Finding> = {}): Finding {
  const account = ACCOUNT_KINDS.has(kind);
  return driftFinding({
    kind,
    ...(account ? { keyArn: 'arn:aws:kms:eu-west-1:111122223333:key/*', keyId: '*', aliases: [] } : {}),
    ...(kind === 'grant-not-allowed'
      ? {
          grant: {
            grantId: 'abc123def456',
            operations: ['Decrypt'],
            granteePrincipal: 'arn:aws:iam::1:root',
          },
        }
      : {}),
    ...(kind === 'replica-unguarded'
      ? { keyState: { state: 'Enabled', desiredEnabled: true, replicaRegion: 'ap-south-1' } }
      : {}),
    ...changes,
  });
}

function expectedId(kind: FindingKind): string | undefined {
  const subject = SUBJECT_OF_KIND[kind];
  if (subject === undefined) return undefined;
  if (ACCOUNT_KINDS.has(kind)) return `kms-policy-guard/111122223333/eu-west-1/${subject}`;
  if (kind === 'grant-not-allowed') return `kms-policy-guard/${KEY_ARN}/grant/abc123def456`;
  if (kind === 'replica-unguarded') return `kms-policy-guard/${KEY_ARN}/replica-unguarded/ap-south-1`;
  return `kms-policy-guard/${KEY_ARN}/${subject}`;
}

/** Every string anywhere in `value`. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([name, item]) => [name, ...stringsIn(item)]);
  return [];
}

describe('asffFinding: every finding kind and severity', () => {
  const cases = FINDING_KINDS.filter((kind) => kind !== 'audit-summary').flatMap((kind) =>
    SEVERITIES.map((severity) => ({ kind, severity })),
  );

  it.each(cases)(
    'maps an open $kind finding of severity $severity to a FAILED, ACTIVE record',
    ({ kind, severity }) => {
      // Act
      const asff = asffFinding(findingOf(kind, { severity, action: 'alerted' }));

      // Assess
      const label = ASFF_SEVERITY[severity];
      expect(asff).toMatchObject({
        SchemaVersion: '2018-10-08',
        Id: expectedId(kind),
        ProductArn: PRODUCT_ARN,
        GeneratorId: `kms-policy-guard/${SUBJECT_OF_KIND[kind]}`,
        AwsAccountId: '111122223333',
        Types: [ASFF_TYPE[kind]],
        Severity: { Label: label, Original: severity },
        FindingProviderFields: { Severity: { Label: label, Original: severity }, Types: [ASFF_TYPE[kind]] },
        Compliance: { Status: 'FAILED' },
        RecordState: 'ACTIVE',
        CreatedAt: '2026-05-04T10:11:12.000Z',
        FirstObservedAt: '2026-05-04T10:11:12.000Z',
        UpdatedAt: '2026-05-04T10:11:14Z',
        LastObservedAt: '2026-05-04T10:11:14Z',
      });
      expect(asff?.Resources).toEqual([
        ACCOUNT_KINDS.has(kind)
          ? { Type: 'AwsAccount', Id: 'AWS::::Account:111122223333', Region: 'eu-west-1', Partition: 'aws' }
          : {
              Type: 'AwsKmsKey',
              Id: KEY_ARN,
              Region: 'eu-west-1',
              Partition: 'aws',
              Details: { AwsKmsKey: { KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab' } },
            },
      ]);
      expect(asff?.Types?.[0]).toMatch(
        /^(Software and Configuration Checks|TTPs|Unusual Behaviors)\/[^/]+\/.+$/,
      );
      expect(asff?.ProductFields).toMatchObject({ 'kms-policy-guard/kind': kind });
    },
  );

  it.each(FINDING_KINDS.filter((kind) => kind !== 'audit-summary'))(
    'maps a %s finding with action remediated to a PASSED, ARCHIVED, INFORMATIONAL record under the same ID',
    (kind) => {
      // Act
      const open = asffFinding(findingOf(kind, { action: 'alerted' }));
      const restored = asffFinding(findingOf(kind, { action: 'remediated', severity: 'critical' }));

      // Assess
      expect(restored?.Id).toBe(open?.Id);
      expect(restored).toMatchObject({
        Compliance: { Status: 'PASSED' },
        RecordState: 'ARCHIVED',
        Severity: { Label: 'INFORMATIONAL', Original: 'critical' },
      });
    },
  );

  it('keeps one record per key policy: drift, remediated and would-remediate update the same ID', () => {
    // Act
    const ids = (['drift', 'remediated', 'would-remediate', 'flapping', 'invalid-live'] as const).map(
      (kind) => asffFinding(findingOf(kind))?.Id,
    );

    // Assess
    expect(new Set(ids)).toEqual(new Set([`kms-policy-guard/${KEY_ARN}/key-policy`]));
  });

  it('gives each grant its own record', () => {
    // Act
    const [one, two] = ['grant-1', 'grant-2'].map(
      (grantId) =>
        asffFinding(findingOf('grant-not-allowed', { grant: { grantId, operations: ['Decrypt'] } }))?.Id,
    );

    // Assess
    expect(one).toBe(`kms-policy-guard/${KEY_ARN}/grant/grant-1`);
    expect(two).toBe(`kms-policy-guard/${KEY_ARN}/grant/grant-2`);
  });

  it('sends no record for the audit summary (a report, not a problem of anything)', () => {
    expect(asffFinding(findingOf('audit-summary'))).toBeUndefined();
  });

  it.each([
    ['arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', 'eu-west-1', true],
    ['arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', 'cn-north-1', false],
  ])('links %s to the console only in the commercial partition (%s: %s)', (keyArn, region, linked) => {
    // Act
    const asff = asffFinding(findingOf('drift', { keyArn, region }));

    // Assess
    expect(asff?.SourceUrl).toBe(
      linked
        ? `https://${region}.console.aws.amazon.com/kms/home?region=${region}#/kms/keys/1234abcd-12ab-34cd-56ef-1234567890ab`
        : undefined,
    );
    expect(asff?.ProductArn).toBe(
      `arn:${linked ? 'aws' : 'aws-cn'}:securityhub:${region}:111122223333:product/111122223333/default`,
    );
    expect(asff?.Resources?.[0]?.Partition).toBe(linked ? 'aws' : 'aws-cn');
  });

  it('uses the check time when the CloudTrail eventTime is not a time (a forged record)', () => {
    // Act
    const asff = asffFinding(
      findingOf('drift', { actor: { arn: 'arn:aws:iam::111122223333:user/x', eventTime: 'yesterday' } }),
    );

    // Assess
    expect(asff?.CreatedAt).toBe('2026-05-04T10:11:14Z');
    expect(asff?.FirstObservedAt).toBe('2026-05-04T10:11:14Z');
  });
});

describe('asffFinding: the hub keeps the records of accounts it cannot write in', () => {
  const HUB = { partition: 'aws', region: 'us-east-1', accountId: '999988887777' };

  it.each(['spoke-unreachable', 'account-not-guarded'] as const)(
    "keeps a %s finding in the hub's account and Region, about the member account, one record per account and Region",
    (kind) => {
      // Prepare: an account-not-guarded finding may name the key the change was about
      const finding = findingOf(kind);
      const namingAKey = { ...finding, keyArn: KEY_ARN, keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' };

      // Act
      const asff = asffFinding(finding, HUB);
      const keyed = asffFinding(namingAKey, HUB);

      // Assess
      expect(asff).toMatchObject({
        Id: `kms-policy-guard/111122223333/eu-west-1/${SUBJECT_OF_KIND[kind]}`,
        ProductArn: 'arn:aws:securityhub:us-east-1:999988887777:product/999988887777/default',
        AwsAccountId: '999988887777',
        Compliance: { Status: 'FAILED' },
        RecordState: 'ACTIVE',
      });
      expect(asff?.Resources).toEqual([
        { Type: 'AwsAccount', Id: 'AWS::::Account:111122223333', Region: 'eu-west-1', Partition: 'aws' },
      ]);
      expect(keyed?.Id).toBe(asff?.Id);
      expect(keyed?.Resources).toEqual(asff?.Resources);
    },
  );

  it("keeps a key's finding in the key's own account when no home is given", () => {
    // Act
    const asff = asffFinding(findingOf('drift'));

    // Assess
    expect(asff?.AwsAccountId).toBe('111122223333');
    expect(asff?.ProductArn).toBe(PRODUCT_ARN);
  });
});

describe('asffDescription', () => {
  it('names the key, who changed it, when and from where, what the guard did, and the diff summary', () => {
    // Act
    const description = asffDescription(findingOf('drift'));

    // Assess
    expect(description).toContain(
      `Key ${KEY_ARN} (manifest entry payments-data, policies/payments-data.json)`,
    );
    expect(description).toContain(
      'Changed by role/Developer (session mallory) (PutKeyPolicy) at 2026-05-04T10:11:12Z from 203.0.113.7',
    );
    expect(description).toContain('The guard changed nothing (report only).');
    expect(description).toContain('Change: Policy drift, severity CRITICAL');
    expect(description).toContain(
      '| [CRITICAL] * (anyone, in any AWS account) | gained: kms:Decrypt, kms:DescribeKey |',
    );
    expect(description).toContain('| lost: kms:GetKeyPolicy |');
    expect(description).not.toMatch(/\n/);
  });

  it('cuts a long description to 1,024 characters, ending with …', () => {
    // Act
    const description = asffDescription(findingOf('drift', { details: ['x'.repeat(5_000)] }));

    // Assess
    expect(description).toHaveLength(ASFF_LIMITS.description);
    expect(description.endsWith('…')).toBe(true);
  });

  it('shows a line break, a bidi override and a zero-width space an attacker put in a detail as \\uXXXX', () => {
    // Act
    const description = asffDescription(findingOf('drift', { details: ['a\nb\u202ec\u200bd'] }));

    // Assess
    expect(description).toContain('a\\u000Ab\\u202Ec\\u200Bd');
  });

  it('holds within every limit, and no control, format, separator or lone surrogate character, whatever an attacker wrote (property)', () => {
    fc.assert(
      fc.property(hostileFinding(0.2), (finding) => {
        const asff = asffFinding(finding);
        if (!asff) return finding.kind === 'audit-summary';
        const strings = stringsIn(asff);
        const fields = Object.values(asff.ProductFields ?? {});
        return (
          (asff.Title ?? '').length <= ASFF_LIMITS.title &&
          (asff.Description ?? '').length <= ASFF_LIMITS.description &&
          fields.every((value) => value.length <= ASFF_LIMITS.productFieldValue) &&
          (asff.Id ?? '').length <= 512 &&
          Number.isFinite(Date.parse(asff.CreatedAt ?? '')) &&
          strings.every((text) => !UNSAFE.test(text))
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('cutText', () => {
  it('never exceeds the limit and never splits a surrogate pair (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 300 }),
        fc.integer({ min: 2, max: 200 }),
        (text, max) => {
          const cut = cutText(text, max);
          const last = cut.length > 1 ? cut.charCodeAt(cut.length - 2) : 0;
          return (
            cut.length <= max &&
            (cut === text || (cut.endsWith('…') && !(last >= 0xd800 && last <= 0xdbff && text !== cut)))
          );
        },
      ),
    );
  });
});

describe('asffClosure', () => {
  const record: ComplianceRecord = {
    keyArn: KEY_ARN,
    keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    location: { partition: 'aws', region: 'eu-west-1', accountId: '111122223333' },
    aliases: ['alias/payments'],
    keyName: 'payments-data',
    trigger: 'event',
    actor: { arn: 'arn:aws:iam::111122223333:user/alice', eventName: 'PutKeyPolicy' },
    time: '2026-05-05T08:00:00.000Z',
    findings: [],
    checked: ['key-policy'],
  };

  it('closes the open record as PASSED, ARCHIVED and INFORMATIONAL, keeping its ID, type and creation time', () => {
    // Prepare
    const open = asffFinding(findingOf('drift'));
    if (!open) throw new Error('no open record');

    // Act
    const closure = asffClosure(open, record, 'key-policy');

    // Assess
    expect(closure).toMatchObject({
      Id: open.Id,
      ProductArn: PRODUCT_ARN,
      GeneratorId: open.GeneratorId,
      Types: open.Types,
      CreatedAt: open.CreatedAt,
      FirstObservedAt: open.FirstObservedAt,
      UpdatedAt: record.time,
      LastObservedAt: record.time,
      Severity: { Label: 'INFORMATIONAL' },
      Compliance: { Status: 'PASSED' },
      RecordState: 'ARCHIVED',
      SourceUrl: open.SourceUrl,
    });
    expect(closure?.Title).toBe(`Resolved: ${open.Title}`);
    expect(closure?.Description).toMatch(
      /^The key policy of key arn:aws:kms:eu-west-1:111122223333:key\/1234abcd-12ab-34cd-56ef-1234567890ab \(payments-data\) is back in its desired state: the guard's event check at 2026-05-05T08:00:00.000Z after PutKeyPolicy by user\/alice found nothing to report\. Previously: /,
    );
    expect(closure?.ProductFields).toMatchObject({
      'kms-policy-guard/kind': 'drift',
      'kms-policy-guard/resolvedBy': 'event',
    });
  });

  it('closes nothing it cannot import (an open record without an ID)', () => {
    // Prepare
    const asff = asffFinding(findingOf('drift'));
    if (!asff) throw new Error('no open record');

    // Act
    const closure = asffClosure({ ...asff, Id: undefined }, record, 'key-policy');

    // Assess
    expect(closure).toBeUndefined();
  });
});

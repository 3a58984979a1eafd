/**
 * What checkKey and the audit tell the compliance view (docs/architecture.md#security-hub): each check's
 * findings and the subjects it looked at to the end, which the view closes when the check made no finding
 * about them. A subject the check did not finish (locked out, deferred, not read) must never be listed,
 * or Security Hub would archive an open problem nobody looked at.
 */
import { ListGrantsCommand } from '@aws-sdk/client-kms';
import type { ComplianceRecord } from '../../../src/core/compliance';
import type { Actor } from '../../../src/core/finding';
import { auditKeys } from '../../../src/guard/audit-keys';
import { checkKey } from '../../../src/guard/check-key';
import type { ComplianceSink } from '../../../src/guard/compliance';
import type { GuardHealthProbe } from '../../../src/guard/health';
import {
  awsError,
  DescribeKeyCommand,
  describeKeyResponse,
  desiredPolicyAsKmsReturnsIt,
  driftedPolicyText,
  fixtureManifest,
  GetKeyPolicyCommand,
  KEY_ARN,
  KEY_ID,
  kmsMock,
  ListAliasesCommand,
  ListResourceTagsCommand,
  makeHarness,
  managedKey,
  resetMocks,
} from './harness';

const ALICE: Actor = {
  arn: 'arn:aws:iam::111122223333:user/Alice',
  eventID: 'event-1',
  eventName: 'PutKeyPolicy',
};

function recordingSink(): ComplianceSink & { records: ComplianceRecord[]; flushes: number } {
  const sink = {
    records: [] as ComplianceRecord[],
    flushes: 0,
    record: (record: ComplianceRecord) => {
      sink.records.push(record);
    },
    flush: async () => {
      sink.flushes += 1;
    },
  };
  return sink;
}

beforeEach(() => {
  resetMocks();
});

describe('checkKey → compliance record', () => {
  it.each([
    {
      name: 'an in-sync managed key: every subject checked, no finding',
      live: desiredPolicyAsKmsReturnsIt(),
      kinds: [],
      checked: ['access', 'binding', 'grant', 'key-policy', 'key-state'],
    },
    {
      name: 'a drifted key: the drift finding, and every subject checked',
      live: driftedPolicyText(),
      kinds: ['drift'],
      checked: ['access', 'binding', 'grant', 'key-policy', 'key-state'],
    },
  ])('records $name', async ({ live, kinds, checked }) => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    const sink = recordingSink();
    deps.compliance = sink;
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: live });

    // Act
    await checkKey(deps, { keyRef: KEY_ARN, trigger: 'event', actor: ALICE, eventId: 'event-1' });

    // Assess
    expect(sink.records).toHaveLength(1);
    const [record] = sink.records;
    expect(record?.findings.map((finding) => finding.kind)).toEqual(kinds);
    expect([...(record?.checked ?? [])].sort()).toEqual(checked);
    expect(record).toMatchObject({
      keyArn: KEY_ARN,
      keyId: KEY_ID,
      keyName: 'payments-data',
      trigger: 'event',
      actor: ALICE,
      location: { partition: 'aws', region: 'us-west-2', accountId: '111122223333' },
    });
    expect(sink.flushes).toBe(0);
  });

  it('never lists the subjects a locked-out check did not finish (ListGrants denied: no grant, no access)', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    const sink = recordingSink();
    deps.compliance = sink;
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
    kmsMock.on(ListGrantsCommand).rejects(awsError('AccessDeniedException', 'not allowed'));

    // Act
    await checkKey(deps, { keyRef: KEY_ARN, trigger: 'audit', eventId: 'run-1' });

    // Assess
    const [record] = sink.records;
    expect(record?.findings.map((finding) => finding.kind)).toEqual(['guard-locked-out']);
    expect([...(record?.checked ?? [])].sort()).toEqual(['binding', 'key-policy', 'key-state']);
  });

  it("leaves the key policy out of the guard's own event that reads back different (deferred to the audit)", async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('remediate'));
    const sink = recordingSink();
    deps.compliance = sink;
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });
    const guardActor: Actor = {
      arn: 'arn:aws:sts::111122223333:assumed-role/kms-policy-guard-us-west-2/drift',
      isGuard: true,
      eventName: 'TagResource',
    };

    // Act
    const outcome = await checkKey(deps, {
      keyRef: KEY_ARN,
      trigger: 'event',
      actor: guardActor,
      eventId: 'e',
    });

    // Assess
    expect(outcome.result).toBe('deferred');
    expect(sink.records[0]?.checked).not.toContain('key-policy');
  });

  it('records nothing for a key it does not serve (nothing was read)', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    const sink = recordingSink();
    deps.compliance = sink;
    deps.serves = () => false;

    // Act
    const outcome = await checkKey(deps, { keyRef: KEY_ARN, trigger: 'event', eventId: 'e' });

    // Assess
    expect(outcome.result).toBe('not-served');
    expect(sink.records).toEqual([]);
    expect(kmsMock.commandCalls(DescribeKeyCommand)).toHaveLength(0);
  });

  it('does not judge the key policy of an AWS managed key no entry manages', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    const sink = recordingSink();
    deps.compliance = sink;
    const other = '00000000-0000-0000-0000-0000000000aa';
    kmsMock
      .on(DescribeKeyCommand)
      .resolves(
        describeKeyResponse({ KeyId: other, Arn: KEY_ARN.replace(KEY_ID, other), KeyManager: 'AWS' }),
      );
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });

    // Act
    await checkKey(deps, { keyRef: KEY_ARN.replace(KEY_ID, other), trigger: 'audit', eventId: 'run-1' });

    // Assess
    expect([...(sink.records[0]?.checked ?? [])].sort()).toEqual(['access', 'binding']);
  });
});

describe('auditKeys → the account-level compliance record', () => {
  const healthy: GuardHealthProbe = {
    checkHealth: async () => ({
      driftRule: { ruleName: 'drift', state: 'ENABLED' },
      checks: [{ check: 'drift rule pattern', ok: true }],
    }),
  };

  it('records the audit, drift-rule and health checks as checked, with the account findings', async () => {
    // Prepare: one entry, matched by key ID (no listing, no tags).
    const manifest = fixtureManifest('alert');
    const { deps } = makeHarness({ ...manifest, keys: [managedKey(manifest, 'payments-data')] });
    const sink = recordingSink();
    deps.compliance = sink;
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });

    // Act
    await auditKeys(
      { ...deps, health: healthy },
      {
        runId: 'run-1',
        concurrency: 2,
        reportUnmanaged: false,
        location: { partition: 'aws', region: 'us-west-2', accountId: '111122223333' },
      },
    );

    // Assess
    const account = sink.records.find((record) => record.keyId === '*');
    expect(account).toMatchObject({
      keyArn: 'arn:aws:kms:us-west-2:111122223333:key/*',
      trigger: 'audit',
      checked: ['audit-incomplete', 'guard-disabled', 'guard-degraded'],
    });
    expect(account?.findings.map((finding) => finding.kind)).toEqual(['audit-summary']);
    expect(sink.records.filter((record) => record.keyId !== '*').length).toBeGreaterThan(0);
  });
});

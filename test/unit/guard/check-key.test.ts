/**
 * checkKey through the real KMS and SNS adapters, with the SDK clients mocked (aws-sdk-client-mock).
 * Each test asserts what a person ends up seeing (the published finding's kind, severity, action,
 * subject) and how many AWS calls the check cost.
 */

import type { Actor } from '../../../src/core/finding';
import type { KeyLocation } from '../../../src/core/key-arn';
import { checkKey } from '../../../src/guard/check-key';
import { PublishFailedError, RetryableAwsError } from '../../../src/guard/errors';
import { withStatement } from '../support/drift';
import {
  ACCOUNT_ROOT_STATEMENT,
  GUARD_READ_ONLY_TEMPLATE,
  guardStatement,
  LOCKOUT_TEMPLATE,
  policyTemplate,
} from '../support/policy-templates';
import {
  awsCalls,
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
  kmsRestoresDesiredAfter,
  ListAliasesCommand,
  ListResourceTagsCommand,
  makeHarness,
  managedKey,
  manifestWithDesired,
  narrowedPolicyText,
  OTHER_KEY_ARN,
  OTHER_KEY_ID,
  onlyFinding,
  PublishCommand,
  PutKeyPolicyCommand,
  publishedInputs,
  recordEarlierReapplies,
  resetMocks,
  snsMock,
} from './harness';

const ALICE: Actor = {
  arn: 'arn:aws:iam::111122223333:user/Alice',
  type: 'IAMUser',
  accountId: '111122223333',
  principalId: 'EX_PRINCIPAL_ID',
  sourceIPAddress: '192.0.2.0',
  userAgent: 'AWS Internal',
  eventTime: '2022-09-01T20:06:16Z',
  eventID: 'c217db1f-903f-4a2f-8f88-9580182d6313',
  eventName: 'PutKeyPolicy',
  isGuard: false,
};
const GUARD_ACTOR: Actor = {
  ...ALICE,
  arn: 'arn:aws:sts::111122223333:assumed-role/kms-policy-guard-us-west-2/kms-policy-guard-dev-drift',
  type: 'AssumedRole',
  isGuard: true,
};
const EVENT_REQUEST = { keyRef: KEY_ARN, trigger: 'event' as const, actor: ALICE, eventId: ALICE.eventID };

/** Desired document without the guard statement and without any administrator: locks everyone out. */
const LOCKOUT_DESIRED = LOCKOUT_TEMPLATE;

/** Desired document that keeps a named administrator but takes kms:PutKeyPolicy away from the guard (KMS306). */
const GUARD_LOCKOUT_DESIRED = GUARD_READ_ONLY_TEMPLATE;

/** Desired document KMS could never accept: a misspelt action and an Effect that is not Allow/Deny. */
const INVALID_DESIRED = JSON.stringify(
  policyTemplate(
    ACCOUNT_ROOT_STATEMENT,
    guardStatement('Guard', ['kms:DescribeKey', 'kms:GetKeyPolicy', 'kms:PutKeyPolicy']),
    {
      Sid: 'Typo',
      Effect: 'Permit',
      Principal: { AWS: 'arn:{{Partition}}:iam::{{AccountId}}:role/payments-service' },
      Action: 'kms:Decrpyt',
      Resource: '*',
    },
  ),
);

beforeEach(() => {
  resetMocks();
});

describe('checkKey in alert mode', () => {
  it('logs an in-sync key as a no-op after DescribeKey, GetKeyPolicy and ListGrants', async () => {
    // Prepare
    const { deps, logger } = makeHarness(fixtureManifest('alert'));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });

    // Act
    const outcome = await checkKey(deps, EVENT_REQUEST);

    // Assess
    expect(outcome.result).toBe('in-sync');
    expect(awsCalls()).toEqual({ DescribeKey: 1, GetKeyPolicy: 1, ListGrants: 1 });
    expect(publishedInputs()).toHaveLength(0);
    const line = logger.lines.find((entry) => entry.message === 'key_in_sync');
    expect(line?.attributes).toMatchObject({ keyId: KEY_ID, eventId: ALICE.eventID, actor: ALICE.arn });
  });

  it('publishes a drift finding with who, what and both documents (DescribeKey, GetKeyPolicy, ListGrants, Publish)', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    const live = driftedPolicyText();
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: live });

    // Act
    const outcome = await checkKey(deps, EVENT_REQUEST);

    // Assess
    expect(awsCalls()).toEqual({ DescribeKey: 1, GetKeyPolicy: 1, ListGrants: 1, Publish: 1 });
    const finding = onlyFinding();
    expect(outcome.result).toBe('published');
    expect(finding).toMatchObject({
      kind: 'drift',
      action: 'alerted',
      mode: 'alert',
      keyArn: KEY_ARN,
      keyName: 'payments-data',
      policyFile: 'test/unit/guard/fixtures/payments-data.json',
      region: 'us-west-2',
      account: '111122223333',
      actor: { arn: ALICE.arn, sourceIPAddress: '192.0.2.0' },
      livePolicy: live,
    });
    expect(['critical', 'high']).toContain(finding.severity);
    expect(finding.id).toBe(`${ALICE.eventID}:${KEY_ID}:drift`);
    expect(finding.diff?.access.some((change) => change.principal.includes('999988887777'))).toBe(true);
    const input = publishedInputs()[0];
    expect(input?.Subject).toMatch(/^\[(CRITICAL|HIGH)\] Key policy drift: payments-data by user\/Alice$/);
    expect(input?.MessageAttributes?.action?.StringValue).toBe('alerted');
    expect(kmsMock.commandCalls(GetKeyPolicyCommand)[0]?.args[0].input).toEqual({
      KeyId: KEY_ID,
      PolicyName: 'default',
    });
  });

  it('reports a principal KMS shows as a unique ID as its own finding kind', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    const live = desiredPolicyAsKmsReturnsIt().replace(
      'arn:aws:iam::111122223333:role/payments-service',
      'AROAEXAMPLEDELETED01',
    );
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: live });

    // Act
    await checkKey(deps, EVENT_REQUEST);

    // Assess
    const finding = onlyFinding();
    expect(finding.kind).toBe('orphaned-principal');
    expect(finding.action).toBe('alerted');
    expect(finding.details.join('\n')).toMatch(/IAM role or user was deleted/);
  });
  it('reports a live document with unknown elements as invalid-live, naming the problem', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    const live = desiredPolicyAsKmsReturnsIt().replace('"Action": "kms:*"', '"Actoin": "kms:*"');
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: live });

    // Act
    await checkKey(deps, EVENT_REQUEST);

    // Assess
    const finding = onlyFinding();
    expect(finding).toMatchObject({
      kind: 'invalid-live',
      action: 'alerted',
      severity: expect.stringMatching(/critical|high/),
    });
    expect(finding.details.join('\n')).toMatch(/live \$\.Statement\[0\]\.Actoin/);
  });
});

describe('checkKey in dry-run mode', () => {
  it('describes the remediation it would make and writes nothing', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('dry-run'));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

    // Act
    await checkKey(deps, EVENT_REQUEST);

    // Assess
    expect(awsCalls()).toEqual({ DescribeKey: 1, GetKeyPolicy: 1, ListGrants: 1, Publish: 1 });
    const finding = onlyFinding();
    expect(finding).toMatchObject({ kind: 'would-remediate', action: 'alerted', mode: 'dry-run' });
    expect(finding.details.join('\n')).toMatch(
      /Remediation would: DescribeKey .* then PutKeyPolicy .*test\/unit\/guard\/fixtures\/payments-data\.json/,
    );
  });

  it('says remediation would refuse a desired document that locks administrators out', async () => {
    // Prepare
    const { deps } = makeHarness(manifestWithDesired('dry-run', LOCKOUT_DESIRED));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

    // Act
    await checkKey(deps, EVENT_REQUEST);

    // Assess
    const finding = onlyFinding();
    expect(finding.kind).toBe('would-remediate');
    expect(finding.title).toMatch(/would refuse: lockout-risk/);
    expect(finding.details.join('\n')).toMatch(/Remediation would REFUSE to write \(lockout-risk\)/);
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });
});

describe('the guard-principal rule depends on the mode', () => {
  it.each([
    ['alert', 'drift', undefined],
    ['dry-run', 'would-remediate', /would refuse: lockout-risk/],
  ] as const)(
    'in %s mode a desired document without the guard’s PutKeyPolicy yields %s',
    async (mode, kind, title) => {
      // Prepare
      const { deps } = makeHarness(manifestWithDesired(mode, GUARD_LOCKOUT_DESIRED));
      kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

      // Act
      await checkKey(deps, EVENT_REQUEST);

      // Assess
      const finding = onlyFinding();
      expect(finding.kind).toBe(kind);
      if (title) expect(finding.title).toMatch(title);
      else expect(finding.validation?.desired.map((item) => item.code)).not.toContain('KMS306');
    },
  );
});

const KEY_LOCATION: KeyLocation = { partition: 'aws', region: 'us-west-2', accountId: '111122223333' };

describe('checkKey in remediate mode', () => {
  it('restores the desired policy once, confirms it and publishes the overwritten document verbatim', async () => {
    // Prepare
    const { deps, ledger } = makeHarness(fixtureManifest('remediate'));
    const live = driftedPolicyText();
    kmsRestoresDesiredAfter(live);

    // Act
    const outcome = await checkKey(deps, EVENT_REQUEST);

    // Assess
    // Read, read again right before the write (what is overwritten is what is recorded), write, two confirming reads.
    expect(awsCalls()).toEqual({
      GetKeyPolicy: 4,
      DescribeKey: 1,
      PutKeyPolicy: 1,
      ListGrants: 1,
      Publish: 1,
    });
    const put = kmsMock.commandCalls(PutKeyPolicyCommand)[0]?.args[0].input;
    expect(put).toMatchObject({
      KeyId: KEY_ID,
      PolicyName: 'default',
      BypassPolicyLockoutSafetyCheck: false,
    });
    expect(JSON.parse(put?.Policy ?? '{}')).toEqual(JSON.parse(desiredPolicyAsKmsReturnsIt()));
    const finding = onlyFinding();
    expect(finding).toMatchObject({
      kind: 'remediated',
      action: 'remediated',
      mode: 'remediate',
      livePolicy: live,
    });
    expect(outcome.finding?.kind).toBe('remediated');
    expect(ledger.entries()).toEqual([
      expect.objectContaining({
        keyArn: KEY_ARN,
        overwritten: live,
        details: expect.objectContaining({ actorArn: ALICE.arn }),
      }),
    ]);
    expect(publishedInputs()[0]?.Subject).toMatch(/Key policy restored: payments-data by user\/Alice/);
  });

  it('records the document a re-read finds changed since the first read, before its one write', async () => {
    // Prepare
    const { deps, ledger } = makeHarness(fixtureManifest('remediate'));
    const firstRead = driftedPolicyText();
    const changedSince = withStatement(firstRead, {
      Sid: 'AndThenSomethingElse',
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::999988887777:root' },
      Action: 'kms:Encrypt',
      Resource: '*',
    });
    const reads = [firstRead, changedSince];
    let written = false;
    kmsMock.on(GetKeyPolicyCommand).callsFake(() => ({
      Policy: written ? desiredPolicyAsKmsReturnsIt() : (reads.shift() ?? changedSince),
    }));
    kmsMock.on(PutKeyPolicyCommand).callsFake(() => {
      written = true;
      return {};
    });

    // Act
    const outcome = await checkKey(deps, EVENT_REQUEST);

    // Assess
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(1);
    // Both documents were live and both were overwritten: each has its ledger entry, the later one last.
    const entries = ledger.entries();
    expect(entries.map((entry) => entry.overwritten)).toEqual([firstRead, changedSince]);
    expect(entries[1]?.at.getTime()).toBeGreaterThan(entries[0]?.at.getTime() ?? Number.NaN);
    expect(outcome.finding).toMatchObject({ kind: 'remediated', livePolicy: changedSince });
    expect(onlyFinding().livePolicy).toBe(changedSince);
    expect(await deps.outbox.pending(KEY_LOCATION)).toEqual([]);
  });

  it('writes nothing when the re-read finds the desired policy back, and withdraws the held finding', async () => {
    // Prepare
    const { deps, logger, ledger } = makeHarness(fixtureManifest('remediate'));
    const reads = [driftedPolicyText()];
    kmsMock
      .on(GetKeyPolicyCommand)
      .callsFake(() => ({ Policy: reads.shift() ?? desiredPolicyAsKmsReturnsIt() }));

    // Act
    const outcome = await checkKey(deps, EVENT_REQUEST);

    // Assess
    expect(outcome.result).toBe('in-sync');
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
    expect(await deps.outbox.pending(KEY_LOCATION)).toEqual([]);
    expect(logger.lines.map((line) => line.message)).toContain('live_policy_changed_before_write');
    // The ledger is append-only: the first document, which was live, keeps its entry.
    expect(ledger.entries().map((entry) => entry.overwritten)).toEqual([driftedPolicyText()]);
  });

  it('waits out stale reads after the write without writing again, and reports remediated', async () => {
    // Prepare
    const { deps, clock } = makeHarness(fixtureManifest('remediate'));
    const live = driftedPolicyText();
    // the check and the read before the write, then two stale reads after the write
    kmsRestoresDesiredAfter(live, 2);

    // Act
    await checkKey(deps, EVENT_REQUEST);

    // Assess
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(1);
    expect(kmsMock.commandCalls(GetKeyPolicyCommand)).toHaveLength(6);
    expect(onlyFinding()).toMatchObject({ kind: 'remediated', action: 'remediated' });
    expect(clock.sleeps).toEqual([100, 200, 400, 800]);
  });

  it('reports remediation-failed (critical) when the policy never settles, without a second write', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('remediate'));
    const live = driftedPolicyText();
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: live });
    kmsMock.on(DescribeKeyCommand).resolves(describeKeyResponse());
    kmsMock.on(PutKeyPolicyCommand).resolves({});

    // Act
    await checkKey(deps, EVENT_REQUEST);

    // Assess
    expect(awsCalls()).toEqual({
      GetKeyPolicy: 7,
      DescribeKey: 1,
      PutKeyPolicy: 1,
      ListGrants: 1,
      Publish: 1,
    });
    const finding = onlyFinding();
    expect(finding).toMatchObject({
      kind: 'remediation-failed',
      severity: 'critical',
      action: 'failed',
      livePolicy: live,
    });
    expect(finding.details.join('\n')).toMatch(/after 5 reads .*\(5 differing reads/);
  });

  it('ends the guard’s own PutKeyPolicy event as a no-op after re-reading an equivalent policy', async () => {
    // Prepare
    const { deps, logger } = makeHarness(fixtureManifest('remediate'));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });

    // Act
    const outcome = await checkKey(deps, { ...EVENT_REQUEST, actor: GUARD_ACTOR });

    // Assess
    expect(outcome.result).toBe('in-sync');
    expect(awsCalls()).toEqual({ DescribeKey: 1, GetKeyPolicy: 1, ListGrants: 1 });
    expect(logger.messages()).toContain('guard_change_confirmed');
  });

  it('never writes on the guard’s own event even when the re-read still differs (no loop)', async () => {
    // Prepare
    const { deps, logger } = makeHarness(fixtureManifest('remediate'));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

    // Act
    const outcome = await checkKey(deps, { ...EVENT_REQUEST, actor: GUARD_ACTOR });

    // Assess
    expect(outcome.result).toBe('deferred');
    expect(awsCalls()).toEqual({ DescribeKey: 1, GetKeyPolicy: 1, ListGrants: 1 });
    expect(logger.messages()).toContain('guard_event_drift_deferred');
  });

  it('pauses remediating a flapping key whose drift gives nobody new access, with a critical flapping finding', async () => {
    // Prepare
    const harness = makeHarness(fixtureManifest('remediate'));
    const { deps } = harness;
    await recordEarlierReapplies(harness, [50, 30, 10]);
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: narrowedPolicyText() });

    // Act
    await checkKey(deps, EVENT_REQUEST);

    // Assess
    expect(awsCalls()).toEqual({ DescribeKey: 1, GetKeyPolicy: 1, ListGrants: 1, Publish: 1 });
    expect(onlyFinding()).toMatchObject({ kind: 'flapping', severity: 'critical', action: 'failed' });
    expect(onlyFinding().details.join('\n')).toMatch(/gives nobody new access/);
  });

  it('restores widening drift past the flapping limit every time, with a critical flapping finding', async () => {
    // Prepare
    const harness = makeHarness(fixtureManifest('remediate'));
    const { deps, ledger } = harness;
    await recordEarlierReapplies(harness, [50, 30, 10]);
    kmsRestoresDesiredAfter(driftedPolicyText());

    // Act
    await checkKey(deps, EVENT_REQUEST);

    // Assess
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(1);
    expect(onlyFinding()).toMatchObject({ kind: 'flapping', severity: 'critical', action: 'remediated' });
    expect(onlyFinding().details.join('\n')).toMatch(/re-apply number 4 .*fighting the guard/);
    expect(ledger.entries()).toHaveLength(4);
  });

  it('still remediates when the earlier re-applies are outside the flapping window', async () => {
    // Prepare
    const harness = makeHarness(fixtureManifest('remediate'));
    const { deps } = harness;
    await recordEarlierReapplies(harness, [180, 120, 61]);
    kmsRestoresDesiredAfter(driftedPolicyText());

    // Act
    await checkKey(deps, EVENT_REQUEST);

    // Assess
    expect(onlyFinding().kind).toBe('remediated');
  });

  it.each([
    ['an invalid desired document', INVALID_DESIRED, 'invalid-desired', 'high'],
    [
      'a desired document that would lock out the guard and every administrator',
      LOCKOUT_DESIRED,
      'lockout-risk',
      'critical',
    ],
    [
      'a desired document that takes kms:PutKeyPolicy from the guard',
      GUARD_LOCKOUT_DESIRED,
      'lockout-risk',
      'critical',
    ],
  ])('refuses to write %s', async (_situation, desired, kind, severity) => {
    // Prepare
    const { deps } = makeHarness(manifestWithDesired('remediate', desired));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

    // Act
    await checkKey(deps, EVENT_REQUEST);

    // Assess
    expect(awsCalls()).toEqual({ DescribeKey: 1, GetKeyPolicy: 1, ListGrants: 1, Publish: 1 });
    const finding = onlyFinding();
    expect(finding).toMatchObject({ kind, severity, action: 'failed' });
    expect(finding.details.join('\n')).toMatch(/did NOT restore it/);
  });

  it.each([
    ['an AWS managed key', { KeyManager: 'AWS' }, 'key-not-writable', /AWS managed key/],
    [
      'a multi-Region replica',
      { MultiRegion: true, MultiRegionConfiguration: { MultiRegionKeyType: 'REPLICA' } },
      'key-not-writable',
      /multi-Region replica/,
    ],
  ])('reports %s instead of writing to it', async (_situation, metadata, kind, reason) => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('remediate'));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });
    kmsMock.on(DescribeKeyCommand).resolves(describeKeyResponse(metadata));

    // Act
    await checkKey(deps, EVENT_REQUEST);

    // Assess
    expect(awsCalls()).toEqual({ DescribeKey: 1, GetKeyPolicy: 1, ListGrants: 1, Publish: 1 });
    const finding = onlyFinding();
    expect(finding).toMatchObject({ kind, action: 'failed' });
    expect(finding.details.join('\n')).toMatch(reason);
  });

  it.each([
    ['a disabled key', { KeyState: 'Disabled', Enabled: false }, ['EnableKey'], 'high'],
    [
      'a key pending deletion',
      { KeyState: 'PendingDeletion', Enabled: false, DeletionDate: new Date('2026-03-09T10:00:00Z') },
      ['CancelKeyDeletion', 'EnableKey'],
      'critical',
    ],
  ])('brings back %s before restoring its policy', async (_situation, metadata, stateCalls, severity) => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('remediate'));
    kmsRestoresDesiredAfter(driftedPolicyText());
    kmsMock.on(DescribeKeyCommand).resolves(describeKeyResponse(metadata));

    // Act
    const outcome = await checkKey(deps, EVENT_REQUEST);

    // Assess
    const calls = kmsMock.calls().map((call) => call.args[0].constructor.name.replace(/Command$/, ''));
    expect(calls.filter((name) => stateCalls.includes(name) || name === 'PutKeyPolicy')).toEqual([
      ...stateCalls,
      'PutKeyPolicy',
    ]);
    expect(outcome.findings.map((finding) => [finding.kind, finding.severity, finding.action])).toEqual([
      ['key-state-changed', severity, 'remediated'],
      ['remediated', 'critical', 'remediated'],
    ]);
  });

  it('reports remediation-failed when KMS rejects the desired document', async () => {
    // Prepare
    const { deps, ledger } = makeHarness(fixtureManifest('remediate'));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });
    kmsMock.on(DescribeKeyCommand).resolves(describeKeyResponse());
    kmsMock
      .on(PutKeyPolicyCommand)
      .rejects(
        awsError(
          'MalformedPolicyDocumentException',
          'Policy contains a statement with one or more invalid principals.',
        ),
      );

    // Act
    await checkKey(deps, EVENT_REQUEST);

    // Assess
    const finding = onlyFinding();
    expect(finding).toMatchObject({ kind: 'remediation-failed', severity: 'critical', action: 'failed' });
    expect(finding.details.join('\n')).toMatch(/invalid principals/);
    // Write-ahead: the document the guard was about to overwrite was recorded before the write KMS refused.
    expect(ledger.entries().map((entry) => entry.overwritten)).toEqual([driftedPolicyText()]);
  });
});

describe('checkKey for keys the manifest does not manage', () => {
  const CLEAN_UNMANAGED = desiredPolicyAsKmsReturnsIt('payments-data', OTHER_KEY_ARN);
  const PUBLIC_DECRYPT = withStatement(CLEAN_UNMANAGED, {
    Effect: 'Allow',
    Principal: { AWS: '*' },
    Action: 'kms:Decrypt',
    Resource: '*',
  });

  it('ignores a clean one with one log line when unmanagedKeys is ignore, after its aliases, tags and policy', async () => {
    // Prepare
    const { deps, logger } = makeHarness(fixtureManifest('alert', { unmanagedKeys: 'ignore' }));
    kmsMock
      .on(ListAliasesCommand)
      .resolves({ Aliases: [{ AliasName: 'alias/reports', TargetKeyId: KEY_ID }] });
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [{ TagKey: 'team', TagValue: 'growth' }] });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: CLEAN_UNMANAGED });

    // Act
    const outcome = await checkKey(deps, { ...EVENT_REQUEST, keyRef: OTHER_KEY_ARN });

    // Assess
    expect(outcome.result).toBe('ignored');
    expect(awsCalls()).toEqual({ DescribeKey: 1, ListAliases: 1, ListResourceTags: 1, GetKeyPolicy: 1 });
    expect(logger.messages()).toContain('unmanaged_key_ignored');
  });

  it('publishes a LOW unmanaged-key finding for a clean one when unmanagedKeys is report', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert', { unmanagedKeys: 'report' }));
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: CLEAN_UNMANAGED });

    // Act
    await checkKey(deps, { ...EVENT_REQUEST, keyRef: OTHER_KEY_ARN });

    // Assess
    const finding = onlyFinding();
    expect(finding).toMatchObject({
      kind: 'unmanaged-key',
      keyId: OTHER_KEY_ID,
      action: 'none',
      severity: 'low',
    });
    expect(finding.keyName).toBeUndefined();
  });

  it.each([
    [
      'anyone may decrypt without a condition',
      PUBLIC_DECRYPT,
      'critical',
      /Anyone in any AWS account may call kms:Decrypt/,
    ],
    [
      'another account has access and allowedAccounts does not list it',
      withStatement(CLEAN_UNMANAGED, {
        Effect: 'Allow',
        Principal: { AWS: 'arn:aws:iam::999988887777:root' },
        Action: 'kms:Encrypt',
        Resource: '*',
      }),
      'high',
      /KMS302/,
    ],
  ])('reports a risky one even when unmanagedKeys is ignore: %s', async (_case, policy, severity, detail) => {
    // Prepare
    const { deps } = makeHarness(
      fixtureManifest('alert', { unmanagedKeys: 'ignore', allowedAccounts: ['444455556666'] }),
    );
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: policy });

    // Act
    const outcome = await checkKey(deps, { ...EVENT_REQUEST, keyRef: OTHER_KEY_ARN });

    // Assess
    expect(outcome.result).toBe('published');
    const finding = onlyFinding();
    expect(finding).toMatchObject({ kind: 'unmanaged-key', severity, action: 'none', livePolicy: policy });
    expect(finding.title).toMatch(/risky policy/);
    expect(finding.details.join('\n')).toMatch(detail);
  });

  // Since issue 13.8 the policy is read together with DescribeKey (before the check knows the key is AWS
  // managed), so the assertion is no longer "never read" but "never judged": a public policy raises nothing.
  it('skips an AWS managed key no entry manages: its policy, read with DescribeKey, is never judged', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert', { unmanagedKeys: 'report' }));
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
    kmsMock
      .on(DescribeKeyCommand)
      .resolves(describeKeyResponse({ KeyId: OTHER_KEY_ID, Arn: OTHER_KEY_ARN, KeyManager: 'AWS' }));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: PUBLIC_DECRYPT });

    // Act
    const outcome = await checkKey(deps, { ...EVENT_REQUEST, keyRef: OTHER_KEY_ARN });

    // Assess
    expect(outcome.result).toBe('aws-managed');
    expect(kmsMock.commandCalls(GetKeyPolicyCommand)).toHaveLength(1);
    expect(publishedInputs()).toHaveLength(0);
  });
});

describe('checkKey matching by alias and tag', () => {
  it('matches by alias with one ListAliases, cached for the next check', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    kmsMock
      .on(ListAliasesCommand)
      .resolves({ Aliases: [{ AliasName: 'alias/reports', TargetKeyId: OTHER_KEY_ID }] });
    kmsMock
      .on(GetKeyPolicyCommand)
      .resolves({ Policy: desiredPolicyAsKmsReturnsIt('reports', OTHER_KEY_ARN) });

    // Act
    const first = await checkKey(deps, { ...EVENT_REQUEST, keyRef: OTHER_KEY_ARN });
    const second = await checkKey(deps, { ...EVENT_REQUEST, keyRef: OTHER_KEY_ARN });

    // Assess
    expect([first.result, second.result]).toEqual(['in-sync', 'in-sync']);
    expect(awsCalls()).toEqual({ DescribeKey: 2, ListAliases: 1, GetKeyPolicy: 2, ListGrants: 2 });
  });

  it('lists aliases again once the cached list is older than its time to live', async () => {
    // Prepare
    const { deps, clock } = makeHarness(fixtureManifest('alert'));
    kmsMock
      .on(ListAliasesCommand)
      .resolves({ Aliases: [{ AliasName: 'alias/reports', TargetKeyId: OTHER_KEY_ID }] });
    kmsMock
      .on(GetKeyPolicyCommand)
      .resolves({ Policy: desiredPolicyAsKmsReturnsIt('reports', OTHER_KEY_ARN) });

    // Act
    await checkKey(deps, { ...EVENT_REQUEST, keyRef: OTHER_KEY_ARN });
    clock.advance(61_000);
    await checkKey(deps, { ...EVENT_REQUEST, keyRef: OTHER_KEY_ARN });

    // Assess
    expect(kmsMock.commandCalls(ListAliasesCommand)).toHaveLength(2);
  });

  it('matches by tag with ListResourceTags once the walk reaches the tag entry', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
    kmsMock
      .on(ListResourceTagsCommand)
      .resolves({ Tags: [{ TagKey: 'kms-policy-guard', TagValue: 'app-logs' }] });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText(OTHER_KEY_ARN) });

    // Act
    await checkKey(deps, { ...EVENT_REQUEST, keyRef: OTHER_KEY_ARN });

    // Assess
    expect(onlyFinding()).toMatchObject({ kind: 'drift', keyName: 'app-logs' });
    expect(awsCalls()).toEqual({
      DescribeKey: 1,
      ListAliases: 1,
      ListResourceTags: 1,
      GetKeyPolicy: 1,
      ListGrants: 1,
      Publish: 1,
    });
  });

  it.each([
    [
      'with a default location, checked with DescribeKey like any key',
      true,
      { DescribeKey: 1, GetKeyPolicy: 1, ListGrants: 1 },
    ],
    [
      'without one, with one more DescribeKey to learn its ARN',
      false,
      { DescribeKey: 2, GetKeyPolicy: 1, ListGrants: 1 },
    ],
  ])('turns a bare key ID into its ARN %s', async (_situation, withLocation, calls) => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    if (withLocation)
      deps.defaultLocation = { partition: 'aws', region: 'us-west-2', accountId: '111122223333' };
    kmsMock.on(DescribeKeyCommand).resolves(describeKeyResponse());
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });

    // Act
    const outcome = await checkKey(deps, { keyRef: KEY_ID, trigger: 'cli', eventId: 'run-1' });

    // Assess
    expect(outcome).toMatchObject({ result: 'in-sync', keyArn: KEY_ARN, keyId: KEY_ID });
    expect(awsCalls()).toEqual(calls);
  });
});

describe('checkKey when AWS says no', () => {
  it.each([
    ['GetKeyPolicy', 'alert'],
    ['PutKeyPolicy', 'remediate'],
  ] as const)(
    'publishes a critical guard-locked-out finding on AccessDenied from %s',
    async (operation, mode) => {
      // Prepare
      const { deps } = makeHarness(fixtureManifest(mode));
      const denied = awsError(
        'AccessDeniedException',
        `User: guard is not authorized to perform: kms:${operation}`,
      );
      if (operation === 'GetKeyPolicy') kmsMock.on(GetKeyPolicyCommand).rejects(denied);
      else {
        kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });
        kmsMock.on(DescribeKeyCommand).resolves(describeKeyResponse());
        kmsMock.on(PutKeyPolicyCommand).rejects(denied);
      }

      // Act
      const outcome = await checkKey(deps, EVENT_REQUEST);

      // Assess
      expect(outcome.result).toBe('published');
      const finding = onlyFinding();
      expect(finding).toMatchObject({ kind: 'guard-locked-out', severity: 'critical', action: 'failed' });
      expect(finding.title).toContain(`(${operation} denied)`);
      expect(publishedInputs()[0]?.MessageAttributes?.severity?.StringValue).toBe('critical');
    },
  );

  it.each([
    ['NotFoundException', 'Key not found', 'not-found'],
    [
      'KMSInvalidStateException',
      'arn:aws:kms:us-west-2:111122223333:key/1234 is pending deletion.',
      'invalid-state',
    ],
    ['DisabledException', 'Key is disabled', 'disabled'],
  ])('publishes key-unavailable on %s and returns normally', async (name, message, reason) => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    kmsMock.on(GetKeyPolicyCommand).rejects(awsError(name, message));

    // Act
    const outcome = await checkKey(deps, EVENT_REQUEST);

    // Assess
    expect(outcome.result).toBe('published');
    expect(onlyFinding()).toMatchObject({ kind: 'key-unavailable', action: 'none' });
    expect(onlyFinding().title).toContain(`(${reason})`);
    expect(awsCalls()).toEqual({ DescribeKey: 1, GetKeyPolicy: 1, Publish: 1 });
  });

  it('throws a retryable error (nothing published) when throttling outlives the SDK retries', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    kmsMock.on(GetKeyPolicyCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));

    // Act
    const check = checkKey(deps, EVENT_REQUEST);

    // Assess
    await expect(check).rejects.toBeInstanceOf(RetryableAwsError);
    expect(snsMock.commandCalls(PublishCommand)).toHaveLength(0);
  });

  it('throws when Publish fails, after logging the complete finding', async () => {
    // Prepare
    const { deps, logger } = makeHarness(fixtureManifest('alert'));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });
    snsMock.on(PublishCommand).rejects(awsError('InternalErrorException', 'Internal error', 'server', 500));

    // Act
    const check = checkKey(deps, EVENT_REQUEST);

    // Assess
    await expect(check).rejects.toBeInstanceOf(PublishFailedError);
    const line = logger.lines.find((entry) => entry.message === 'finding_publish_failed');
    expect(line?.level).toBe('error');
    expect(line?.attributes.finding).toMatchObject({ kind: 'drift', livePolicy: driftedPolicyText() });
  });
});

describe('checkKey modes and overrides', () => {
  it('uses the request’s mode override over the manifest’s mode', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('remediate'));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

    // Act
    await checkKey(deps, { ...EVENT_REQUEST, modeOverride: 'dry-run' });

    // Assess
    expect(onlyFinding()).toMatchObject({ kind: 'would-remediate', mode: 'dry-run' });
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });

  it('names the manifest entry and its desired document in every finding of a managed key', async () => {
    // Prepare
    const manifest = fixtureManifest('alert');
    const { deps } = makeHarness(manifest);
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

    // Act
    await checkKey(deps, EVENT_REQUEST);

    // Assess
    expect(onlyFinding().policyFile).toBe(
      `test/unit/guard/fixtures/${managedKey(manifest, 'payments-data').policyFile}`,
    );
  });
});

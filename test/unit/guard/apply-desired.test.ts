/**
 * applyDesired through checkKey and the real KMS / SNS adapters over mocked SDK clients: a dry run
 * never writes, a confirmed apply writes once through every remediation safety rule, whatever the
 * manifest's mode for the key.
 */
import { applyDesired } from '../../../src/guard/apply-desired';
import { KeyReferenceError } from '../../../src/guard/errors';
import { LOCKOUT_TEMPLATE } from '../support/policy-templates';
import {
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
  manifestWithDesired,
  narrowedPolicyText,
  OTHER_KEY_ARN,
  PutKeyPolicyCommand,
  recordEarlierReapplies,
  resetMocks,
} from './harness';

/** A desired document without the guard and without any administrator (KMS305/KMS306). */
function lockoutManifest() {
  return manifestWithDesired('alert', LOCKOUT_TEMPLATE);
}

const REQUEST = { keyRef: KEY_ARN, runId: 'cli-1' };

beforeEach(() => resetMocks());

describe('applyDesired without --yes (dry run)', () => {
  it('says it would apply, and never calls PutKeyPolicy, even for a key in alert mode', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

    // Act
    const outcome = await applyDesired(deps, { ...REQUEST, confirm: false });

    // Assess
    expect(outcome).toMatchObject({ status: 'would-apply', mode: 'dry-run', keyId: KEY_ID });
    expect(outcome.finding?.kind).toBe('would-remediate');
    expect(outcome.finding?.trigger).toBe('cli');
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });

  it('says it would refuse a desired policy with lockout risk', async () => {
    // Prepare
    const { deps } = makeHarness(lockoutManifest());
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

    // Act
    const outcome = await applyDesired(deps, { ...REQUEST, confirm: false });

    // Assess
    expect(outcome).toMatchObject({ status: 'would-refuse', refusal: 'lockout-risk' });
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });

  it('answers in-sync with a single read when nothing differs', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });

    // Act
    const outcome = await applyDesired(deps, { ...REQUEST, confirm: false });

    // Assess
    expect(outcome).toEqual({ status: 'in-sync', keyArn: KEY_ARN, keyId: KEY_ID, mode: 'dry-run' });
    expect(kmsMock.calls().map((call) => call.args[0].constructor.name)).toEqual([
      'DescribeKeyCommand',
      'GetKeyPolicyCommand',
      'ListGrantsCommand',
    ]);
  });
});

describe('applyDesired with --yes', () => {
  it('writes the desired policy once, re-reads until stable, and keeps the overwritten document', async () => {
    // Prepare
    const { deps, ledger } = makeHarness(fixtureManifest('alert'));
    const live = driftedPolicyText();
    kmsRestoresDesiredAfter(live);

    // Act
    const outcome = await applyDesired(deps, { ...REQUEST, confirm: true });

    // Assess
    expect(outcome).toMatchObject({ status: 'applied', mode: 'remediate' });
    expect(outcome.finding).toMatchObject({ kind: 'remediated', livePolicy: live });
    const puts = kmsMock.commandCalls(PutKeyPolicyCommand);
    expect(puts).toHaveLength(1);
    expect(puts[0]?.args[0].input).toMatchObject({
      PolicyName: 'default',
      BypassPolicyLockoutSafetyCheck: false,
    });
    expect(kmsMock.commandCalls(GetKeyPolicyCommand)).toHaveLength(4);
    expect(ledger.entries().map((entry) => entry.overwritten)).toEqual([live]);
  });

  it.each([
    ['a desired policy with lockout risk', () => lockoutManifest(), () => undefined, 'lockout-risk'],
    [
      'an AWS managed key',
      () => fixtureManifest('alert'),
      () => kmsMock.on(DescribeKeyCommand).resolves(describeKeyResponse({ KeyManager: 'AWS' })),
      'key-not-writable',
    ],
    [
      'a key its entry says is disabled, and that is disabled',
      () => {
        const manifest = fixtureManifest('alert');
        return { ...manifest, keys: manifest.keys.map((key) => ({ ...key, state: { enabled: false } })) };
      },
      () => kmsMock.on(DescribeKeyCommand).resolves(describeKeyResponse({ KeyState: 'Disabled' })),
      'key-unavailable',
    ],
  ])('refuses %s and never calls PutKeyPolicy', async (_what, manifest, prepare, refusal) => {
    // Prepare
    const { deps } = makeHarness(manifest());
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });
    prepare();

    // Act
    const outcome = await applyDesired(deps, { ...REQUEST, confirm: true });

    // Assess
    expect(outcome).toMatchObject({ status: 'refused', refusal });
    expect(outcome.finding?.kind).toBe(refusal);
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });

  it('refuses a flapping key whose drift gives nobody new access', async () => {
    // Prepare
    const harness = makeHarness(fixtureManifest('alert'));
    const { deps } = harness;
    await recordEarlierReapplies(harness, [30, 20, 10]);
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: narrowedPolicyText() });

    // Act
    const outcome = await applyDesired(deps, { ...REQUEST, confirm: true });

    // Assess
    expect(outcome).toMatchObject({ status: 'refused', refusal: 'flapping' });
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });

  it('reports failed when the written policy never reads back equivalent', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });
    kmsMock.on(DescribeKeyCommand).resolves(describeKeyResponse());
    kmsMock.on(PutKeyPolicyCommand).resolves({});

    // Act
    const outcome = await applyDesired(deps, { ...REQUEST, confirm: true });

    // Assess
    expect(outcome).toMatchObject({ status: 'failed', finding: { kind: 'remediation-failed' } });
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(1);
  });
});

describe('applyDesired: which key', () => {
  it('resolves an alias through ListAliases', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    kmsMock
      .on(ListAliasesCommand)
      .resolves({ Aliases: [{ AliasName: 'alias/payments', TargetKeyId: KEY_ID }] });
    kmsMock.on(DescribeKeyCommand).resolves(describeKeyResponse());
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: desiredPolicyAsKmsReturnsIt() });

    // Act
    const outcome = await applyDesired(deps, { keyRef: 'alias/payments', runId: 'cli-1', confirm: false });

    // Assess
    expect(outcome).toMatchObject({ status: 'in-sync', keyArn: KEY_ARN });
    expect(kmsMock.commandCalls(GetKeyPolicyCommand)[0]?.args[0].input.KeyId).toBe(KEY_ID);
  });

  it('throws KeyReferenceError for an alias that does not exist', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });

    // Act + Assess
    await expect(
      applyDesired(deps, { keyRef: 'alias/nope', runId: 'cli-1', confirm: false }),
    ).rejects.toThrow(KeyReferenceError);
  });

  it('answers unmanaged for a key no manifest entry matches, and never writes it', async () => {
    // Prepare
    const { deps } = makeHarness(fixtureManifest('alert'));
    kmsMock.on(ListAliasesCommand).resolves({ Aliases: [] });
    kmsMock.on(ListResourceTagsCommand).resolves({ Tags: [] });
    kmsMock
      .on(GetKeyPolicyCommand)
      .resolves({ Policy: desiredPolicyAsKmsReturnsIt('payments-data', OTHER_KEY_ARN) });

    // Act
    const outcome = await applyDesired(deps, { keyRef: OTHER_KEY_ARN, runId: 'cli-1', confirm: true });

    // Assess
    expect(outcome.status).toBe('unmanaged');
    expect(kmsMock.commandCalls(PutKeyPolicyCommand)).toHaveLength(0);
  });
});

/**
 * The drift handler as the hub of an organization (docs/architecture.md#the-hub-and-its-spokes), in-process
 * over an in-memory KMS per account and Region: the key's location comes from the CloudTrail record, never
 * the envelope; it is checked with that location's KMS and the spoke role as the guard's principal; a
 * record whose key ARN names another location, an account or Region outside the scope, and a spoke role
 * that cannot be assumed are refused with nothing read or written (the last two with a finding); STS
 * throttling fails the invocation.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { eventBridgeEnvelope, putKeyPolicyRecord } from '../../../dev/world';
import { createDriftHandler } from '../../../src/app/drift-handler';
import { buildGuard } from '../../../src/app/guard-deps';
import type { HubSettings } from '../../../src/app/hub-wiring';
import { StaticDirectory } from '../../../src/aws/organization';
import type { Finding } from '../../../src/core/finding';
import { formatKeyArn, type KeyLocation } from '../../../src/core/key-arn';
import { RetryableAwsError, SpokeAccessError } from '../../../src/guard/errors';
import { InMemoryRemediationLedger } from '../../../src/guard/memory-ledger';
import type { FindingPublisher } from '../../../src/guard/ports';
import { renderDesiredPolicy } from '../../../src/manifest';
import {
  driftedPolicyText,
  fixtureManifest,
  InstantClock,
  KEY_ID,
  managedKey,
  REPO_ROOT,
} from '../guard/harness';
import { InMemoryKms } from '../support/in-memory-kms';

// Not 999988887777: the drifted fixture grants that account, which must stay foreign to every key here.
const HUB = '444455556666';
const MEMBER = '111122223333';
const BROKEN = '222233334444';
const OUTSIDER = '555566667777';
const REGIONS = ['eu-west-1', 'us-east-1'];
const GUARD_ROLE = `arn:aws:iam::${HUB}:role/kms-policy-guard-eu-west-1`;

const CONTEXT = {
  invokedFunctionArn: `arn:aws:lambda:eu-west-1:${HUB}:function:kms-policy-guard-dev-drift`,
  getRemainingTimeInMillis: () => 30_000,
} as unknown as Context;

function at(accountId: string, region: string): KeyLocation {
  return { partition: 'aws', region, accountId };
}

interface HubSetup {
  handler: ReturnType<typeof createDriftHandler>;
  kms: Map<string, InMemoryKms>;
  findings: Finding[];
  assumed: string[];
}

function setup(stsFailure?: Error, manifest = fixtureManifest('alert')): HubSetup {
  const kms = new Map<string, InMemoryKms>();
  const kmsAt = (location: KeyLocation): InMemoryKms => {
    const key = `${location.accountId}#${location.region}`;
    let store = kms.get(key);
    if (!store) {
      store = new InMemoryKms(location);
      kms.set(key, store);
    }
    return store;
  };
  const findings: Finding[] = [];
  const publisher: FindingPublisher = { publish: async (finding) => void findings.push(finding) };
  const assumed: string[] = [];
  const settings: HubSettings = {
    hubAccountId: HUB,
    regions: REGIONS,
    memberAccounts: [MEMBER, BROKEN],
    spokeRoleName: 'kms-policy-guard-spoke',
    sessionName: 'kms-policy-guard-hub',
  };
  const roleOf = (accountId: string) => `arn:aws:iam::${accountId}:role/kms-policy-guard-spoke`;
  const logger = new Logger({ serviceName: 'kms-policy-guard', logLevel: 'CRITICAL' });
  const guard = buildGuard({
    manifest,
    aws: { region: 'eu-west-1' },
    logger,
    repoRoot: REPO_ROOT,
    publisher: () => publisher,
    ledger: new InMemoryRemediationLedger(manifest.flapping),
    clock: new InstantClock(),
    store: kmsAt(at(HUB, 'eu-west-1')),
    guardPrincipalArn: GUARD_ROLE,
    hub: {
      settings,
      directory: new StaticDirectory(settings.memberAccounts, HUB),
      storeFor: kmsAt,
      access: {
        async ensure(accountId) {
          assumed.push(accountId);
          if (stsFailure) throw stsFailure;
          if (accountId === BROKEN)
            throw new SpokeAccessError(
              accountId,
              roleOf(accountId),
              'denied',
              'not authorized',
              'AccessDenied',
            );
        },
        principalFor: (accountId) => (accountId === HUB ? undefined : roleOf(accountId)),
        settings: (base, _accountId, region) => ({ ...base, region }),
      },
    },
  });
  const hub = guard.hub?.scope;
  if (!hub) throw new Error('buildGuard built no hub');
  const handler = createDriftHandler(
    { ...guard.deps, logger, region: 'eu-west-1', guardRoleArn: GUARD_ROLE, hub },
    { timeoutEarlyInMillis: 0 },
  );
  return { handler, kms, findings, assumed };
}

/** A key in the location's KMS whose live policy widened (the manifest's payments-data entry, by key ID). */
function driftedKey(setupped: HubSetup, location: KeyLocation): string {
  const arn = formatKeyArn(location, KEY_ID);
  const key = `${location.accountId}#${location.region}`;
  const store = setupped.kms.get(key) ?? new InMemoryKms(location);
  setupped.kms.set(key, store);
  store.keys.set(KEY_ID, { policy: driftedPolicyText(arn) });
  return arn;
}

function putKeyPolicyEvent(keyArn: string, envelopeAccount?: string): Record<string, unknown> {
  const envelope = eventBridgeEnvelope(
    putKeyPolicyRecord({ keyArn, actorArn: `arn:aws:iam::${MEMBER}:user/mallory`, eventId: 'e-1' }),
  );
  if (envelopeAccount === undefined) delete envelope.account;
  else envelope.account = envelopeAccount;
  return envelope;
}

describe('drift handler as the hub', () => {
  it.each(REGIONS)(
    "checks a member account's key in %s with that account's KMS, whatever the envelope says",
    async (region) => {
      // Prepare
      const hub = setup();
      const keyArn = driftedKey(hub, at(MEMBER, region));

      // Act
      const summary = await hub.handler(putKeyPolicyEvent(keyArn, HUB), CONTEXT);

      // Assess
      expect(summary).toMatchObject({ status: 'published', keyArn, finding: { kind: 'drift' } });
      expect(hub.findings.map((finding) => [finding.kind, finding.account, finding.region])).toEqual([
        ['drift', MEMBER, region],
      ]);
      expect(hub.kms.get(`${MEMBER}#${region}`)?.calls).toMatchObject({ DescribeKey: 1, GetKeyPolicy: 1 });
      expect(hub.kms.get(`${HUB}#eu-west-1`)?.calls).toEqual({});
      expect(hub.assumed).toEqual([MEMBER]);
    },
  );

  it.each([
    [
      'names the spoke role as {{GuardPrincipal}}: in sync',
      `arn:aws:iam::${MEMBER}:role/kms-policy-guard-spoke`,
      [],
    ],
    [
      "names the hub's role pattern, a role the member account does not have: drift",
      `arn:aws:iam::${MEMBER}:role/kms-policy-guard-eu-west-1`,
      ['drift'],
    ],
  ])(
    "renders a member key's desired document with that account's spoke role as the guard: a live policy that %s",
    async (_case, guardInLive, kinds) => {
      // Prepare: the live policy is the shipped document rendered with the given guard principal
      const hub = setup();
      const keyArn = formatKeyArn(at(MEMBER, 'eu-west-1'), KEY_ID);
      const live = renderDesiredPolicy(managedKey(fixtureManifest(), 'payments-data'), {
        ...at(MEMBER, 'eu-west-1'),
        guardPrincipal: guardInLive,
      });
      hub.kms.set(`${MEMBER}#eu-west-1`, new InMemoryKms(at(MEMBER, 'eu-west-1')));
      hub.kms.get(`${MEMBER}#eu-west-1`)?.keys.set(KEY_ID, { policy: live });

      // Act
      const summary = await hub.handler(putKeyPolicyEvent(keyArn), CONTEXT);

      // Assess
      expect(summary).toMatchObject({ status: kinds.length === 0 ? 'in-sync' : 'published', keyArn });
      expect(hub.findings.map((finding) => finding.kind)).toEqual(kinds);
    },
  );

  it('refuses a record whose key ARN names another account than the one that recorded it: nothing read', async () => {
    // Prepare
    const hub = setup();
    const keyArn = driftedKey(hub, at(MEMBER, 'eu-west-1'));
    const forged = putKeyPolicyEvent(keyArn);
    (forged.detail as Record<string, unknown>).recipientAccountId = HUB;

    // Act
    const summary = await hub.handler(forged, CONTEXT);

    // Assess
    expect(summary).toMatchObject({ status: 'rejected', reason: 'location-mismatch' });
    expect([...hub.kms.values()].every((store) => Object.keys(store.calls).length === 0)).toBe(true);
    expect(hub.assumed).toEqual([]);
    expect(hub.findings).toEqual([]);
  });

  it.each([
    ['an account outside the organization', at(OUTSIDER, 'eu-west-1')],
    ['a Region that is not guarded', at(MEMBER, 'ap-southeast-2')],
  ])('refuses a change in %s with a high account-not-guarded finding, nothing read', async (_, location) => {
    // Prepare
    const hub = setup();
    const keyArn = driftedKey(hub, location);

    // Act
    const summary = await hub.handler(putKeyPolicyEvent(keyArn), CONTEXT);

    // Assess
    expect(summary).toMatchObject({ status: 'rejected', reason: 'account-not-guarded' });
    expect(
      hub.findings.map((finding) => [finding.kind, finding.severity, finding.account, finding.region]),
    ).toEqual([['account-not-guarded', 'high', location.accountId, location.region]]);
    expect(hub.findings[0]?.keyArn).toBe(keyArn);
    expect(hub.kms.get(`${location.accountId}#${location.region}`)?.calls).toEqual({});
    expect(hub.assumed).toEqual([]);
  });

  it('refuses a member whose spoke role cannot be assumed with a critical spoke-unreachable finding, nothing read', async () => {
    // Prepare
    const hub = setup();
    const keyArn = driftedKey(hub, at(BROKEN, 'us-east-1'));

    // Act
    const summary = await hub.handler(putKeyPolicyEvent(keyArn), CONTEXT);

    // Assess
    expect(summary).toMatchObject({ status: 'rejected', reason: 'spoke-unreachable' });
    expect(hub.findings.map((finding) => [finding.kind, finding.severity, finding.account])).toEqual([
      ['spoke-unreachable', 'critical', BROKEN],
    ]);
    expect(hub.findings[0]?.details.join(' ')).toMatch(/kms-policy-guard-spoke \(denied\)/);
    expect(hub.kms.get(`${BROKEN}#us-east-1`)?.calls).toEqual({});
  });

  it('fails the invocation when STS throttles, so Lambda retries the event', async () => {
    // Prepare
    const hub = setup(new RetryableAwsError('AssumeRole', 'Rate exceeded', 'Throttling'));
    const keyArn = driftedKey(hub, at(MEMBER, 'eu-west-1'));

    // Act
    const outcome = await hub.handler(putKeyPolicyEvent(keyArn), CONTEXT).catch((error: unknown) => error);

    // Assess
    expect(outcome).toBeInstanceOf(RetryableAwsError);
    expect(hub.findings).toEqual([]);
  });

  it('applies an entry scoped to a member account to its keys only: the same key ID in the hub is unmanaged', async () => {
    // Prepare
    const manifest = fixtureManifest('alert');
    const scoped = {
      ...manifest,
      keys: manifest.keys.map((entry) =>
        entry.name === 'payments-data' ? { ...entry, accounts: [MEMBER] } : entry,
      ),
    };
    const hub = setup(undefined, scoped);
    const memberKey = driftedKey(hub, at(MEMBER, 'eu-west-1'));
    const hubKey = driftedKey(hub, at(HUB, 'eu-west-1'));

    // Act
    await hub.handler(putKeyPolicyEvent(memberKey), CONTEXT);
    await hub.handler(putKeyPolicyEvent(hubKey), CONTEXT);

    // Assess
    expect(hub.findings.map((finding) => [finding.account, finding.kind, finding.keyName])).toEqual([
      [MEMBER, 'drift', 'payments-data'],
      [HUB, 'unmanaged-key', undefined],
    ]);
  });

  it("checks the hub's own keys with its own credentials (no AssumeRole)", async () => {
    // Prepare
    const hub = setup();
    const keyArn = driftedKey(hub, at(HUB, 'eu-west-1'));

    // Act
    const summary = await hub.handler(putKeyPolicyEvent(keyArn), CONTEXT);

    // Assess
    expect(summary).toMatchObject({ status: 'published', keyArn });
    expect(hub.kms.get(`${HUB}#eu-west-1`)?.calls).toMatchObject({ DescribeKey: 1 });
    expect(hub.findings.map((finding) => finding.account)).toEqual([HUB]);
  });
});

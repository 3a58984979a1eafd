/**
 * The hub's records in the compliance view (docs/architecture.md#security-hub): routeLocation tells the
 * compliance sink a scope refusal (kept in the hub's own account and first Region, about the member account)
 * and, for an audit unit that reached a member account, that its spoke role works again; nothing otherwise.
 */
import type { ComplianceRecord } from '../../../src/core/compliance';
import type { Finding } from '../../../src/core/finding';
import type { KeyLocation } from '../../../src/core/key-arn';
import type { CachingKeyStore } from '../../../src/guard/caching-store';
import type { ComplianceSink } from '../../../src/guard/compliance';
import { SpokeAccessError } from '../../../src/guard/errors';
import { type HubScope, type RouteRequest, routeLocation } from '../../../src/guard/hub';
import { InMemoryOutbox } from '../../../src/guard/memory-state';

const HUB_ACCOUNT = '999988887777';
const MEMBER = '444455556666';
const HOME: KeyLocation = { partition: 'aws', region: 'us-east-1', accountId: HUB_ACCOUNT };

function setup(options: { unreachable?: boolean } = {}) {
  const records: ComplianceRecord[] = [];
  const compliance: ComplianceSink = {
    record: (record) => void records.push(record),
    flush: async () => undefined,
  };
  const published: Finding[] = [];
  const hub: HubScope = {
    hubAccountId: HUB_ACCOUNT,
    regions: ['us-east-1', 'eu-west-1'],
    directory: {
      accounts: async () => [MEMBER],
      isGuarded: async (accountId) => accountId === MEMBER || accountId === HUB_ACCOUNT,
      ousOf: async () => [],
    },
    principalFor: (accountId) =>
      accountId === HUB_ACCOUNT ? undefined : `arn:aws:iam::${accountId}:role/spoke`,
    at: async (location) => {
      if (options.unreachable && location.accountId === MEMBER) {
        throw new SpokeAccessError(
          MEMBER,
          `arn:aws:iam::${MEMBER}:role/spoke`,
          'denied',
          'not authorized',
          'AccessDenied',
        );
      }
      return { store: {} as CachingKeyStore };
    },
  };
  const deps = {
    publisher: { publish: async (finding: Finding) => void published.push(finding) },
    outbox: new InMemoryOutbox(),
    clock: { now: () => new Date('2026-05-05T08:00:00.000Z') },
    logger: { warn: () => undefined, error: () => undefined },
    compliance,
  };
  return { hub, deps, records, published };
}

function request(accountId: string, region: string, trigger: RouteRequest['trigger']): RouteRequest {
  return { location: { partition: 'aws', region, accountId }, eventId: 'e-1', trigger };
}

describe('routeLocation → compliance records', () => {
  it("records a spoke-unreachable refusal about the member's account and Region, kept in the hub's account and first Region", async () => {
    // Prepare
    const { hub, deps, records } = setup({ unreachable: true });

    // Act
    const route = await routeLocation(hub, deps, request(MEMBER, 'eu-west-1', 'event'));

    // Assess
    expect(route.outcome).toBe('refused');
    expect(records).toEqual([
      expect.objectContaining({
        keyId: '*',
        keyArn: `arn:aws:kms:eu-west-1:${MEMBER}:key/*`,
        location: { partition: 'aws', region: 'eu-west-1', accountId: MEMBER },
        home: HOME,
        checked: [],
        findings: [expect.objectContaining({ kind: 'spoke-unreachable' })],
      }),
    ]);
  });

  it('records an account-not-guarded refusal the same way', async () => {
    // Prepare
    const { hub, deps, records } = setup();

    // Act
    await routeLocation(hub, deps, request('123456789012', 'eu-west-1', 'event'));

    // Assess
    expect(records.map((record) => [record.home, record.findings.map((finding) => finding.kind)])).toEqual([
      [HOME, ['account-not-guarded']],
    ]);
  });

  it('records, for an audit unit that reached a member account, its spoke access as checked (which closes an open spoke-unreachable)', async () => {
    // Prepare
    const { hub, deps, records } = setup();

    // Act
    const route = await routeLocation(hub, deps, request(MEMBER, 'eu-west-1', 'audit'));

    // Assess
    expect(route.outcome).toBe('served');
    expect(records).toEqual([
      expect.objectContaining({
        location: { partition: 'aws', region: 'eu-west-1', accountId: MEMBER },
        home: HOME,
        findings: [],
        checked: ['spoke-access'],
      }),
    ]);
  });

  it.each([
    ['an event served in a member account', MEMBER, 'event'],
    ["an audit unit of the hub's own account", HUB_ACCOUNT, 'audit'],
  ] as const)('records nothing for %s', async (_, accountId, trigger) => {
    // Prepare
    const { hub, deps, records } = setup();

    // Act
    await routeLocation(hub, deps, request(accountId, 'us-east-1', trigger));

    // Assess
    expect(records).toEqual([]);
  });
});

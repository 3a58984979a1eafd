/**
 * The hub's account directory over a mocked Organizations client: every page of ListAccounts, active
 * accounts only, cached for 10 minutes; OUs from ListParents up to the root, cached; the static list
 * without Organizations, which cannot decide OU scopes and says so.
 */
import { ListAccountsCommand, ListParentsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { mockClient } from 'aws-sdk-client-mock';
import { OrganizationsDirectory, StaticDirectory } from '../../../src/aws/organization';
import { OrganizationLookupError, RetryableAwsError } from '../../../src/guard/errors';

const orgMock = mockClient(OrganizationsClient);
const HUB = '999988887777';

beforeEach(() => {
  orgMock.reset();
});

function directory(now: { ms: number }): OrganizationsDirectory {
  return new OrganizationsDirectory(new OrganizationsClient({ region: 'us-east-1' }), HUB, {
    now: () => now.ms,
  });
}

describe('OrganizationsDirectory', () => {
  it('lists every page of active accounts, leaves out suspended ones and the hub, and asks again after 10 minutes', async () => {
    // Prepare
    const now = { ms: 0 };
    orgMock
      .on(ListAccountsCommand, {})
      .resolves({
        Accounts: [
          { Id: '111122223333', State: 'ACTIVE' },
          { Id: HUB, Status: 'ACTIVE' },
        ],
        NextToken: 'p2',
      })
      .on(ListAccountsCommand, { NextToken: 'p2' })
      .resolves({
        Accounts: [
          { Id: '444455556666', State: 'SUSPENDED' },
          { Id: '777788889999', State: 'ACTIVE' },
        ],
      });
    const accounts = directory(now);

    // Act
    const listed = await accounts.accounts();
    const guarded = await Promise.all(
      ['111122223333', '444455556666', HUB, '000000000000'].map((id) => accounts.isGuarded(id)),
    );
    const callsWithinTtl = orgMock.commandCalls(ListAccountsCommand).length;
    now.ms = 11 * 60_000;
    await accounts.isGuarded('111122223333');

    // Assess
    expect(listed).toEqual(['111122223333', '777788889999']);
    expect(guarded).toEqual([true, false, true, false]);
    expect(callsWithinTtl).toBe(2);
    expect(orgMock.commandCalls(ListAccountsCommand)).toHaveLength(4);
  });

  it('walks ListParents from the account up to the root, nearest OU first, each parent asked once', async () => {
    // Prepare
    orgMock
      .on(ListParentsCommand, { ChildId: '111122223333' })
      .resolves({ Parents: [{ Id: 'ou-ab12-prod0001', Type: 'ORGANIZATIONAL_UNIT' }] })
      .on(ListParentsCommand, { ChildId: 'ou-ab12-prod0001' })
      .resolves({ Parents: [{ Id: 'ou-ab12-work0001', Type: 'ORGANIZATIONAL_UNIT' }] })
      .on(ListParentsCommand, { ChildId: 'ou-ab12-work0001' })
      .resolves({ Parents: [{ Id: 'r-ab12', Type: 'ROOT' }] });
    const accounts = directory({ ms: 0 });

    // Act
    const ous = await accounts.ousOf('111122223333');
    await accounts.ousOf('111122223333');

    // Assess
    expect(ous).toEqual(['ou-ab12-prod0001', 'ou-ab12-work0001']);
    expect(orgMock.commandCalls(ListParentsCommand)).toHaveLength(3);
  });

  it('throws throttling as retryable and a refusal as an OrganizationLookupError, never caching either', async () => {
    // Prepare
    const throttled = Object.assign(new Error('slow down'), {
      name: 'TooManyRequestsException',
      $metadata: { httpStatusCode: 400 },
    });
    const denied = Object.assign(new Error('not the management account'), {
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    orgMock.on(ListAccountsCommand).rejectsOnce(throttled).rejectsOnce(denied).resolves({ Accounts: [] });
    const accounts = directory({ ms: 0 });

    // Act
    const first = await accounts.accounts().catch((error: unknown) => error);
    const second = await accounts.accounts().catch((error: unknown) => error);
    const third = await accounts.accounts();

    // Assess
    expect(first).toBeInstanceOf(RetryableAwsError);
    expect(second).toBeInstanceOf(OrganizationLookupError);
    expect(third).toEqual([]);
  });
});

describe('StaticDirectory', () => {
  it('guards the listed accounts and the hub, and refuses to guess OUs', async () => {
    // Prepare
    const accounts = new StaticDirectory(['111122223333', HUB], HUB);

    // Act
    const listed = await accounts.accounts();
    const ous = await accounts.ousOf('111122223333').catch((error: unknown) => error);

    // Assess
    expect(listed).toEqual(['111122223333']);
    expect(await accounts.isGuarded(HUB)).toBe(true);
    expect(await accounts.isGuarded('444455556666')).toBe(false);
    expect(ous).toBeInstanceOf(OrganizationLookupError);
    expect(String(ous)).toMatch(/ORGANIZATION_ID/);
  });
});

describe('OrganizationsDirectory.create (the client imported and built on the first call)', () => {
  it('lists the accounts and OUs through the client it imports', async () => {
    // Prepare
    orgMock.on(ListAccountsCommand).resolves({ Accounts: [{ Id: '111122223333', State: 'ACTIVE' }] });
    orgMock.on(ListParentsCommand).resolves({ Parents: [{ Id: 'r-root', Type: 'ROOT' }] });
    const organization = OrganizationsDirectory.create({ region: 'us-east-1' }, HUB);

    // Act
    const accounts = await organization.accounts();
    const ous = await organization.ousOf('111122223333');

    // Assess
    expect(accounts).toEqual(['111122223333']);
    expect(ous).toEqual([]);
    expect(orgMock.commandCalls(ListAccountsCommand)).toHaveLength(1);
    expect(orgMock.commandCalls(ListParentsCommand)).toHaveLength(1);
  });
});

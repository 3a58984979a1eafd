/**
 * Which accounts the hub guards (docs/architecture.md#the-hub-and-its-spokes), as the OrganizationDirectory
 * port: with an organization ID, AWS Organizations (`ListAccounts`, every page, active accounts only;
 * `ListParents` from the account up to the root for OU scopes in the manifest), both cached for 10 minutes
 * per container; otherwise the static list of the `memberAccounts` parameter. The hub's own account is
 * always guarded. Both calls need the management account or a delegated administrator.
 *
 * The Organizations client (`OrganizationsDirectory.create`) is imported and built on the first call: in the Lambda
 * bundles a chunk of its own, loaded only by a hub with an organization ID (docs/architecture.md#what-loads-when).
 */
import type { ListAccountsCommandOutput, OrganizationsClient } from '@aws-sdk/client-organizations';
import { loadedOnFirstUse } from '../core/built-on-first-use';
import { OrganizationLookupError } from '../guard/errors';
import type { OrganizationDirectory } from '../guard/ports';
import { AWS_RETRY_CONFIG, type AwsClientSettings } from './client-settings';
import { toOrganizationsError } from './errors';

/** How long the account list and each account's OUs are kept (accounts join and move rarely). */
export const ORGANIZATION_CACHE_TTL_MS = 10 * 60_000;

/** An OU path never has more levels than Organizations allows (5) plus the account itself. */
const MAX_DEPTH = 8;

type OrganizationsSender = Pick<OrganizationsClient, 'send'>;

interface Timed<T> {
  value: Promise<T>;
  until: number;
}

export class OrganizationsDirectory implements OrganizationDirectory {
  private accountList: Timed<Set<string>> | undefined;
  private readonly parents = new Map<string, Timed<string[]>>();
  private readonly now: () => number;
  /** The client, loaded on the first call (once; a failed import is tried again on the next). */
  private readonly sender: () => Promise<OrganizationsSender>;

  constructor(
    /** The client, or how to get it on the first call. */
    client: OrganizationsSender | (() => Promise<OrganizationsSender>),
    private readonly hubAccountId: string | undefined,
    options: { now?: () => number; ttlMs?: number } = {},
  ) {
    this.sender = loadedOnFirstUse(client);
    this.now = options.now ?? Date.now;
    this.ttlMs = options.ttlMs ?? ORGANIZATION_CACHE_TTL_MS;
  }

  private readonly ttlMs: number;

  /** Organizations is a global service served from us-east-1 (aws partition). */
  static create(settings: AwsClientSettings, hubAccountId: string | undefined): OrganizationsDirectory {
    return new OrganizationsDirectory(async () => {
      const { OrganizationsClient } = await import('./organizations-sdk');
      return new OrganizationsClient({ ...AWS_RETRY_CONFIG, ...settings });
    }, hubAccountId);
  }

  async accounts(): Promise<string[]> {
    return [...(await this.activeAccounts())].filter((account) => account !== this.hubAccountId).sort();
  }

  async isGuarded(accountId: string): Promise<boolean> {
    return accountId === this.hubAccountId || (await this.activeAccounts()).has(accountId);
  }

  async ousOf(accountId: string): Promise<string[]> {
    const ous: string[] = [];
    let child = accountId;
    for (let depth = 0; depth < MAX_DEPTH; depth += 1) {
      const parent = await this.parentOf(child);
      if (parent === undefined) return ous;
      ous.push(parent);
      child = parent;
    }
    return ous;
  }

  private activeAccounts(): Promise<Set<string>> {
    if (this.accountList && this.now() < this.accountList.until) return this.accountList.value;
    const entry: Timed<Set<string>> = { value: this.listAccounts(), until: this.now() + this.ttlMs };
    this.accountList = entry;
    entry.value.catch(() => {
      if (this.accountList === entry) this.accountList = undefined;
    });
    return entry.value;
  }

  private async listAccounts(): Promise<Set<string>> {
    const accounts = new Set<string>();
    let nextToken: string | undefined;
    do {
      let page: ListAccountsCommandOutput;
      try {
        const [client, { ListAccountsCommand }] = await Promise.all([
          this.sender(),
          import('./organizations-sdk'),
        ]);
        page = await client.send(new ListAccountsCommand(nextToken ? { NextToken: nextToken } : {}));
      } catch (error) {
        throw toOrganizationsError(error, 'ListAccounts');
      }
      for (const account of page.Accounts ?? []) {
        // `State` replaces the deprecated `Status`; an account leaving or suspended is not guarded.
        const state = account.State ?? account.Status;
        if (account.Id && state === 'ACTIVE') accounts.add(account.Id);
      }
      nextToken = page.NextToken;
    } while (nextToken);
    return accounts;
  }

  /** The OU above an account or OU, or undefined at the root. */
  private async parentOf(childId: string): Promise<string | undefined> {
    const cached = this.parents.get(childId);
    let entry: Timed<string[]>;
    if (cached && this.now() < cached.until) entry = cached;
    else {
      entry = { value: this.listParents(childId), until: this.now() + this.ttlMs };
      this.parents.set(childId, entry);
      entry.value.catch(() => {
        if (this.parents.get(childId) === entry) this.parents.delete(childId);
      });
    }
    const [parent] = await entry.value;
    return parent;
  }

  private async listParents(childId: string): Promise<string[]> {
    try {
      const [client, { ListParentsCommand }] = await Promise.all([
        this.sender(),
        import('./organizations-sdk'),
      ]);
      const output = await client.send(new ListParentsCommand({ ChildId: childId }));
      return (output.Parents ?? [])
        .filter((parent) => parent.Type === 'ORGANIZATIONAL_UNIT' && parent.Id !== undefined)
        .map((parent) => parent.Id ?? '');
    } catch (error) {
      throw toOrganizationsError(error, 'ListParents');
    }
  }
}

/** The `memberAccounts` list, without Organizations: OU scopes cannot be decided. */
export class StaticDirectory implements OrganizationDirectory {
  private readonly members: ReadonlySet<string>;

  constructor(
    members: readonly string[],
    private readonly hubAccountId: string | undefined,
  ) {
    this.members = new Set(members);
  }

  async accounts(): Promise<string[]> {
    return [...this.members].filter((account) => account !== this.hubAccountId).sort();
  }

  async isGuarded(accountId: string): Promise<boolean> {
    return accountId === this.hubAccountId || this.members.has(accountId);
  }

  async ousOf(accountId: string): Promise<string[]> {
    throw new OrganizationLookupError(
      'ListParents',
      `the OUs of account ${accountId} are unknown: a manifest scope names an OU, which needs the organizationId parameter (ORGANIZATION_ID)`,
      undefined,
    );
  }
}

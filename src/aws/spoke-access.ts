/**
 * Credentials for the accounts the hub guards (docs/architecture.md#the-hub-and-its-spokes): the hub's own
 * account uses the function's own credentials; every other account is reached through its spoke role,
 * `arn:<partition>:iam::<account>:role/<spokeRoleName>`, assumed with STS (the external ID when one is
 * configured, a session name that names the guard). Credentials are cached per account until five
 * minutes before they expire, so one AssumeRole per account serves every client and Region.
 *
 * The port is a credentials provider per account (`credentials(accountId)`), so any SDK client can be
 * built for any account and Region through the same path (`clientsFor`): the KMS clients of the check,
 * and the Security Hub sink's `(accountId, region) => SecurityHubClient`.
 *
 * The STS client (`SpokeAccess.create`) is imported and built on the first AssumeRole, not at init: every audit and
 * audit worker builds a SpokeAccess, and one that guards its own account only never assumes a role; in the Lambda
 * bundles the STS client is a chunk of its own (docs/architecture.md#what-loads-when).
 */
import type { AssumeRoleCommandInput, AssumeRoleCommandOutput, STSClient } from '@aws-sdk/client-sts';
import { loadedOnFirstUse } from '../core/built-on-first-use';
import { spokeRoleArn } from '../core/spoke-names';
import type { AccountAccess } from '../guard/ports';
import { AWS_RETRY_CONFIG, type AwsClientSettings } from './client-settings';
import { toStsError } from './errors';

/** What an SDK client's `credentials` setting accepts (structurally the SDK's own identity). */
export interface AccountCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export type AccountCredentialsProvider = () => Promise<AccountCredentials>;

/** Credentials are renewed this long before they expire (the SDK's own margin is 5 minutes too). */
export const CREDENTIALS_REFRESH_MARGIN_MS = 5 * 60_000;

/** The spoke role allows sessions of at most 1 h (deploy/spoke.yml MaxSessionDuration). */
const SESSION_SECONDS = 3600;

type StsSender = Pick<STSClient, 'send'>;

export interface SpokeAccessOptions {
  /** The STS client, or how to get it on the first AssumeRole (once). */
  sts: StsSender | (() => Promise<StsSender>);
  partition: string;
  roleName: string;
  /** `sts:ExternalId` the spoke roles require (deploy/spoke.yml `ExternalId`). */
  externalId?: string;
  /** Names the guard in every member account's CloudTrail (`assumed-role/<spoke role>/<session>`). */
  sessionName: string;
  /** The hub's own account: its own credentials, never an AssumeRole. */
  ownAccountId?: string;
  now?: () => number;
}

interface Cached {
  credentials: Promise<AccountCredentials>;
  /** Epoch ms after which the credentials are renewed; Infinity while the request is in flight. */
  renewAt: number;
}

export class SpokeAccess implements AccountAccess {
  private readonly cache = new Map<string, Cached>();
  private readonly now: () => number;
  /** The STS client, loaded on the first AssumeRole (once; a failed import is tried again on the next). */
  private readonly stsClient: () => Promise<StsSender>;

  constructor(private readonly options: SpokeAccessOptions) {
    this.now = options.now ?? Date.now;
    this.stsClient = loadedOnFirstUse(options.sts);
  }

  /** A SpokeAccess with its own STS client (one per container), imported and built on the first AssumeRole. */
  static create(settings: AwsClientSettings, options: Omit<SpokeAccessOptions, 'sts'>): SpokeAccess {
    return new SpokeAccess({
      ...options,
      sts: async () => {
        const { STSClient } = await import('./sts-sdk');
        return new STSClient({ ...AWS_RETRY_CONFIG, ...settings });
      },
    });
  }

  roleArn(accountId: string): string {
    return spokeRoleArn(this.options.partition, accountId, this.options.roleName);
  }

  isOwnAccount(accountId: string): boolean {
    return accountId === this.options.ownAccountId;
  }

  /** The principal the guard acts as in the account: its spoke role, or (own account) undefined. */
  principalFor(accountId: string): string | undefined {
    return this.isOwnAccount(accountId) ? undefined : this.roleArn(accountId);
  }

  /**
   * A credentials provider for the account, or undefined for the hub's own account (the client's default
   * chain). The provider assumes the spoke role on first use and again five minutes before expiry.
   */
  credentials(accountId: string): AccountCredentialsProvider | undefined {
    if (this.isOwnAccount(accountId)) return undefined;
    return () => this.current(accountId);
  }

  /** Assumes the spoke role now (or finds it cached): SpokeAccessError when it cannot be assumed. */
  async ensure(accountId: string): Promise<void> {
    if (!this.isOwnAccount(accountId)) await this.current(accountId);
  }

  /** Client settings for one account and Region (the base's endpoint and retry settings kept). */
  settings(base: AwsClientSettings, accountId: string, region: string): AwsClientSettings {
    const credentials = this.credentials(accountId);
    return { ...base, region, ...(credentials ? { credentials } : {}) };
  }

  private current(accountId: string): Promise<AccountCredentials> {
    const cached = this.cache.get(accountId);
    if (cached && this.now() < cached.renewAt) return cached.credentials;
    const entry: Cached = { credentials: this.assume(accountId), renewAt: Number.POSITIVE_INFINITY };
    this.cache.set(accountId, entry);
    entry.credentials.then(
      (credentials) => {
        const expires = credentials.expiration?.getTime() ?? this.now() + SESSION_SECONDS * 1000;
        entry.renewAt = expires - CREDENTIALS_REFRESH_MARGIN_MS;
      },
      // A failure is never cached: the next check (or Lambda's retry) asks STS again.
      () => {
        if (this.cache.get(accountId) === entry) this.cache.delete(accountId);
      },
    );
    return entry.credentials;
  }

  private async assume(accountId: string): Promise<AccountCredentials> {
    const roleArn = this.roleArn(accountId);
    const input: AssumeRoleCommandInput = {
      RoleArn: roleArn,
      RoleSessionName: this.options.sessionName,
      DurationSeconds: SESSION_SECONDS,
    };
    if (this.options.externalId) input.ExternalId = this.options.externalId;
    let output: AssumeRoleCommandOutput;
    try {
      const [sts, { AssumeRoleCommand }] = await Promise.all([this.stsClient(), import('./sts-sdk')]);
      output = await sts.send(new AssumeRoleCommand(input));
    } catch (error) {
      throw toStsError(error, accountId, roleArn);
    }
    const credentials = output.Credentials;
    if (!credentials?.AccessKeyId || !credentials.SecretAccessKey) {
      throw toStsError(
        Object.assign(new Error('AssumeRole returned no credentials'), { name: 'ValidationError' }),
        accountId,
        roleArn,
      );
    }
    const result: AccountCredentials = {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
    };
    if (credentials.SessionToken) result.sessionToken = credentials.SessionToken;
    if (credentials.Expiration) result.expiration = credentials.Expiration;
    return result;
  }
}

/**
 * A factory of SDK clients per account and Region through one AccountAccess, each client created once:
 * `clientsFor(access, base, (settings) => new SecurityHubClient(settings))(accountId, region)`.
 */
export function clientsFor<Client>(
  access: Pick<SpokeAccess, 'settings'> | undefined,
  base: AwsClientSettings,
  make: (settings: AwsClientSettings) => Client,
): (accountId: string, region: string) => Client {
  const clients = new Map<string, Client>();
  return (accountId, region) => {
    const key = `${accountId}#${region}`;
    let client = clients.get(key);
    if (client === undefined) {
      client = make(access ? access.settings(base, accountId, region) : { ...base, region });
      clients.set(key, client);
    }
    return client;
  };
}

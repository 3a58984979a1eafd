/**
 * An in-memory KMS behind the guard's KeyPolicyStore port, for unit tests: keys with a policy, state,
 * tags, grants and rotation; aliases; a count of calls by operation; GetKeyPolicy calls in flight; and
 * failures on request (`operation:keyId` or `operation:*`). Unknown keys answer NotFoundException, as KMS.
 */
import type { KeyGrant } from '../../../src/core/finding';
import type { KeyDescription } from '../../../src/core/key';
import { formatKeyArn, type KeyLocation } from '../../../src/core/key-arn';
import { KeyUnavailableError, type KmsOperation } from '../../../src/guard/errors';
import type { KeyPolicyStore } from '../../../src/guard/ports';

export interface InMemoryKey {
  policy: string;
  manager?: 'CUSTOMER' | 'AWS';
  state?: string;
  deletionDate?: string;
  multiRegion?: boolean;
  multiRegionType?: string;
  tags?: Record<string, string>;
  grants?: KeyGrant[];
  rotation?: boolean;
}

export class InMemoryKms implements KeyPolicyStore {
  readonly calls: Record<string, number> = {};
  /** Every mutating call, in order: `PutKeyPolicy:<keyId>`, `RevokeGrant:<keyId>:<grantId>`, … */
  readonly writes: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  /** `operation:keyId` or `operation:*` -> error to throw (after counting the call). */
  readonly failures = new Map<string, Error>();
  /** Milliseconds GetKeyPolicy takes (0: answers in the same tick). */
  readDelayMs = 0;

  constructor(
    readonly location: KeyLocation,
    readonly keys: Map<string, InMemoryKey> = new Map(),
    readonly aliases: Map<string, string> = new Map(),
  ) {}

  arnOf(keyId: string): string {
    return formatKeyArn(this.location, keyId);
  }

  private count(operation: string, keyId: string): void {
    this.calls[operation] = (this.calls[operation] ?? 0) + 1;
    const failure = this.failures.get(`${operation}:${keyId}`) ?? this.failures.get(`${operation}:*`);
    if (failure) throw failure;
  }

  /** The key behind an ID or ARN; NotFoundException like KMS when there is none. */
  key(operation: KmsOperation, keyRef: string): InMemoryKey {
    const keyId = keyRef.slice(keyRef.lastIndexOf('/') + 1);
    this.count(operation, keyId);
    const key = this.keys.get(keyId);
    if (!key)
      throw new KeyUnavailableError(operation, keyId, 'not-found', 'no such key', 'NotFoundException');
    return key;
  }

  async getKeyPolicy(keyId: string): Promise<string> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.readDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.readDelayMs));
      return this.key('GetKeyPolicy', keyId).policy;
    } finally {
      this.inFlight -= 1;
    }
  }

  async putKeyPolicy(keyId: string, policy: string): Promise<void> {
    this.key('PutKeyPolicy', keyId).policy = policy;
    this.writes.push(`PutKeyPolicy:${keyId}`);
  }

  async describeKey(keyId: string): Promise<KeyDescription> {
    const key = this.key('DescribeKey', keyId);
    const id = keyId.slice(keyId.lastIndexOf('/') + 1);
    const description: KeyDescription = {
      keyId: id,
      arn: this.arnOf(id),
      state: key.state ?? 'Enabled',
      manager: key.manager ?? 'CUSTOMER',
      multiRegion: key.multiRegion === true,
    };
    if (key.multiRegionType) description.multiRegionType = key.multiRegionType;
    if (key.deletionDate) description.deletionDate = key.deletionDate;
    return description;
  }

  async listResourceTags(keyId: string): Promise<Record<string, string>> {
    return { ...(this.key('ListResourceTags', keyId).tags ?? {}) };
  }

  async listKeyIds(): Promise<string[]> {
    this.count('ListKeys', '*');
    return [...this.keys.keys()];
  }

  async listAliases(): Promise<Map<string, string>> {
    this.count('ListAliases', '*');
    return new Map(this.aliases);
  }

  async listGrants(keyId: string): Promise<KeyGrant[]> {
    return (this.key('ListGrants', keyId).grants ?? []).map((grant) => ({ ...grant }));
  }

  async revokeGrant(keyId: string, grantId: string): Promise<void> {
    const key = this.key('RevokeGrant', keyId);
    key.grants = (key.grants ?? []).filter((grant) => grant.grantId !== grantId);
    this.writes.push(`RevokeGrant:${keyId}:${grantId}`);
  }

  async cancelKeyDeletion(keyId: string): Promise<void> {
    const key = this.key('CancelKeyDeletion', keyId);
    key.state = 'Disabled';
    delete key.deletionDate;
    this.writes.push(`CancelKeyDeletion:${keyId}`);
  }

  async enableKey(keyId: string): Promise<void> {
    this.key('EnableKey', keyId).state = 'Enabled';
    this.writes.push(`EnableKey:${keyId}`);
  }

  async disableKey(keyId: string): Promise<void> {
    this.key('DisableKey', keyId).state = 'Disabled';
    this.writes.push(`DisableKey:${keyId}`);
  }

  async getKeyRotationStatus(keyId: string): Promise<boolean> {
    return this.key('GetKeyRotationStatus', keyId).rotation === true;
  }

  async setKeyRotation(keyId: string, enabled: boolean): Promise<void> {
    this.key(enabled ? 'EnableKeyRotation' : 'DisableKeyRotation', keyId).rotation = enabled;
    this.writes.push(`${enabled ? 'EnableKeyRotation' : 'DisableKeyRotation'}:${keyId}`);
  }
}

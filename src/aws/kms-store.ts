/**
 * KeyPolicyStore backed by the KMS client. Every SDK exception leaves here as a typed guard error
 * (src/guard/errors.ts) so the use case decides what it means.
 */
import {
  CancelKeyDeletionCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  GetKeyPolicyCommand,
  GetKeyRotationStatusCommand,
  type GrantListEntry,
  type KMSClient,
  ListAliasesCommand,
  type ListAliasesCommandOutput,
  ListGrantsCommand,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
  RevokeGrantCommand,
} from '@aws-sdk/client-kms';
import type { KeyGrant } from '../core/finding';
import type { KeyDescription } from '../core/key';
import { AwsCallError, type KmsOperation } from '../guard/errors';
import type { KeyPolicyStore } from '../guard/ports';
import { toKmsError } from './errors';

/** KMS key policies have exactly one name. */
const POLICY_NAME = 'default';

export class KmsKeyPolicyStore implements KeyPolicyStore {
  constructor(private readonly kms: KMSClient) {}

  async getKeyPolicy(keyId: string): Promise<string> {
    const output = await this.call('GetKeyPolicy', keyId, () =>
      this.kms.send(new GetKeyPolicyCommand({ KeyId: keyId, PolicyName: POLICY_NAME })),
    );
    if (output.Policy === undefined) {
      throw new AwsCallError('GetKeyPolicy', `no policy returned for ${keyId}`, undefined);
    }
    return output.Policy;
  }

  async putKeyPolicy(keyId: string, policy: string): Promise<void> {
    await this.call('PutKeyPolicy', keyId, () =>
      this.kms.send(
        new PutKeyPolicyCommand({
          KeyId: keyId,
          PolicyName: POLICY_NAME,
          Policy: policy,
          // Never true: KMS's own check that the new policy does not lock the caller out stays on.
          BypassPolicyLockoutSafetyCheck: false,
        }),
      ),
    );
  }

  async describeKey(keyId: string): Promise<KeyDescription> {
    const output = await this.call('DescribeKey', keyId, () =>
      this.kms.send(new DescribeKeyCommand({ KeyId: keyId })),
    );
    const metadata = output.KeyMetadata;
    if (metadata?.Arn === undefined || metadata.KeyId === undefined) {
      throw new AwsCallError('DescribeKey', `no key metadata returned for ${keyId}`, undefined);
    }
    const description: KeyDescription = {
      keyId: metadata.KeyId,
      arn: metadata.Arn,
      state: metadata.KeyState ?? 'Unavailable',
      manager: metadata.KeyManager ?? 'CUSTOMER',
      multiRegion: metadata.MultiRegion === true,
    };
    const multiRegionType = metadata.MultiRegionConfiguration?.MultiRegionKeyType;
    if (multiRegionType !== undefined) description.multiRegionType = multiRegionType;
    if (metadata.DeletionDate !== undefined) description.deletionDate = metadata.DeletionDate.toISOString();
    return description;
  }

  async listGrants(keyId: string): Promise<KeyGrant[]> {
    const grants: KeyGrant[] = [];
    let marker: string | undefined;
    do {
      const page = await this.call('ListGrants', keyId, () =>
        this.kms.send(new ListGrantsCommand({ KeyId: keyId, Marker: marker })),
      );
      for (const entry of page.Grants ?? []) {
        const grant = grantOf(entry);
        if (grant) grants.push(grant);
      }
      marker = page.Truncated === true ? page.NextMarker : undefined;
    } while (marker !== undefined);
    return grants;
  }

  async revokeGrant(keyId: string, grantId: string): Promise<void> {
    await this.call('RevokeGrant', keyId, () =>
      this.kms.send(new RevokeGrantCommand({ KeyId: keyId, GrantId: grantId })),
    );
  }

  async cancelKeyDeletion(keyId: string): Promise<void> {
    await this.call('CancelKeyDeletion', keyId, () =>
      this.kms.send(new CancelKeyDeletionCommand({ KeyId: keyId })),
    );
  }

  async enableKey(keyId: string): Promise<void> {
    await this.call('EnableKey', keyId, () => this.kms.send(new EnableKeyCommand({ KeyId: keyId })));
  }

  async disableKey(keyId: string): Promise<void> {
    await this.call('DisableKey', keyId, () => this.kms.send(new DisableKeyCommand({ KeyId: keyId })));
  }

  async getKeyRotationStatus(keyId: string): Promise<boolean> {
    const output = await this.call('GetKeyRotationStatus', keyId, () =>
      this.kms.send(new GetKeyRotationStatusCommand({ KeyId: keyId })),
    );
    return output.KeyRotationEnabled === true;
  }

  async setKeyRotation(keyId: string, enabled: boolean): Promise<void> {
    if (enabled) {
      await this.call('EnableKeyRotation', keyId, () =>
        this.kms.send(new EnableKeyRotationCommand({ KeyId: keyId })),
      );
    } else {
      await this.call('DisableKeyRotation', keyId, () =>
        this.kms.send(new DisableKeyRotationCommand({ KeyId: keyId })),
      );
    }
  }

  async listResourceTags(keyId: string): Promise<Record<string, string>> {
    const tags: Record<string, string> = {};
    let marker: string | undefined;
    do {
      const page = await this.call('ListResourceTags', keyId, () =>
        this.kms.send(new ListResourceTagsCommand({ KeyId: keyId, Marker: marker })),
      );
      for (const tag of page.Tags ?? []) {
        if (tag.TagKey !== undefined) tags[tag.TagKey] = tag.TagValue ?? '';
      }
      marker = page.Truncated === true ? page.NextMarker : undefined;
    } while (marker !== undefined);
    return tags;
  }

  async listKeyIds(): Promise<string[]> {
    const keyIds: string[] = [];
    let marker: string | undefined;
    do {
      const page = await this.call('ListKeys', '*', () =>
        this.kms.send(new ListKeysCommand({ Marker: marker })),
      );
      for (const key of page.Keys ?? []) if (key.KeyId !== undefined) keyIds.push(key.KeyId);
      marker = page.Truncated === true ? page.NextMarker : undefined;
    } while (marker !== undefined);
    return keyIds;
  }

  async listAliases(): Promise<Map<string, string>> {
    const targets = new Map<string, string>();
    let marker: string | undefined;
    do {
      const page: ListAliasesCommandOutput = await this.call('ListAliases', '*', () =>
        this.kms.send(new ListAliasesCommand({ Marker: marker })),
      );
      for (const alias of page.Aliases ?? []) {
        // AWS-managed aliases reserved for services not yet used have no target key: nothing to map.
        if (alias.AliasName !== undefined && alias.TargetKeyId !== undefined) {
          targets.set(alias.AliasName, alias.TargetKeyId);
        }
      }
      marker = page.Truncated === true ? page.NextMarker : undefined;
    } while (marker !== undefined);
    return targets;
  }

  private async call<T>(operation: KmsOperation, keyId: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toKmsError(error, operation, keyId);
    }
  }
}

/** A ListGrants entry as the guard records it (verbatim fields, dates as ISO text). */
function grantOf(entry: GrantListEntry): KeyGrant | undefined {
  if (entry.GrantId === undefined) return undefined;
  const grant: KeyGrant = { grantId: entry.GrantId, operations: [...(entry.Operations ?? [])] };
  if (entry.Name) grant.name = entry.Name;
  if (entry.GranteePrincipal) grant.granteePrincipal = entry.GranteePrincipal;
  if (entry.RetiringPrincipal) grant.retiringPrincipal = entry.RetiringPrincipal;
  if (entry.IssuingAccount) grant.issuingAccount = entry.IssuingAccount;
  if (entry.CreationDate) grant.creationDate = entry.CreationDate.toISOString();
  const subset = entry.Constraints?.EncryptionContextSubset;
  const equals = entry.Constraints?.EncryptionContextEquals;
  if (subset || equals) {
    grant.constraints = {};
    if (subset) grant.constraints.encryptionContextSubset = { ...subset };
    if (equals) grant.constraints.encryptionContextEquals = { ...equals };
  }
  return grant;
}

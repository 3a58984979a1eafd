/**
 * KeyPolicyStore backed by the KMS client. Every SDK exception leaves here as a typed guard error
 * (src/guard/errors.ts) so the use case decides what it means.
 */

import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  type KMSClient,
  ListAliasesCommand,
  type ListAliasesCommandOutput,
  ListKeysCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
} from '@aws-sdk/client-kms';
import type { KeyMetadata } from '../core/key';
import { AwsCallError, type KmsOperation } from '../guard/errors';
import type { KeyDetailsReader } from '../guard/key-details';
import type { KeyPolicyStore } from '../guard/ports';
import { toKmsError } from './clients';

/** KMS key policies have exactly one name. */
const POLICY_NAME = 'default';

export class KmsKeyPolicyStore implements KeyPolicyStore, KeyDetailsReader {
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

  async describeKeyState(keyId: string): Promise<KeyMetadata> {
    const output = await this.call('DescribeKey', keyId, () =>
      this.kms.send(new DescribeKeyCommand({ KeyId: keyId })),
    );
    const metadata = output.KeyMetadata;
    if (metadata?.Arn === undefined || metadata.KeyId === undefined) {
      throw new AwsCallError('DescribeKey', `no key metadata returned for ${keyId}`, undefined);
    }
    return {
      keyId: metadata.KeyId,
      arn: metadata.Arn,
      state: metadata.KeyState ?? 'Unavailable',
      manager: metadata.KeyManager ?? 'CUSTOMER',
      multiRegion: metadata.MultiRegion === true,
      multiRegionType: metadata.MultiRegionConfiguration?.MultiRegionKeyType,
      aliases: [],
      tags: {},
    };
  }

  async describeKey(keyId: string): Promise<KeyMetadata> {
    const metadata = await this.describeKeyState(keyId);
    const [aliases, tags] = await Promise.all([
      this.listAliasPages(metadata.keyId),
      this.listResourceTags(metadata.keyId),
    ]);
    return {
      ...metadata,
      aliases: aliases.flatMap((alias) => (alias.AliasName === undefined ? [] : [alias.AliasName])),
      tags,
    };
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
    for (const alias of await this.listAliasPages(undefined)) {
      // AWS-managed aliases reserved for services not yet used have no target key: nothing to map.
      if (alias.AliasName !== undefined && alias.TargetKeyId !== undefined) {
        targets.set(alias.AliasName, alias.TargetKeyId);
      }
    }
    return targets;
  }

  private async listAliasPages(
    keyId: string | undefined,
  ): Promise<NonNullable<ListAliasesCommandOutput['Aliases']>> {
    const aliases: NonNullable<ListAliasesCommandOutput['Aliases']> = [];
    let marker: string | undefined;
    do {
      const page = await this.call('ListAliases', keyId ?? '*', () =>
        this.kms.send(new ListAliasesCommand({ KeyId: keyId, Marker: marker })),
      );
      aliases.push(...(page.Aliases ?? []));
      marker = page.Truncated === true ? page.NextMarker : undefined;
    } while (marker !== undefined);
    return aliases;
  }

  private async call<T>(operation: KmsOperation, keyId: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw toKmsError(error, operation, keyId);
    }
  }
}

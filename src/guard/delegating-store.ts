/**
 * A KeyPolicyStore that hands every call to another one. Decorators extend it and override only the
 * calls they change (the lookup cache; in tests, stale reads and injected faults), so a new port method
 * is written once here, not in every decorator.
 */
import type { KeyGrant } from '../core/finding';
import type { KeyDescription } from '../core/key';
import type { KeyPolicyStore } from './ports';

export class DelegatingKeyStore implements KeyPolicyStore {
  constructor(protected readonly inner: KeyPolicyStore) {}

  getKeyPolicy(keyId: string): Promise<string> {
    return this.inner.getKeyPolicy(keyId);
  }

  putKeyPolicy(keyId: string, policy: string): Promise<void> {
    return this.inner.putKeyPolicy(keyId, policy);
  }

  describeKey(keyId: string): Promise<KeyDescription> {
    return this.inner.describeKey(keyId);
  }

  listResourceTags(keyId: string): Promise<Record<string, string>> {
    return this.inner.listResourceTags(keyId);
  }

  listKeyIds(): Promise<string[]> {
    return this.inner.listKeyIds();
  }

  listAliases(): Promise<Map<string, string>> {
    return this.inner.listAliases();
  }

  listGrants(keyId: string): Promise<KeyGrant[]> {
    return this.inner.listGrants(keyId);
  }

  revokeGrant(keyId: string, grantId: string): Promise<void> {
    return this.inner.revokeGrant(keyId, grantId);
  }

  cancelKeyDeletion(keyId: string): Promise<void> {
    return this.inner.cancelKeyDeletion(keyId);
  }

  enableKey(keyId: string): Promise<void> {
    return this.inner.enableKey(keyId);
  }

  disableKey(keyId: string): Promise<void> {
    return this.inner.disableKey(keyId);
  }

  getKeyRotationStatus(keyId: string): Promise<boolean> {
    return this.inner.getKeyRotationStatus(keyId);
  }

  setKeyRotation(keyId: string, enabled: boolean): Promise<void> {
    return this.inner.setKeyRotation(keyId, enabled);
  }
}

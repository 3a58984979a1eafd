/**
 * Bindings kept in memory: for tests and the CLI (one process, one run). The Lambda functions keep them
 * in the state table (src/aws/dynamo-bindings.ts), where the drift function and the audit share them.
 */
import { type KeyLocation, parseKeyArn, sameLocation } from '../core/key-arn';
import type { BindingStore, KeyBinding } from './ports';

export class InMemoryBindingStore implements BindingStore {
  private readonly bindings = new Map<string, KeyBinding>();

  async get(keyArn: string): Promise<KeyBinding | undefined> {
    const binding = this.bindings.get(keyArn);
    return binding ? { ...binding } : undefined;
  }

  async put(binding: KeyBinding): Promise<void> {
    this.bindings.set(binding.keyArn, { ...binding });
  }

  async delete(keyArn: string): Promise<void> {
    this.bindings.delete(keyArn);
  }

  async list(location: KeyLocation): Promise<KeyBinding[]> {
    return [...this.bindings.values()]
      .filter((binding) => {
        const arn = parseKeyArn(binding.keyArn);
        return arn !== undefined && sameLocation(arn, location);
      })
      .map((binding) => ({ ...binding }));
  }
}

/**
 * Cheaper reads than `KeyPolicyStore.describeKey` (which costs DescribeKey + ListAliases +
 * ListResourceTags). checkKey uses them when the store offers them, to spend only the calls a
 * decision needs: DescribeKey alone before a write, ListResourceTags alone for tag matching.
 */
import type { KeyMetadata } from '../core/key';

export interface KeyDetailsReader {
  /** DescribeKey only: state, manager and multi-Region type; `aliases` and `tags` are left empty. */
  describeKeyState(keyId: string): Promise<KeyMetadata>;
  /** ListResourceTags only (paginated). */
  listResourceTags(keyId: string): Promise<Record<string, string>>;
}

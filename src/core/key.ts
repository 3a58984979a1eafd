/**
 * The guard's shared vocabulary, below both the manifest and the guard: how a key is described and
 * in which mode a key is guarded.
 */

/** What the guard does with a drifted key: report it, restore it, or report what it would restore. */
export const GUARD_MODES = ['alert', 'remediate', 'dry-run'] as const;
export type GuardMode = (typeof GUARD_MODES)[number];

export type KeyState =
  | 'Enabled'
  | 'Disabled'
  | 'PendingDeletion'
  | 'PendingImport'
  | 'PendingReplicaDeletion'
  | 'Unavailable'
  | 'Creating'
  | 'Updating';

/** What DescribeKey says about a key. */
export interface KeyDescription {
  keyId: string;
  arn: string;
  state: KeyState | string;
  manager: 'CUSTOMER' | 'AWS' | string;
  multiRegion: boolean;
  /** `PRIMARY` | `REPLICA` when multiRegion. */
  multiRegionType?: string;
  /** When a key pending deletion will be deleted (ISO time). */
  deletionDate?: string;
}

/** A key with the facts manifest matchers look at: its aliases and tags. */
export interface KeyMetadata extends KeyDescription {
  aliases: string[];
  tags: Record<string, string>;
}

/**
 * The KMS calls the guard receives, by name: a module of their own, without the event's schemas and parsing
 * (./event.ts), so that the health checks that read the names (the drift rule's pattern, the trail's event
 * selectors) do not build those schemas at init (docs/architecture.md#what-loads-when).
 */

/**
 * Every successful KMS call that moves access to a key or its protection (docs/architecture.md#event-kinds):
 * its policy, its creation and replication, what binds it to a manifest entry (tags, aliases), its grants,
 * and its state (deletion, enabled, rotation).
 */
export const KMS_EVENT_NAMES = [
  'PutKeyPolicy',
  'CreateKey',
  'ReplicateKey',
  'TagResource',
  'UntagResource',
  'CreateAlias',
  'UpdateAlias',
  'DeleteAlias',
  'CreateGrant',
  'ScheduleKeyDeletion',
  'DisableKey',
  'EnableKeyRotation',
  'DisableKeyRotation',
] as const;
export type KmsEventName = (typeof KMS_EVENT_NAMES)[number];

/**
 * The world side the drift integration tests share: keys created with the shipped payments-data policy
 * and a manifest managing them, the event route and findings topic, "someone" tampering with a key
 * policy directly in KMS, and CloudTrail records routed through the drift rule.
 */

import { randomUUID } from 'node:crypto';
import { GetKeyPolicyCommand, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import {
  createFindingsTopic,
  createKeyWithPolicy,
  createKmsEventRoute,
  type FindingsTopic,
  type KmsEventRoute,
  policyWithStatement,
  putCloudTrailRecords,
  putKeyPolicyRecord,
  readShippedPolicyTemplate,
  receiveDeliveredEvents,
  WORLD_PLACEHOLDERS,
  type WorldClients,
  type WorldKey,
  writeManifest,
} from '../../../dev/world';
import type { GuardMode } from '../../../src/core/key';
import { renderPlaceholders } from '../../../src/manifest';

/** The shipped payments-data template and the policy it renders to in the world's account. */
export const PAYMENTS_POLICY_FILE = 'payments-data.json';
export const paymentsTemplate = readShippedPolicyTemplate(PAYMENTS_POLICY_FILE);
export const paymentsDesiredPolicy = renderPlaceholders(
  paymentsTemplate,
  WORLD_PLACEHOLDERS,
  PAYMENTS_POLICY_FILE,
);

/** The key created for `name`; throws if the suite's setup did not create it. */
export function keyNamed<Name extends string>(keys: ReadonlyMap<Name, WorldKey>, name: Name): WorldKey {
  const key = keys.get(name);
  if (!key) throw new Error(`no ${name} key was created`);
  return key;
}

/** The key's policy as KMS holds it now. */
export async function livePolicy(world: Pick<WorldClients, 'kms'>, key: WorldKey): Promise<string> {
  const { Policy } = await world.kms.send(
    new GetKeyPolicyCommand({ KeyId: key.keyId, PolicyName: 'default' }),
  );
  return Policy ?? '';
}

export interface Tampering {
  /** The document written. */
  tampered: string;
  /** The CloudTrail record of the write. */
  record: Record<string, unknown>;
  eventId: string;
}

/**
 * "Someone" (actorArn) writes `desired + statement` (or a whole `document`) directly in KMS; returns the
 * document and the record CloudTrail would make of it.
 */
export async function tamper(
  world: Pick<WorldClients, 'kms'>,
  key: WorldKey,
  change: ({ statement: Record<string, unknown> } | { document: string }) & {
    actorArn: string;
    sourceIPAddress?: string;
  },
): Promise<Tampering> {
  const tampered =
    'document' in change ? change.document : policyWithStatement(paymentsDesiredPolicy, change.statement);
  await world.kms.send(
    new PutKeyPolicyCommand({ KeyId: key.keyId, PolicyName: 'default', Policy: tampered }),
  );
  const eventId = randomUUID();
  const record = putKeyPolicyRecord({
    keyArn: key.keyArn,
    actorArn: change.actorArn,
    eventId,
    policy: tampered,
    ...(change.sourceIPAddress === undefined ? {} : { sourceIPAddress: change.sourceIPAddress }),
  });
  return { tampered, record, eventId };
}

/** CloudTrail -> bus -> drift rule -> SQS: the events the rule delivered for these records. */
export async function routeThroughRule(
  world: Pick<WorldClients, 'events' | 'sqs'>,
  route: KmsEventRoute,
  records: Record<string, unknown>[],
): Promise<unknown[]> {
  await putCloudTrailRecords(world.events, route.busName, records);
  return receiveDeliveredEvents(world.sqs, route.queue.url);
}

export interface GuardedKeysInput<Name extends string> {
  /** Names resources `kpg-<prefix>-…` and keys `<prefix>-<name>-<suffix>`. */
  prefix: string;
  suffix: string;
  /** One key per name, managed in that mode with the payments-data policy. */
  modes: Readonly<Record<Name, GuardMode>>;
  /** Where the manifest and its policy file are written. */
  dir: string;
  flapping?: { maxReapplies: number; windowMinutes: number };
  /** The key's KMS description; default: the world's. */
  description?: (name: Name) => string;
}

/** Creates the keys with the desired policy and writes the manifest that manages them; returns its path. */
export async function createGuardedKeys<Name extends string>(
  world: Pick<WorldClients, 'kms'>,
  input: GuardedKeysInput<Name>,
): Promise<{ keys: Map<Name, WorldKey>; manifestPath: string }> {
  const names = Object.keys(input.modes) as Name[];
  const aliasOf = (name: Name) => `alias/kpg-${input.prefix}-${name}-${input.suffix}`;
  const keys = new Map<Name, WorldKey>();
  for (const name of names) {
    keys.set(
      name,
      await createKeyWithPolicy(world.kms, {
        policy: paymentsDesiredPolicy,
        alias: aliasOf(name),
        ...(input.description ? { description: input.description(name) } : {}),
      }),
    );
  }
  const manifestPath = writeManifest(input.dir, {
    ...(input.flapping ? { flapping: input.flapping } : {}),
    keys: names.map((name) => ({
      name: `${input.prefix}-${name}-${input.suffix}`,
      match: { alias: aliasOf(name) },
      mode: input.modes[name],
      policyFile: PAYMENTS_POLICY_FILE,
      policyTemplate: paymentsTemplate,
    })),
  });
  return { keys, manifestPath };
}

/** The drift rule's route (bus, rule, queue) and the findings topic with its SQS subscriber. */
export async function createDriftPipeline(
  world: Pick<WorldClients, 'events' | 'sns' | 'sqs'>,
  prefix: string,
  suffix: string,
): Promise<{ route: KmsEventRoute; topic: FindingsTopic }> {
  const route = await createKmsEventRoute(world, {
    busName: `kpg-${prefix}-${suffix}`,
    ruleName: `kpg-${prefix}-drift-${suffix}`,
    queueName: `kpg-${prefix}-events-${suffix}`,
  });
  const topic = await createFindingsTopic(world, {
    topicName: `kpg-${prefix}-findings-${suffix}`,
    queueName: `kpg-${prefix}-findings-${suffix}`,
  });
  return { route, topic };
}

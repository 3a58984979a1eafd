/**
 * What every guard function that publishes findings builds (part of the composition root, ./guard-deps.ts): the
 * SNS client, the state table's client, the publisher (repeated LOW findings of one key and kind folded before
 * SNS: docs/architecture.md#alerts-by-severity) and the outbox. buildGuard adds the key check's dependencies (KMS,
 * bindings, the ledger); the audit's fan-out (./audit-fan-out-handler.ts) checks no key and uses
 * these alone, so its bundle compiles no KMS client (docs/architecture.md#what-loads-when).
 */
import type { SNSClient } from '@aws-sdk/client-sns';
import type { AwsClientSettings } from '../aws/client-settings';
import { DynamoFoldStore, DynamoOutbox } from '../aws/dynamo-state';
import { createSnsClient, SnsFindingPublisher } from '../aws/sns-publisher';
import { type StateTableClient, stateTableClientFor } from '../aws/state-table';
import { FoldingPublisher, type FoldStore, InMemoryFoldStore } from '../guard/folding';
import type { GuardLogger } from '../guard/logger';
import { InMemoryOutbox } from '../guard/memory-state';
import { type Clock, type FindingOutbox, type FindingPublisher, systemClock } from '../guard/ports';

export interface FindingWiring {
  /** Region, endpoint and profile of every client. */
  aws: AwsClientSettings;
  logger: GuardLogger;
  /** SNS topic for findings; absent: `publisher` must be given. */
  topicArn?: string;
  /** Wraps (or replaces) the SNS publisher: the CLI collects findings and forwards them only on request. */
  publisher?: (sns: FindingPublisher | undefined) => FindingPublisher;
  /** DynamoDB state table; absent: state in this process's memory. */
  stateTable?: string;
  clock?: Clock;
  /** The outbox to use instead of the state table's (tests). */
  outbox?: FindingOutbox;
  /** Fold windows to use instead of the state table's (tests). */
  folds?: FoldStore;
}

export interface FindingParts {
  clock: Clock;
  sns: SNSClient;
  /** The state table and its client, when one is configured. */
  stateTable?: StateTableClient;
  publisher: FindingPublisher;
  outbox: FindingOutbox;
}

export function buildFindingParts(wiring: FindingWiring): FindingParts {
  const clock = wiring.clock ?? systemClock;
  const sns = createSnsClient(wiring.aws);
  const stateTable = stateTableClientFor(wiring.stateTable, wiring.aws);
  // Fold windows live in the state table, else in this process's memory.
  const snsPublisher = wiring.topicArn
    ? new FoldingPublisher(
        new SnsFindingPublisher(sns, wiring.topicArn, wiring.logger),
        wiring.folds ??
          (stateTable
            ? new DynamoFoldStore(stateTable.tableName, stateTable.client)
            : new InMemoryFoldStore()),
        () => clock.now(),
      )
    : undefined;
  const publisher = wiring.publisher ? wiring.publisher(snsPublisher) : snsPublisher;
  if (!publisher) throw new TypeError('buildGuard needs a topicArn or a publisher');
  const outbox =
    wiring.outbox ??
    (stateTable ? new DynamoOutbox(stateTable.tableName, stateTable.client) : new InMemoryOutbox());
  const parts: FindingParts = { clock, sns, publisher, outbox };
  if (stateTable) parts.stateTable = stateTable;
  return parts;
}

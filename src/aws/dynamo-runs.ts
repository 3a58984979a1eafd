/**
 * The organization audit's per-run progress in the state table (AuditRuns port,
 * docs/architecture.md#the-organization-audit):
 *
 *   run#<runId>   meta                       units, reported, startedAt, deadlineAt, summary, health
 *   run#<runId>   unit#<account>#<region>    the unit; its report once the worker sent one
 *
 * Every item expires after 14 days. A unit counts once: its report is a conditional update (only while the
 * item has none), and only that update adds 1 to `reported` (ADD: atomic). The summary is claimed with a
 * conditional update, so exactly one worker publishes it.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { builtOnFirstUse } from '../core/built-on-first-use';
import * as z from '../core/zod';
import type { AuditRuns, AuditUnit, RunProgress, UnitReport } from '../guard/ports';
import { STATE_TABLE_TTL_ATTRIBUTE, stateStoreError } from './state-table';

const RUN_TTL_SECONDS = 14 * 24 * 60 * 60;

/** The stored run's shapes, built on the first read: the fan-out, which only starts runs, never builds them. */
const schemas = builtOnFirstUse(() => {
  const unit = z.object({ accountId: z.string(), region: z.string(), partition: z.string() });
  const report = z.extend(unit, {
    status: z.enum(['checked', 'incomplete', 'refused', 'failed']),
    checked: z.number(),
    inSync: z.number(),
    drift: z.number(),
    failed: z.number(),
    unmanaged: z.number(),
    notChecked: z.number(),
    reasons: z.array(z.string()),
    findings: z.number(),
  });
  const meta = z.object({
    runId: z.string(),
    units: z.number(),
    reported: z.number(),
    startedAt: z.string(),
    deadlineAt: z.string(),
    summary: z.optional(z.enum(['claimed', 'published'])),
    claimedAt: z.optional(z.string()),
    health: z.optional(z.object({ passed: z.number(), failed: z.number(), driftRule: z.string() })),
  });
  return { unit, report, meta };
});

function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/** Unit items written at once when a run starts: far under DynamoDB's per-partition write rate. */
const UNIT_WRITE_CONCURRENCY = 16;

export class DynamoAuditRuns implements AuditRuns {
  readonly #client: DynamoDBDocumentClient;

  constructor(
    private readonly tableName: string,
    client: DynamoDBClient | DynamoDBDocumentClient,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.#client = client instanceof DynamoDBDocumentClient ? client : DynamoDBDocumentClient.from(client);
  }

  private async send<T>(operation: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw stateStoreError(
        operation,
        this.tableName,
        error instanceof Error ? error.message : String(error),
        error,
      );
    }
  }

  private expiresAt(): number {
    return Math.floor(this.now().getTime() / 1000) + RUN_TTL_SECONDS;
  }

  /**
   * The run's units first, then its meta item, conditionally: a start retried after a failure part-way writes the
   * same unit items again (idempotent) and stops at the meta item once it exists, so no unit is left unrecorded.
   * The unit items are written UNIT_WRITE_CONCURRENCY at a time (an organization has thousands of units).
   */
  async start(progress: RunProgress, units: readonly AuditUnit[]): Promise<void> {
    const pk = `run#${progress.runId}`;
    const expiresAt = this.expiresAt();
    for (let next = 0; next < units.length; next += UNIT_WRITE_CONCURRENCY) {
      await Promise.all(
        units.slice(next, next + UNIT_WRITE_CONCURRENCY).map((unit) =>
          this.send('PutItem', () =>
            this.#client.send(
              new PutCommand({
                TableName: this.tableName,
                Item: {
                  pk,
                  sk: `unit#${unit.accountId}#${unit.region}`,
                  unit,
                  [STATE_TABLE_TTL_ATTRIBUTE]: expiresAt,
                },
              }),
            ),
          ),
        ),
      );
    }
    try {
      await this.#client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk, sk: 'meta', ...progress, [STATE_TABLE_TTL_ATTRIBUTE]: expiresAt },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      // A retried start of the same run changes nothing.
      if (isConditionFailure(error)) return;
      throw stateStoreError(
        'PutItem',
        this.tableName,
        error instanceof Error ? error.message : String(error),
        error,
      );
    }
  }

  async report(
    runId: string,
    report: UnitReport,
  ): Promise<{ first: boolean; progress: RunProgress | undefined }> {
    const pk = `run#${runId}`;
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk, sk: `unit#${report.accountId}#${report.region}` },
          UpdateExpression: 'SET #report = :report',
          ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#report)',
          ExpressionAttributeNames: { '#report': 'report' },
          ExpressionAttributeValues: { ':report': report },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) return { first: false, progress: await this.progress(runId) };
      throw stateStoreError(
        'UpdateItem',
        this.tableName,
        error instanceof Error ? error.message : String(error),
        error,
      );
    }
    const output = await this.send('UpdateItem', () =>
      this.#client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk, sk: 'meta' },
          UpdateExpression: 'ADD reported :one',
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeValues: { ':one': 1 },
          ReturnValues: 'ALL_NEW',
        }),
      ),
    );
    const parsed = schemas().meta.safeParse(output.Attributes);
    return { first: true, progress: parsed.success ? parsed.data : undefined };
  }

  async progress(runId: string): Promise<RunProgress | undefined> {
    const output = await this.send('GetItem', () =>
      this.#client.send(
        new GetCommand({
          TableName: this.tableName,
          Key: { pk: `run#${runId}`, sk: 'meta' },
          ConsistentRead: true,
        }),
      ),
    );
    const parsed = schemas().meta.safeParse(output.Item);
    return parsed.success ? parsed.data : undefined;
  }

  async units(runId: string): Promise<{ unit: AuditUnit; report?: UnitReport }[]> {
    const found: { unit: AuditUnit; report?: UnitReport }[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.send('Query', () =>
        this.#client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :unit)',
            ExpressionAttributeValues: { ':pk': `run#${runId}`, ':unit': 'unit#' },
            ConsistentRead: true,
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        ),
      );
      for (const item of page.Items ?? []) {
        const unit = schemas().unit.safeParse(item.unit);
        if (!unit.success) continue;
        const report = schemas().report.safeParse(item.report);
        found.push(report.success ? { unit: unit.data, report: report.data } : { unit: unit.data });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return found;
  }

  async claimSummary(runId: string, staleClaimBefore?: Date): Promise<boolean> {
    try {
      await this.#client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `run#${runId}`, sk: 'meta' },
          UpdateExpression: 'SET #summary = :claimed, claimedAt = :now',
          ConditionExpression: staleClaimBefore
            ? 'attribute_exists(pk) AND (attribute_not_exists(#summary) OR (#summary = :claimed AND claimedAt < :stale))'
            : 'attribute_exists(pk) AND attribute_not_exists(#summary)',
          ExpressionAttributeNames: { '#summary': 'summary' },
          ExpressionAttributeValues: {
            ':claimed': 'claimed',
            ':now': this.now().toISOString(),
            ...(staleClaimBefore ? { ':stale': staleClaimBefore.toISOString() } : {}),
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw stateStoreError(
        'UpdateItem',
        this.tableName,
        error instanceof Error ? error.message : String(error),
        error,
      );
    }
  }

  async summaryPublished(runId: string): Promise<void> {
    await this.send('UpdateItem', () =>
      this.#client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: `run#${runId}`, sk: 'meta' },
          UpdateExpression: 'SET #summary = :published',
          ExpressionAttributeNames: { '#summary': 'summary' },
          ExpressionAttributeValues: { ':published': 'published' },
        }),
      ),
    );
  }
}

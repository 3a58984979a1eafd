/**
 * The messages of the organization audit's queue (docs/architecture.md#the-organization-audit): one per unit
 * (an account in a Region), and the run's deadline check. Parsed with zod by the worker; anything else is
 * refused (logged and dropped, never retried).
 */

import { ACCOUNT_ID_PATTERN, PARTITION_PATTERN, REGION_PATTERN } from '../../core/key-arn';
import * as z from '../../core/zod';

/** SQS DelaySeconds' maximum: the deadline check re-arms itself in steps of at most this. */
export const MAX_DELAY_SECONDS = 900;

const runId = z.string().check(z.minLength(1), z.maxLength(200));

export const unitMessageSchema = z.object({
  type: z.literal('unit'),
  runId,
  accountId: z.string().check(z.regex(ACCOUNT_ID_PATTERN)),
  region: z.string().check(z.regex(REGION_PATTERN)),
  partition: z.string().check(z.regex(PARTITION_PATTERN)),
});

export const deadlineMessageSchema = z.object({ type: z.literal('deadline'), runId });

export const auditMessageSchema = z.discriminatedUnion('type', [unitMessageSchema, deadlineMessageSchema]);

export type UnitMessage = z.infer<typeof unitMessageSchema>;
export type DeadlineMessage = z.infer<typeof deadlineMessageSchema>;
export type AuditMessage = z.infer<typeof auditMessageSchema>;

export function parseAuditMessage(body: string): AuditMessage | undefined {
  try {
    const parsed = auditMessageSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The messages of the organization audit's queue (docs/architecture.md#the-organization-audit): one per unit
 * (an account in a Region), and the run's deadline check. Parsed with zod by the worker; anything else is
 * refused (logged and dropped, never retried).
 */

import { builtOnFirstUse } from '../../core/built-on-first-use';
import { ACCOUNT_ID_PATTERN, PARTITION_PATTERN, REGION_PATTERN } from '../../core/key-arn';
import * as z from '../../core/zod';

/** SQS DelaySeconds' maximum: the deadline check re-arms itself in steps of at most this. */
export const MAX_DELAY_SECONDS = 900;

/** Both message shapes, built on the worker's first message: the fan-out, which only sends, never builds them. */
const schemas = builtOnFirstUse(() => {
  const runId = z.string().check(z.minLength(1), z.maxLength(200));
  const unit = z.object({
    type: z.literal('unit'),
    runId,
    accountId: z.string().check(z.regex(ACCOUNT_ID_PATTERN)),
    region: z.string().check(z.regex(REGION_PATTERN)),
    partition: z.string().check(z.regex(PARTITION_PATTERN)),
  });
  const deadline = z.object({ type: z.literal('deadline'), runId });
  return { unit, deadline, message: z.discriminatedUnion('type', [unit, deadline]) };
});

type Schemas = ReturnType<typeof schemas>;
export type UnitMessage = z.infer<Schemas['unit']>;
export type DeadlineMessage = z.infer<Schemas['deadline']>;
export type AuditMessage = z.infer<Schemas['message']>;

export function parseAuditMessage(body: string): AuditMessage | undefined {
  try {
    const parsed = schemas().message.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One check of one key as the compliance view sees it (docs/architecture.md#security-hub): the check's
 * findings, and the subjects it looked at to the end (`ctx.checked`), so the view can close what is
 * back in its desired state.
 */
import type { ComplianceRecord } from '../../core/compliance';
import type { CheckContext } from './context';

export function complianceRecordOf(ctx: CheckContext): ComplianceRecord {
  const record: ComplianceRecord = {
    keyArn: ctx.keyArn,
    keyId: ctx.keyId,
    location: ctx.location,
    aliases: ctx.aliases,
    trigger: ctx.request.trigger,
    time: ctx.now.toISOString(),
    findings: [...ctx.findings],
    checked: [...new Set(ctx.checked)],
  };
  if (ctx.managed) record.keyName = ctx.managed.name;
  if (ctx.request.actor) record.actor = ctx.request.actor;
  return record;
}

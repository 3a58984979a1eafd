/**
 * The audit function's wiring (docs/architecture.md#the-scheduled-audit), run once per container at module init
 * (handlers/audit.ts awaits it). With AUDIT_QUEUE_URL set, as serverless.yml always deploys it, the audit fans out
 * over the organization's accounts and Regions (./audit-fan-out-handler.ts; the audit workers check the keys);
 * without, it checks this account's keys itself (./account-audit-handler.ts), which is loaded by a dynamic import
 * only then: the key check and the policy engine are a chunk the deployed audit never compiles
 * (docs/architecture.md#what-loads-when).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { initFanOutAuditHandler } from './audit-fan-out-handler';
import { readAuditConfig } from './config';

/** Production wiring from the environment: the fan-out, or the audit of this account (its own chunk). */
export async function initAuditHandler(env: Readonly<Record<string, string | undefined>>) {
  const logger = new Logger({ serviceName: 'kms-policy-guard' });
  const config = readAuditConfig(env);
  const { queueUrl } = config;
  if (queueUrl) return initFanOutAuditHandler({ ...config, queueUrl }, logger);
  const { initAccountAuditHandler } = await import('./account-audit-handler');
  return initAccountAuditHandler(config, logger);
}

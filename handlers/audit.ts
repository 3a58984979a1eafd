/**
 * Audit Lambda: an EventBridge schedule -> auditKeys over every key the manifest manages (and, by
 * default, every customer managed key it does not) -> one finding per problem key, a guard-disabled
 * finding when the drift rule is missing or disabled, and one audit-summary finding.
 *
 * An audit that could not check every key publishes what it could (the audit-incomplete finding names
 * the keys not checked) and then THROWS, so the failure shows in the function's Errors metric and alarm.
 *
 * Environment: TOPIC_ARN (required), DRIFT_RULE_NAME (required: the rule whose health is checked),
 * MANIFEST_PATH (default `policies/manifest.yaml`, relative to LAMBDA_TASK_ROOT), STATE_TABLE (DynamoDB
 * remediation ledger; without it an in-memory one), AUDIT_CONCURRENCY (keys checked at once, 1..64,
 * default 8), AUDIT_REPORT_UNMANAGED (`true` | `false`, default `true`), GUARD_ROLE_ARN (default
 * `arn:<partition>:iam::<account>:role/kms-policy-guard-<region>`).
 */
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { AWS_RETRY_CONFIG, createKmsClient, createSnsClient } from '../src/aws/clients';
import { remediationLedgerFor, stateTableClientFor } from '../src/aws/dynamo-ledger';
import { KmsKeyPolicyStore } from '../src/aws/kms-store';
import { EventBridgeRuleHealth } from '../src/aws/rule-health';
import { SnsFindingPublisher } from '../src/aws/sns-publisher';
import { type AuditDeps, AuditIncompleteError, type AuditSummary, auditKeys } from '../src/guard/audit-keys';
import { GuardConfigError } from '../src/guard/errors';
import { systemClock } from '../src/guard/ports';
import { guardRoleArn, loadManifest } from '../src/manifest';
import type { PlaceholderValues } from '../src/manifest/types';

export const DEFAULT_AUDIT_CONCURRENCY = 8;
export const MAX_AUDIT_CONCURRENCY = 64;

export interface AuditConfig {
  topicArn: string;
  manifestPath: string;
  region: string;
  driftRuleName: string;
  concurrency: number;
  reportUnmanaged: boolean;
  guardRoleArn?: string;
  stateTable?: string;
  taskRoot: string;
}

function parseConcurrency(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_AUDIT_CONCURRENCY;
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || value < 1 || value > MAX_AUDIT_CONCURRENCY) {
    throw new GuardConfigError(
      `AUDIT_CONCURRENCY must be an integer from 1 to ${MAX_AUDIT_CONCURRENCY}, got ${JSON.stringify(raw)}`,
    );
  }
  return value;
}

function parseReportUnmanaged(raw: string | undefined): boolean {
  if (raw === undefined || raw === '') return true;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new GuardConfigError(`AUDIT_REPORT_UNMANAGED must be 'true' or 'false', got ${JSON.stringify(raw)}`);
}

/** Reads the environment; throws GuardConfigError (failing init) when something is missing or malformed. */
export function readAuditConfig(env: NodeJS.ProcessEnv): AuditConfig {
  const topicArn = env.TOPIC_ARN;
  if (!topicArn?.startsWith('arn:')) {
    throw new GuardConfigError(
      `TOPIC_ARN must be the SNS topic ARN, got ${JSON.stringify(topicArn ?? null)}`,
    );
  }
  const driftRuleName = env.DRIFT_RULE_NAME;
  if (!driftRuleName)
    throw new GuardConfigError('DRIFT_RULE_NAME is not set (the drift rule to health-check)');
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new GuardConfigError('AWS_REGION is not set');
  const taskRoot = env.LAMBDA_TASK_ROOT ?? process.cwd();
  const config: AuditConfig = {
    topicArn,
    manifestPath: path.resolve(taskRoot, env.MANIFEST_PATH || 'policies/manifest.yaml'),
    region,
    driftRuleName,
    concurrency: parseConcurrency(env.AUDIT_CONCURRENCY),
    reportUnmanaged: parseReportUnmanaged(env.AUDIT_REPORT_UNMANAGED),
    taskRoot,
  };
  if (env.GUARD_ROLE_ARN) config.guardRoleArn = env.GUARD_ROLE_ARN;
  if (env.STATE_TABLE) config.stateTable = env.STATE_TABLE;
  return config;
}

export interface AuditHandlerDeps extends Omit<AuditDeps, 'logger'> {
  logger: Logger;
  region: string;
  concurrency: number;
  reportUnmanaged: boolean;
  guardRoleArn?: string;
}

export interface AuditHandlerOptions {
  /** middy: how long before the Lambda timeout to give up; tests use 0 (no timer). */
  timeoutEarlyInMillis?: number;
}

export interface AuditResult {
  runId: string;
  complete: true;
  summary: AuditSummary;
  durationMs: number;
}

/** Only what the audit uses from the scheduled event (`aws.events`, `Scheduled Event`). */
const scheduledEventSchema = z.looseObject({
  id: z.string().min(1).optional(),
  account: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  region: z.string().min(1).optional(),
});

const LAMBDA_ARN = /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:/;

/** The audited account and Region: from the function's own ARN (always there), else the event. */
function locationOf(
  event: z.infer<typeof scheduledEventSchema>,
  context: Context,
  region: string,
): PlaceholderValues | undefined {
  const match = LAMBDA_ARN.exec(context.invokedFunctionArn ?? '');
  if (match?.[1] && match[2] && match[3]) {
    return { partition: match[1], region: match[2], accountId: match[3] };
  }
  if (event.account) return { partition: 'aws', region: event.region ?? region, accountId: event.account };
  return undefined;
}

/** The Lambda handler around injected dependencies (middy + Powertools context injection). */
export function createAuditHandler(deps: AuditHandlerDeps, options: AuditHandlerOptions = {}) {
  const { logger } = deps;
  const handle = async (event: unknown, context: Context): Promise<AuditResult> => {
    const parsed = scheduledEventSchema.safeParse(event);
    const scheduled = parsed.success ? parsed.data : {};
    const now = deps.clock.now();
    // The scheduled event's ID: a retried invocation publishes findings with the same IDs.
    const runId = scheduled.id ?? `audit-${now.toISOString()}`;
    const location = locationOf(scheduled, context, deps.region);
    logger.appendKeys({ runId });
    const auditDeps: AuditDeps = { ...deps };
    const guardPrincipal =
      deps.guardPrincipalArn ?? deps.guardRoleArn ?? (location && guardRoleArn(location));
    if (guardPrincipal) auditDeps.guardPrincipalArn = guardPrincipal;
    const report = await auditKeys(auditDeps, {
      runId,
      trigger: 'audit',
      concurrency: deps.concurrency,
      reportUnmanaged: deps.reportUnmanaged,
      ...(location ? { location } : {}),
      region: deps.region,
      timeLeftMs: () => context.getRemainingTimeInMillis(),
    });
    if (!report.complete) {
      logger.error('audit_incomplete', {
        summary: report.summary,
        notChecked: report.notChecked,
        problems: report.problems,
      });
      throw new AuditIncompleteError(report);
    }
    return { runId, complete: true, summary: report.summary, durationMs: report.durationMs };
  };
  return middy(handle, { timeoutEarlyInMillis: options.timeoutEarlyInMillis }).use(
    injectLambdaContext(logger, { resetKeys: true }),
  );
}

/** Production wiring, run once per container at module init. */
function initialize(): ReturnType<typeof createAuditHandler> {
  const logger = new Logger({ serviceName: 'kms-policy-guard' });
  const config = readAuditConfig(process.env);
  const manifest = loadManifest(config.manifestPath);
  const kms = createKmsClient({ region: config.region });
  const sns = createSnsClient({ region: config.region });
  const events = new EventBridgeClient({ ...AWS_RETRY_CONFIG, region: config.region });
  const stateTable = stateTableClientFor(config.stateTable, config.region);
  const ledger = remediationLedgerFor(stateTable, manifest.flapping, logger);
  logger.info('audit_initialized', {
    manifest: config.manifestPath,
    managedKeys: manifest.keys.length,
    concurrency: config.concurrency,
    reportUnmanaged: config.reportUnmanaged,
    driftRule: config.driftRuleName,
  });
  return createAuditHandler({
    store: new KmsKeyPolicyStore(kms),
    publisher: new SnsFindingPublisher(sns, config.topicArn, logger),
    ledger,
    clock: systemClock,
    logger,
    manifest,
    health: new EventBridgeRuleHealth(events, config.driftRuleName),
    region: config.region,
    concurrency: config.concurrency,
    reportUnmanaged: config.reportUnmanaged,
    guardRoleArn: config.guardRoleArn,
    repoRoot: config.taskRoot,
  });
}

export const handler = initialize();

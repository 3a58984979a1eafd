/**
 * The one place the guard reads its environment: a zod schema per function, every value checked at
 * init so a misconfigured function fails loudly before its first event (GuardConfigError), never
 * half-works. Handlers, the demo and the tests read configuration only through here.
 */
import path from 'node:path';
import { builtOnFirstUse } from '../core/built-on-first-use';
import { ACCOUNT_ID_PATTERN, REGION_PATTERN } from '../core/key-arn';
import { DEFAULT_HUB_EVENT_BUS, DEFAULT_SPOKE_ROLE_NAME } from '../core/spoke-names';
import * as z from '../core/zod';
import { DEFAULT_AUDIT_CONCURRENCY, MAX_AUDIT_CONCURRENCY } from '../guard/audit/report';
import { GuardConfigError } from '../guard/errors';
import {
  commaSeparated,
  FUNCTION_NAME,
  functionArn,
  optionalText,
  positiveInt,
  required,
  trueOrFalse,
} from './env-schemas';
import type { HubSettings } from './hub-access';

/** What the drift and audit functions share. */
export interface GuardConfig {
  topicArn: string;
  /** Absolute path of the manifest (MANIFEST_PATH, relative to the task root). */
  manifestPath: string;
  /** The Region this guard runs in (AWS_REGION). */
  region: string;
  /** The guard's role ARN (GUARD_ROLE_ARN); absent: derived per key as `kms-policy-guard-<region>`. */
  guardRoleArn?: string;
  /** The DynamoDB state table (STATE_TABLE); absent: state in the container's memory. */
  stateTable?: string;
  /** Where paths are shown relative to (LAMBDA_TASK_ROOT, else the working directory). */
  taskRoot: string;
  /** Regions where a guard runs (GUARDED_REGIONS, comma-separated; default: this Region). */
  guardedRegions: string[];
  /** Findings to AWS Security Hub too (SECURITY_HUB=true; default false). */
  securityHub: boolean;
  /**
   * The hub of an organization (ORGANIZATION_ID or MEMBER_ACCOUNTS set): every guarded account and Region
   * from this one function (docs/architecture.md#the-hub-and-its-spokes); absent: this account and Region.
   */
  hub?: HubSettings;
}

export interface AuditConfig extends GuardConfig {
  /** The EventBridge rule whose health every audit checks (DRIFT_RULE_NAME). */
  driftRuleName: string;
  /** The drift rule's bus (DRIFT_EVENT_BUS, the hub bus; default: `default`). */
  driftEventBus?: string;
  /** The rule that forwards this account's KMS events to the hub bus (FORWARD_RULE_NAME); absent: not checked. */
  forwardRuleName?: string;
  /** The drift function, which the drift rule must target (DRIFT_FUNCTION_ARN). */
  driftFunctionArn: string;
  /** The audit's EventBridge schedule rule (AUDIT_RULE_NAME). */
  auditRuleName: string;
  /**
   * This function, which the schedule must target (AUDIT_FUNCTION_ARN; default: the drift function's
   * ARN with this function's name, AWS_LAMBDA_FUNCTION_NAME).
   */
  auditFunctionArn: string;
  /**
   * Functions whose reserved concurrency must not be 0 (FUNCTION_NAMES, comma-separated; default: the
   * drift and audit functions).
   */
  functionNames: string[];
  /** Keys checked at once (AUDIT_CONCURRENCY). */
  concurrency: number;
  /** Report keys no manifest entry matches (AUDIT_REPORT_UNMANAGED). */
  reportUnmanaged: boolean;
  /**
   * The organization audit's queue (AUDIT_QUEUE_URL): the audit fans out one message per account and Region
   * to the audit workers instead of checking keys itself (docs/architecture.md#the-organization-audit).
   */
  queueUrl?: string;
  /** Seconds after which units that never reported are listed as not checked (AUDIT_RUN_DEADLINE_SECONDS). */
  runDeadlineSeconds: number;
}

/** The audit worker's configuration: the audit's key settings and the queue's redrive limit. */
export interface AuditWorkerConfig extends GuardConfig {
  hub: HubSettings;
  queueUrl: string;
  concurrency: number;
  reportUnmanaged: boolean;
  runDeadlineSeconds: number;
  /** The queue's maxReceiveCount (AUDIT_MAX_RECEIVES): the last attempt records a failing unit as failed. */
  maxReceives: number;
  /** The hub bus every spoke's forward rule must target (DRIFT_EVENT_BUS; default `kms-policy-guard`). */
  hubEventBus: string;
}

export interface SlackConfig {
  /** The SSM SecureString with the webhook URL (SLACK_WEBHOOK_PARAM); read on first use. */
  webhookParam?: string;
  /** `SLACK_WEBHOOK_ALLOW_INSECURE_LOCAL=1`: accept `http://127.0.0.1:<port>` (tests, local runs only). */
  allowInsecureLocal: boolean;
}

// Each schema is built by the reader that parses it, once (builtOnFirstUse): every function's bundle has this module.
const guardEnv = builtOnFirstUse(() =>
  z.object({
    TOPIC_ARN: z.optional(z.string()).check(
      z.refine((value) => value?.startsWith('arn:') === true, {
        error: (issue) => `TOPIC_ARN must be the SNS topic ARN, got ${JSON.stringify(issue.input ?? null)}`,
      }),
    ),
    AWS_REGION: optionalText,
    AWS_DEFAULT_REGION: optionalText,
    MANIFEST_PATH: optionalText,
    LAMBDA_TASK_ROOT: optionalText,
    GUARD_ROLE_ARN: optionalText,
    STATE_TABLE: optionalText,
    ORGANIZATION_ID: z.optional(z.string()).check(
      z.refine((raw) => raw === undefined || raw === '' || /^o-[a-z0-9]{10,32}$/.test(raw), {
        error: (issue) =>
          `ORGANIZATION_ID must be an organization ID (o-…), got ${JSON.stringify(issue.input)}`,
      }),
    ),
    MEMBER_ACCOUNTS: commaSeparated('MEMBER_ACCOUNTS', ACCOUNT_ID_PATTERN, '12-digit account IDs'),
    SPOKE_ROLE_NAME: z.optional(z.string()).check(
      z.refine((raw) => raw === undefined || raw === '' || /^[A-Za-z0-9+=,.@_-]{1,64}$/.test(raw), {
        error: (issue) => `SPOKE_ROLE_NAME must be an IAM role name, got ${JSON.stringify(issue.input)}`,
      }),
    ),
    SPOKE_EXTERNAL_ID: optionalText,
    GUARDED_REGIONS: commaSeparated('GUARDED_REGIONS', REGION_PATTERN, 'Regions (eu-west-1,us-east-1)'),
    SECURITY_HUB: trueOrFalse('SECURITY_HUB'),
  }),
);

const auditKeyEnv = {
  AUDIT_QUEUE_URL: optionalText,
  AUDIT_RUN_DEADLINE_SECONDS: positiveInt('AUDIT_RUN_DEADLINE_SECONDS', 86_400),
};

const auditEnv = builtOnFirstUse(() =>
  z.extend(guardEnv(), {
    ...auditKeyEnv,
    DRIFT_RULE_NAME: required('DRIFT_RULE_NAME', 'the drift rule to health-check'),
    DRIFT_EVENT_BUS: optionalText,
    FORWARD_RULE_NAME: optionalText,
    DRIFT_FUNCTION_ARN: functionArn('DRIFT_FUNCTION_ARN', 'the drift function the drift rule must target'),
    AUDIT_RULE_NAME: required('AUDIT_RULE_NAME', "the audit's schedule rule to health-check"),
    AUDIT_FUNCTION_ARN: functionArn(
      'AUDIT_FUNCTION_ARN',
      'the audit function the schedule must target',
      true,
    ),
    AWS_LAMBDA_FUNCTION_NAME: optionalText,
    FUNCTION_NAMES: commaSeparated('FUNCTION_NAMES', FUNCTION_NAME, 'Lambda function names'),
    AUDIT_CONCURRENCY: z.optional(z.string()).check(
      z.refine(
        (raw) => {
          if (raw === undefined || raw.trim() === '') return true;
          const value = Number(raw);
          return /^\d+$/.test(raw.trim()) && value >= 1 && value <= MAX_AUDIT_CONCURRENCY;
        },
        {
          error: (issue) =>
            `AUDIT_CONCURRENCY must be an integer from 1 to ${MAX_AUDIT_CONCURRENCY}, got ${JSON.stringify(issue.input)}`,
        },
      ),
    ),
    AUDIT_REPORT_UNMANAGED: trueOrFalse('AUDIT_REPORT_UNMANAGED'),
  }),
);

type Env = Readonly<Record<string, string | undefined>>;

function listOf(raw: string | undefined): string[] {
  return [
    ...new Set(
      (raw ?? '')
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    ),
  ];
}

function regionsOf(raw: string | undefined, region: string): string[] {
  const listed = listOf(raw);
  return listed.length > 0 ? listed : [region];
}

function functionNameOf(arn: string): string {
  return arn.slice(arn.lastIndexOf(':') + 1);
}

/** The ARN of function `name` in the account and Region of `arn` (a function ARN). */
function siblingFunctionArn(arn: string, name: string | undefined): string | undefined {
  return name === undefined ? undefined : `${arn.slice(0, arn.lastIndexOf(':') + 1)}${name}`;
}

function parseEnv<Schema extends z.ZodMiniType>(schema: Schema, env: Env): z.output<Schema> {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    throw new GuardConfigError(parsed.error.issues.map((issue) => issue.message).join('; '));
  }
  return parsed.data;
}

function guardConfigOf(env: z.output<ReturnType<typeof guardEnv>>): GuardConfig {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new GuardConfigError('AWS_REGION is not set');
  const taskRoot = env.LAMBDA_TASK_ROOT ?? process.cwd();
  const config: GuardConfig = {
    topicArn: env.TOPIC_ARN ?? '',
    manifestPath: path.resolve(taskRoot, env.MANIFEST_PATH ?? 'policies/manifest.yaml'),
    region,
    taskRoot,
    guardedRegions: regionsOf(env.GUARDED_REGIONS, region),
    securityHub: env.SECURITY_HUB === 'true',
  };
  if (env.GUARD_ROLE_ARN) config.guardRoleArn = env.GUARD_ROLE_ARN;
  if (env.STATE_TABLE) config.stateTable = env.STATE_TABLE;
  const hub = hubSettingsOf(env, config);
  if (hub) config.hub = hub;
  return config;
}

/** The role session name the hub assumes spoke roles with (CloudTrail in the member account shows it). */
const HUB_SESSION_NAME = 'kms-policy-guard-hub';

/** The hub's account: the account of GUARD_ROLE_ARN, which must then be a role ARN (`when` says why it is needed). */
function hubAccountOf(config: GuardConfig, when: string): string {
  const hubAccountId = /^arn:[a-z-]+:iam::(\d{12}):role\//.exec(config.guardRoleArn ?? '')?.[1];
  if (hubAccountId === undefined)
    throw new GuardConfigError(`GUARD_ROLE_ARN must be the guard role ARN ${when}`);
  return hubAccountId;
}

/** The hub's settings when ORGANIZATION_ID or MEMBER_ACCOUNTS is set; the hub's account is the guard role's. */
function hubSettingsOf(
  env: z.output<ReturnType<typeof guardEnv>>,
  config: GuardConfig,
): HubSettings | undefined {
  const memberAccounts = listOf(env.MEMBER_ACCOUNTS);
  const organizationId = env.ORGANIZATION_ID || undefined;
  if (organizationId === undefined && memberAccounts.length === 0) return undefined;
  const hubAccountId = hubAccountOf(
    config,
    'when ORGANIZATION_ID or MEMBER_ACCOUNTS is set (the hub account is its account)',
  );
  const settings: HubSettings = {
    hubAccountId,
    // The function's own Region first: its own account's keys there use the guard's main clients.
    regions: [...new Set([config.region, ...config.guardedRegions])],
    memberAccounts,
    spokeRoleName: env.SPOKE_ROLE_NAME || DEFAULT_SPOKE_ROLE_NAME,
    sessionName: HUB_SESSION_NAME,
  };
  if (organizationId) settings.organizationId = organizationId;
  if (env.SPOKE_EXTERNAL_ID) settings.externalId = env.SPOKE_EXTERNAL_ID;
  return settings;
}

/** The drift function's configuration; throws GuardConfigError (failing init) when something is missing. */
export function readDriftConfig(env: Env): GuardConfig {
  return guardConfigOf(parseEnv(guardEnv(), env));
}

/** The audit function's configuration; throws GuardConfigError when something is missing or malformed. */
export function readAuditConfig(env: Env): AuditConfig {
  const parsed = parseEnv(auditEnv(), env);
  const concurrency = parsed.AUDIT_CONCURRENCY?.trim();
  const driftFunctionArn = parsed.DRIFT_FUNCTION_ARN ?? '';
  const auditFunctionArn =
    parsed.AUDIT_FUNCTION_ARN ?? siblingFunctionArn(driftFunctionArn, parsed.AWS_LAMBDA_FUNCTION_NAME);
  if (auditFunctionArn === undefined) {
    throw new GuardConfigError(
      'AUDIT_FUNCTION_ARN is not set, and AWS_LAMBDA_FUNCTION_NAME neither (the audit function the schedule must target)',
    );
  }
  const names = listOf(parsed.FUNCTION_NAMES);
  return {
    ...guardConfigOf(parsed),
    ...(parsed.DRIFT_EVENT_BUS ? { driftEventBus: parsed.DRIFT_EVENT_BUS } : {}),
    ...(parsed.FORWARD_RULE_NAME ? { forwardRuleName: parsed.FORWARD_RULE_NAME } : {}),
    driftRuleName: parsed.DRIFT_RULE_NAME ?? '',
    driftFunctionArn,
    auditRuleName: parsed.AUDIT_RULE_NAME ?? '',
    auditFunctionArn,
    functionNames:
      names.length > 0 ? names : [functionNameOf(driftFunctionArn), functionNameOf(auditFunctionArn)],
    concurrency: concurrency ? Number(concurrency) : DEFAULT_AUDIT_CONCURRENCY,
    reportUnmanaged: parsed.AUDIT_REPORT_UNMANAGED !== 'false',
    ...(parsed.AUDIT_QUEUE_URL ? { queueUrl: parsed.AUDIT_QUEUE_URL } : {}),
    runDeadlineSeconds: Number(parsed.AUDIT_RUN_DEADLINE_SECONDS || DEFAULT_RUN_DEADLINE_SECONDS),
  };
}

/** Default deadline of an organization audit run: before the next run of the default hourly schedule. */
export const DEFAULT_RUN_DEADLINE_SECONDS = 3300;

const workerEnv = builtOnFirstUse(() =>
  z.extend(guardEnv(), {
    ...auditKeyEnv,
    AUDIT_QUEUE_URL: required('AUDIT_QUEUE_URL', "the organization audit's queue"),
    AUDIT_CONCURRENCY: positiveInt('AUDIT_CONCURRENCY', MAX_AUDIT_CONCURRENCY),
    AUDIT_REPORT_UNMANAGED: trueOrFalse('AUDIT_REPORT_UNMANAGED'),
    AUDIT_MAX_RECEIVES: positiveInt('AUDIT_MAX_RECEIVES', 1000),
    DRIFT_EVENT_BUS: optionalText,
  }),
);

/**
 * The hub the fan-out needs: the organization's when configured, else a hub of one account, this one (the
 * account of GUARD_ROLE_ARN) in this Region: a single-account audit is a run of one unit.
 */
export function hubOrOwn(config: GuardConfig): HubSettings {
  if (config.hub) return config.hub;
  return {
    hubAccountId: hubAccountOf(config, 'when AUDIT_QUEUE_URL is set'),
    regions: [config.region],
    memberAccounts: [],
    spokeRoleName: DEFAULT_SPOKE_ROLE_NAME,
    sessionName: HUB_SESSION_NAME,
  };
}

/** The audit worker's configuration; throws GuardConfigError when something is missing or malformed. */
export function readAuditWorkerConfig(env: Env): AuditWorkerConfig {
  const parsed = parseEnv(workerEnv(), env);
  const guard = guardConfigOf(parsed);
  return {
    ...guard,
    hub: hubOrOwn(guard),
    queueUrl: parsed.AUDIT_QUEUE_URL ?? '',
    concurrency: Number(parsed.AUDIT_CONCURRENCY || DEFAULT_AUDIT_CONCURRENCY),
    reportUnmanaged: parsed.AUDIT_REPORT_UNMANAGED !== 'false',
    runDeadlineSeconds: Number(parsed.AUDIT_RUN_DEADLINE_SECONDS || DEFAULT_RUN_DEADLINE_SECONDS),
    maxReceives: Number(parsed.AUDIT_MAX_RECEIVES || 3),
    hubEventBus: parsed.DRIFT_EVENT_BUS ?? DEFAULT_HUB_EVENT_BUS,
  };
}

/** The Slack notifier's configuration; the webhook parameter is checked on first use, not at init. */
export function readSlackConfig(env: Env): SlackConfig {
  const config: SlackConfig = { allowInsecureLocal: env.SLACK_WEBHOOK_ALLOW_INSECURE_LOCAL === '1' };
  if (env.SLACK_WEBHOOK_PARAM) config.webhookParam = env.SLACK_WEBHOOK_PARAM;
  return config;
}

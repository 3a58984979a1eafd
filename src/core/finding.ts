/**
 * The finding contract (docs/architecture.md#findings-and-messages): one zod schema, and every type
 * inferred from it. The guard and the audit build findings of these types, the SNS, e-mail and Slack
 * renderers read them, and the Slack notifier parses what SNS delivers with the same schema, so a new
 * finding kind or field exists in one place or nowhere.
 *
 * Parsing is lenient only where a missing list can only mean "none" (`z._default(…, [])`); what the guard
 * builds always has every list.
 */

import type {
  AccessChange,
  CosmeticDifference,
  PolicyDiff,
  Severity,
  StatementChange,
  ValidationFinding,
} from '../policy/types';
import { GUARD_MODES } from './key';
import * as z from './zod';

export const FINDING_KINDS = [
  'drift', // live differs from desired
  'remediated', // desired re-applied and confirmed
  'would-remediate', // dry-run: what remediation would do
  'invalid-desired', // desired document fails validation: never applied
  'invalid-live', // live document is not a valid key policy
  'orphaned-principal', // a unique ID (AROA…/AIDA…) where an ARN was
  'unmanaged-key', // a key the manifest does not manage (default: report)
  'guard-locked-out', // AccessDenied on Get/PutKeyPolicy
  'key-unavailable', // NotFound / pending deletion / disabled
  'key-not-writable', // AWS-managed key or multi-Region replica: reported, never written
  'flapping', // too many re-applies in the window: stopped remediating
  'remediation-failed', // PutKeyPolicy succeeded but the live policy never became stable and equivalent
  'lockout-risk', // desired policy would lock out the guard or every administrator
  'guard-disabled', // the drift rule is missing or disabled (audit health check)
  'guard-degraded', // the guard runs but is partly blind or mute: pattern, targets, schedule, concurrency, trail, subscribers
  'binding-changed', // a bound key's aliases or tags no longer select its entry: the recorded binding is enforced
  'grant-not-allowed', // a grant the manifest does not allow (revoked in remediate mode)
  'key-state-changed', // deletion scheduled, key disabled, or rotation changed against the manifest
  'replica-unguarded', // ReplicateKey into a Region where no guard runs: the replica shares the key material
  'guard-impersonated', // a PutKeyPolicy by the guard's role that the guard did not intend (no matching write intent)
  'account-not-guarded', // the hub: an event or unit of an account or Region outside the guard's scope: nothing read or written
  'spoke-unreachable', // the hub: a member account's spoke role cannot be assumed: the guard is blind there
  'audit-summary',
  'audit-incomplete',
] as const;

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export const ACTIONS_TAKEN = ['none', 'alerted', 'remediated', 'failed'] as const;
export const TRIGGERS = ['event', 'audit', 'cli'] as const;

const severity = z.enum(SEVERITIES);
const stringList = z.array(z.string());
const setDelta = z.object({ added: stringList, removed: stringList });
const normalizedCondition = z.object({ operator: z.string(), key: z.string(), values: stringList });

const statementChange = z.object({
  kind: z.enum(['added', 'removed', 'changed']),
  severity,
  desiredIndex: z.optional(z.number()),
  liveIndex: z.optional(z.number()),
  sid: z.optional(z.string()),
  effect: z.string(),
  summary: z.string(),
  principals: z.optional(setDelta),
  actions: z.optional(setDelta),
  resources: z.optional(setDelta),
  conditions: z.optional(
    z.object({ added: z.array(normalizedCondition), removed: z.array(normalizedCondition) }),
  ),
  notes: z._default(stringList, []),
});

const accessChange = z.object({
  principal: z.string(),
  gained: z._default(stringList, []),
  lost: z._default(stringList, []),
  conditions: z._default(stringList, []),
  anyone: z._default(z.boolean(), false),
  crossAccount: z._default(z.boolean(), false),
  severity,
});

const documentChange = z.object({
  element: z.literal('Version'),
  desired: z.optional(z.string()),
  live: z.optional(z.string()),
  severity,
  summary: z.string(),
});

const policyDiff = z.object({
  statements: z._default(z.array(statementChange), []),
  documentChanges: z.optional(z.array(documentChange)),
  access: z._default(z.array(accessChange), []),
  orphanedPrincipals: z._default(
    z.array(
      z.object({
        principal: z.string(),
        where: z.enum(['desired', 'live']),
        path: z.string(),
        message: z.string(),
      }),
    ),
    [],
  ),
  severity,
});

const validationFinding = z.object({
  code: z.string(),
  level: z.enum(['error', 'warning']),
  path: z.string(),
  message: z.string(),
});

const cosmeticDifference = z.object({
  kind: z.enum(['sid', 'id', 'formatting', 'statement-order', 'value-form']),
  message: z.string(),
  path: z.optional(z.string()),
});

/** Who did it, from the CloudTrail record (absent for audits). */
export const actorSchema = z.object({
  arn: z.optional(z.string()),
  type: z.optional(z.string()),
  accountId: z.optional(z.string()),
  principalId: z.optional(z.string()),
  /** The AWS service that made the call for the principal (`userIdentity.invokedBy`, e.g. for `AWSService`). */
  invokedBy: z.optional(z.string()),
  sourceIPAddress: z.optional(z.string()),
  userAgent: z.optional(z.string()),
  eventTime: z.optional(z.string()),
  eventID: z.optional(z.string()),
  eventName: z.optional(z.string()),
  /** True when the actor is the guard's own role. */
  isGuard: z.optional(z.boolean()),
});

/** A key's binding to a manifest entry, as recorded and as the key's aliases and tags select it now. */
export const bindingChangeSchema = z.object({
  /** The entry the key is bound to (and still enforced by). */
  entry: z.string(),
  /** How it was bound: `alias alias/x`, `tag team=payments`. */
  boundBy: z.string(),
  boundAt: z.string(),
  /** What the key's aliases/tags select now: another entry's name, or absent for none. */
  nowMatches: z.optional(z.string()),
  /** The key's aliases and tags as read now. */
  aliases: stringList,
  tags: z.record(z.string(), z.string()),
});

/** One grant on a key, as ListGrants (or the CreateGrant record) shows it. */
export const grantSchema = z.object({
  grantId: z.string(),
  name: z.optional(z.string()),
  granteePrincipal: z.optional(z.string()),
  retiringPrincipal: z.optional(z.string()),
  issuingAccount: z.optional(z.string()),
  operations: stringList,
  constraints: z.optional(
    z.object({
      encryptionContextSubset: z.optional(z.record(z.string(), z.string())),
      encryptionContextEquals: z.optional(z.record(z.string(), z.string())),
    }),
  ),
  creationDate: z.optional(z.string()),
});

/** A key's state against the manifest's desired state. */
export const keyStateChangeSchema = z.object({
  state: z.string(),
  deletionDate: z.optional(z.string()),
  desiredEnabled: z.boolean(),
  rotationEnabled: z.optional(z.boolean()),
  desiredRotation: z.optional(z.boolean()),
  replicaRegion: z.optional(z.string()),
});

export const findingSchema = z.object({
  /** Stable identifier: `<eventID or audit run id>:<keyId>:<kind>`. */
  id: z.string(),
  kind: z.enum(FINDING_KINDS),
  severity,
  /** One line, also the SNS subject source (cut to fit by the renderer). */
  title: z.string(),
  keyArn: z.string(),
  keyId: z.string(),
  aliases: z._default(stringList, []),
  /** Manifest entry name of a managed key (e.g. `payments-data`); absent for unmanaged keys. */
  keyName: z.optional(z.string()),
  /** Desired document's path in the repository (e.g. `policies/payments-data.json`). */
  policyFile: z.optional(z.string()),
  region: z.string(),
  account: z.string(),
  mode: z.enum(GUARD_MODES),
  action: z.enum(ACTIONS_TAKEN),
  /** Where the check came from. */
  trigger: z.enum(TRIGGERS),
  actor: z.optional(actorSchema),
  diff: z.optional(policyDiff),
  cosmetic: z.optional(z.array(cosmeticDifference)),
  validation: z.optional(z.object({ desired: z.array(validationFinding), live: z.array(validationFinding) })),
  /** The live document as read (verbatim); in remediate mode, the overwritten document. */
  livePolicy: z.optional(z.string()),
  desiredPolicy: z.optional(z.string()),
  binding: z.optional(bindingChangeSchema),
  grant: z.optional(grantSchema),
  keyState: z.optional(keyStateChangeSchema),
  /** Free-form explanation lines (what was done, why not, how to restore by hand). */
  details: z._default(stringList, []),
  /** ISO time the finding was made. */
  time: z.string(),
});

export type Finding = z.output<typeof findingSchema>;
export type FindingKind = Finding['kind'];
export type ActionTaken = Finding['action'];
export type Trigger = Finding['trigger'];
export type Actor = z.output<typeof actorSchema>;
export type BindingChange = z.output<typeof bindingChangeSchema>;
export type KeyGrant = z.output<typeof grantSchema>;
export type KeyStateChange = z.output<typeof keyStateChangeSchema>;

// The policy engine owns the diff's shapes; the schema must describe exactly them, both ways.
type Same<A, B> = [(a: A) => B, (b: B) => A];
const sameShapes: [
  Same<z.output<typeof policyDiff>, PolicyDiff>,
  Same<z.output<typeof statementChange>, StatementChange>,
  Same<z.output<typeof accessChange>, AccessChange>,
  Same<z.output<typeof validationFinding>, ValidationFinding>,
  Same<z.output<typeof cosmeticDifference>, CosmeticDifference>,
  Same<z.output<typeof severity>, Severity>,
] = [
  [(a) => a, (b) => b],
  [(a) => a, (b) => b],
  [(a) => a, (b) => b],
  [(a) => a, (b) => b],
  [(a) => a, (b) => b],
  [(a) => a, (b) => b],
];
void sameShapes;

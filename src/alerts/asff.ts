/**
 * A finding as an AWS Security Finding Format (ASFF) record for AWS Security Hub
 * (docs/architecture.md#security-hub). One record per key and subject (src/core/compliance.ts), ID
 * `kms-policy-guard/<key ARN>/<subject>` (a grant: `…/grant/<grant ID>`, a replica: `…/replica-unguarded/<Region>`;
 * the audit's account-level findings: `kms-policy-guard/<account>/<Region>/<subject>`), so a later finding
 * about the same subject updates the record instead of adding one, and a check that finds the subject
 * back in its desired state closes it (`asffClosure`).
 *
 * A problem is `Compliance.Status` FAILED, `RecordState` ACTIVE, its severity mapped (critical → CRITICAL …
 * info → INFORMATIONAL); a restore (action `remediated`) and a closure are PASSED, ARCHIVED, INFORMATIONAL.
 * Every text comes from `plainFinding` (src/core/plain-text.ts): attacker-controlled values are one line,
 * with their control, bidi and zero-width characters shown as `\uXXXX`; Title and Description are cut to
 * Security Hub's 256 and 1,024 characters.
 */
import type { AwsSecurityFinding, Partition, Resource, SeverityLabel } from '@aws-sdk/client-securityhub';
import { actorName } from '../core/actor-name';
import {
  ACCOUNT_SUBJECTS,
  type ComplianceRecord,
  type ComplianceSubject,
  isRestored,
  SUBJECT_OF_KIND,
} from '../core/compliance';
import type { ActionTaken, Finding, FindingKind } from '../core/finding';
import { type KeyLocation, partitionOfRegion } from '../core/key-arn';
import { oneLine, plainFinding } from '../core/plain-text';
import { renderCompactDiff } from '../policy/render';
import type { Severity } from '../policy/types';
import { consoleUrl } from './console-url';

export const ASFF_SCHEMA_VERSION = '2018-10-08';
export const ASFF_ID_PREFIX = 'kms-policy-guard/';
/** The product and company Security Hub shows (a custom integration may name them; filter on them in the console). */
export const ASFF_PRODUCT_NAME = 'kms-policy-guard';
/** Security Hub's limits on the fields the guard fills. */
export const ASFF_LIMITS = {
  title: 256,
  description: 1024,
  productFieldValue: 2048,
  qualifier: 128,
} as const;
/** How much of the description the diff summary may take. */
const DIFF_MAX_CHARS = 480;

export const ASFF_SEVERITY: Readonly<Record<Severity, SeverityLabel>> = {
  critical: 'CRITICAL',
  high: 'HIGH',
  medium: 'MEDIUM',
  low: 'LOW',
  info: 'INFORMATIONAL',
};

const BEST_PRACTICES = 'Software and Configuration Checks/AWS Security Best Practices';

/** The ASFF finding type of each kind (namespace/category/classifier). */
export const ASFF_TYPE: Readonly<Record<FindingKind, string>> = {
  drift: `${BEST_PRACTICES}/KMS key policy drift`,
  remediated: `${BEST_PRACTICES}/KMS key policy drift`,
  'would-remediate': `${BEST_PRACTICES}/KMS key policy drift`,
  'key-not-writable': `${BEST_PRACTICES}/KMS key policy drift`,
  flapping: `${BEST_PRACTICES}/KMS key policy drift`,
  'remediation-failed': `${BEST_PRACTICES}/KMS key policy drift`,
  'lockout-risk': `${BEST_PRACTICES}/KMS key policy drift`,
  'invalid-desired': `${BEST_PRACTICES}/KMS key policy drift`,
  'invalid-live': `${BEST_PRACTICES}/KMS key policy invalid`,
  'orphaned-principal': `${BEST_PRACTICES}/KMS key policy names a deleted principal`,
  'unmanaged-key': `${BEST_PRACTICES}/KMS key not managed`,
  'guard-locked-out': `${BEST_PRACTICES}/KMS key not readable by the guard`,
  'key-unavailable': `${BEST_PRACTICES}/KMS key not readable by the guard`,
  'key-state-changed': `${BEST_PRACTICES}/KMS key state`,
  'binding-changed': `${BEST_PRACTICES}/KMS key binding`,
  'grant-not-allowed': `${BEST_PRACTICES}/KMS grant not allowed`,
  'replica-unguarded': `${BEST_PRACTICES}/KMS replica unguarded`,
  'guard-impersonated': 'TTPs/Defense Evasion/KMS key policy written with the guard identity',
  'guard-disabled': `${BEST_PRACTICES}/kms-policy-guard health`,
  'guard-degraded': `${BEST_PRACTICES}/kms-policy-guard health`,
  'audit-incomplete': `${BEST_PRACTICES}/kms-policy-guard health`,
  'audit-summary': `${BEST_PRACTICES}/kms-policy-guard health`,
  'account-not-guarded': 'Unusual Behaviors/Application/KMS change outside the guarded accounts',
  'spoke-unreachable': `${BEST_PRACTICES}/kms-policy-guard health`,
};

const SUBJECT_LABEL: Readonly<Record<ComplianceSubject, string>> = {
  'key-policy': 'The key policy',
  'key-state': 'The key state',
  binding: "The key's binding to its manifest entry",
  grant: 'A grant the manifest entry did not allow',
  access: "The guard's access to the key",
  'guard-impersonated': "A write with the guard's identity",
  'replica-unguarded': 'An unguarded replica',
  'guard-disabled': "The guard's drift rule",
  'guard-degraded': "The guard's health",
  'audit-incomplete': 'The audit',
  'spoke-access': "The guard's spoke role",
  'account-scope': 'KMS changes outside the guard',
};

const ACTION_TEXT: Readonly<Record<ActionTaken, string>> = {
  none: 'reported it',
  alerted: 'changed nothing (report only)',
  remediated: 'restored the desired state',
  failed: 'did not restore it (refused or failed)',
};

const ARN_PARTITION = /^arn:(aws(?:-[a-z]+)*):/;
const KNOWN_PARTITIONS: ReadonlySet<string> = new Set<Partition>([
  'aws',
  'aws-cn',
  'aws-us-gov',
  'aws-us-iso',
  'aws-us-iso-b',
]);

/** `text` in at most `max` UTF-16 units, ending with `…` when cut, never splitting a surrogate pair. */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/** The Security Hub product of the account's own findings (the default product). */
export function productArnOf(location: KeyLocation): string {
  const { partition, region, accountId } = location;
  return `arn:${partition}:securityhub:${region}:${accountId}:product/${accountId}/default`;
}

/** Where a finding (or a record) lives: the partition of its key ARN, its account and Region. */
export function locationOf(item: Pick<Finding, 'keyArn' | 'region' | 'account'>): KeyLocation {
  const partition = ARN_PARTITION.exec(item.keyArn)?.[1] ?? partitionOfRegion(item.region);
  return { partition, region: item.region, accountId: item.account };
}

/** A qualifier (grant ID, Region) safe inside an ID: one line, URI-encoded, bounded. */
function qualifier(value: string): string {
  return encodeURIComponent(oneLine(value)).slice(0, ASFF_LIMITS.qualifier);
}

/** The record of a key's (or, keyId `*`, the account's) subject; base of a grant's or replica's record. */
export function asffIdOf(
  ref: { keyArn: string; keyId: string; location: KeyLocation },
  subject: ComplianceSubject,
  qualifiedBy?: string,
): string {
  const { region, accountId } = ref.location;
  const base =
    ref.keyId === '*' ? `${ASFF_ID_PREFIX}${accountId}/${region}` : `${ASFF_ID_PREFIX}${ref.keyArn}`;
  return oneLine(`${base}/${subject}${qualifiedBy === undefined ? '' : `/${qualifier(qualifiedBy)}`}`);
}

/** The record a finding opens or updates; undefined for the audit's summary (not a problem of anything). */
export function asffIdOfFinding(finding: Finding): string | undefined {
  const subject = SUBJECT_OF_KIND[finding.kind];
  if (subject === undefined) return undefined;
  // An account's subject is one record per account and Region, whatever key the finding names.
  const keyId = ACCOUNT_SUBJECTS.has(subject) ? '*' : finding.keyId;
  const ref = { keyArn: finding.keyArn, keyId, location: locationOf(finding) };
  if (subject === 'grant') return asffIdOf(ref, subject, finding.grant?.grantId ?? finding.id);
  if (subject === 'replica-unguarded')
    return asffIdOf(ref, subject, finding.keyState?.replicaRegion ?? 'unknown');
  return asffIdOf(ref, subject);
}

/** An ISO time when `text` is one (a CloudTrail eventTime is attacker-controlled), else undefined. */
function isoTime(text: string | undefined): string | undefined {
  if (text === undefined || !/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined;
  const time = Date.parse(text);
  return Number.isFinite(time) ? new Date(time).toISOString() : undefined;
}

function resourceOf(ref: { keyArn: string; keyId: string }, location: KeyLocation): Resource {
  const partition = KNOWN_PARTITIONS.has(location.partition) ? (location.partition as Partition) : undefined;
  const resource: Resource =
    ref.keyId === '*'
      ? { Type: 'AwsAccount', Id: `AWS::::Account:${location.accountId}`, Region: location.region }
      : {
          Type: 'AwsKmsKey',
          Id: oneLine(ref.keyArn),
          Region: location.region,
          Details: { AwsKmsKey: { KeyId: oneLine(ref.keyId) } },
        };
  if (partition) resource.Partition = partition;
  return resource;
}

/** The diff summary on one line: the compact diff's lines joined by ` | `. */
function diffSummary(shown: Finding): string | undefined {
  if (!shown.diff) return undefined;
  const text = renderCompactDiff({ diff: shown.diff, cosmetic: shown.cosmetic ?? [] }, DIFF_MAX_CHARS);
  return text
    .split('\n')
    .map((line) => line.trim().replace(/ {2,}/g, ' '))
    .filter((line) => line !== '')
    .join(' | ');
}

function whoAndWhen(shown: Finding): string {
  const actor = shown.actor;
  if (!actor) return `Found by the ${shown.trigger} check at ${shown.time}.`;
  const name = actorName(actor);
  return [
    `Changed${name ? ` by ${name}` : ''}`,
    actor.eventName ? ` (${actor.eventName})` : '',
    actor.eventTime ? ` at ${actor.eventTime}` : '',
    actor.sourceIPAddress ? ` from ${actor.sourceIPAddress}` : '',
    `; checked at ${shown.time}.`,
  ].join('');
}

/** The description: the key, who changed it, what the guard did, the diff summary, the details. */
export function asffDescription(finding: Finding): string {
  const shown = plainFinding(finding);
  const entry = shown.keyName
    ? ` (manifest entry ${shown.keyName}${shown.policyFile ? `, ${shown.policyFile}` : ''})`
    : '';
  const aliases = shown.aliases.length > 0 ? `, aliases ${shown.aliases.join(', ')}` : '';
  const diff = diffSummary(shown);
  const parts = [
    shown.keyId === '*'
      ? `Account ${shown.account}, Region ${shown.region}.`
      : `Key ${shown.keyArn}${entry}${aliases}, mode ${shown.mode}.`,
    whoAndWhen(shown),
    `The guard ${ACTION_TEXT[shown.action]}.`,
    ...(diff ? [`Change: ${diff}.`] : []),
    ...shown.details,
  ];
  // oneLine again: idempotent on what plainFinding made, and a guarantee for the template's own text.
  return cutText(oneLine(parts.join(' ')), ASFF_LIMITS.description);
}

function productFields(shown: Finding): Record<string, string> {
  const fields: Record<string, string | undefined> = {
    'kms-policy-guard/kind': shown.kind,
    'kms-policy-guard/findingId': shown.id,
    'kms-policy-guard/action': shown.action,
    'kms-policy-guard/mode': shown.mode,
    'kms-policy-guard/trigger': shown.trigger,
    'kms-policy-guard/keyName': shown.keyName,
    'kms-policy-guard/policyFile': shown.policyFile,
    'kms-policy-guard/aliases': shown.aliases.length > 0 ? shown.aliases.join(', ') : undefined,
    'kms-policy-guard/actor': shown.actor?.arn,
    'kms-policy-guard/eventId': shown.actor?.eventID,
  };
  return Object.fromEntries(
    Object.entries(fields)
      .filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '')
      .map(([name, value]) => [name, cutText(oneLine(value), ASFF_LIMITS.productFieldValue)]),
  );
}

/**
 * The finding as an ASFF record; undefined for the audit's summary. `home`: the account and Region whose
 * Security Hub keeps it when not the finding's own (the hub's, for an account it cannot reach): product
 * and AwsAccountId are the home's, the resource stays the finding's.
 */
export function asffFinding(finding: Finding, home?: KeyLocation): AwsSecurityFinding | undefined {
  const subject = SUBJECT_OF_KIND[finding.kind];
  const id = asffIdOfFinding(finding);
  if (subject === undefined || id === undefined) return undefined;
  const shown = plainFinding(finding);
  const location = locationOf(finding);
  const keptIn = home ?? location;
  const passed = isRestored(finding);
  const severity = {
    Label: passed ? 'INFORMATIONAL' : ASFF_SEVERITY[finding.severity],
    Original: finding.severity,
  };
  const types = [ASFF_TYPE[finding.kind]];
  const observed = isoTime(finding.actor?.eventTime) ?? finding.time;
  const asff: AwsSecurityFinding = {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id: id,
    ProductArn: productArnOf(keptIn),
    ProductName: ASFF_PRODUCT_NAME,
    CompanyName: ASFF_PRODUCT_NAME,
    GeneratorId: `${ASFF_ID_PREFIX}${subject}`,
    AwsAccountId: keptIn.accountId,
    Types: types,
    CreatedAt: observed,
    FirstObservedAt: observed,
    LastObservedAt: finding.time,
    UpdatedAt: finding.time,
    Severity: severity,
    FindingProviderFields: { Severity: severity, Types: types },
    Title: cutText(oneLine(shown.title), ASFF_LIMITS.title),
    Description: asffDescription(finding),
    Remediation: {
      Recommendation: {
        Text: `What to do about a ${finding.kind} finding: the kms-policy-guard runbook, docs/operations.md#finding-kinds-and-what-to-do.`,
      },
    },
    ProductFields: productFields(shown),
    Resources: [resourceOf(ACCOUNT_SUBJECTS.has(subject) ? { ...finding, keyId: '*' } : finding, location)],
    Compliance: { Status: passed ? 'PASSED' : 'FAILED' },
    RecordState: passed ? 'ARCHIVED' : 'ACTIVE',
  };
  const url = consoleUrl(finding);
  if (url) asff.SourceUrl = url;
  return asff;
}

/**
 * Closes an open record: the subject is back in its desired state, as `record`'s check found it. The record
 * keeps its ID, product, generator, type, resource and creation time; it becomes PASSED, ARCHIVED and
 * INFORMATIONAL, updated at the check's time. Undefined when the open record lacks what an import needs.
 */
export function asffClosure(
  open: AwsSecurityFinding,
  record: ComplianceRecord,
  subject: ComplianceSubject,
): AwsSecurityFinding | undefined {
  const { Id, ProductArn, GeneratorId, AwsAccountId, CreatedAt } = open;
  if (!Id || !ProductArn || !GeneratorId || !AwsAccountId || !CreatedAt) return undefined;
  const severity = { Label: 'INFORMATIONAL' as const, Original: 'resolved' };
  const types = open.Types && open.Types.length > 0 ? open.Types : [ASFF_TYPE.drift];
  const by = record.actor ? actorName(record.actor) : undefined;
  const after = record.actor?.eventName
    ? ` after ${oneLine(record.actor.eventName)}${by ? ` by ${by}` : ''}`
    : '';
  const label = record.keyName ?? record.aliases[0] ?? record.keyId;
  const previously = open.Description ? ` Previously: ${open.Description}` : '';
  const closure: AwsSecurityFinding = {
    SchemaVersion: ASFF_SCHEMA_VERSION,
    Id,
    ProductArn,
    ProductName: ASFF_PRODUCT_NAME,
    CompanyName: ASFF_PRODUCT_NAME,
    GeneratorId,
    AwsAccountId,
    Types: types,
    CreatedAt,
    FirstObservedAt: open.FirstObservedAt ?? CreatedAt,
    LastObservedAt: record.time,
    UpdatedAt: record.time,
    Severity: severity,
    FindingProviderFields: { Severity: severity, Types: types },
    Title: cutText(
      oneLine(`Resolved: ${open.Title ?? `${SUBJECT_LABEL[subject]} of ${label}`}`),
      ASFF_LIMITS.title,
    ),
    Description: cutText(
      oneLine(
        `${SUBJECT_LABEL[subject]} of ${record.keyId === '*' ? `account ${record.location.accountId} ${record.location.region}` : `key ${record.keyArn} (${label})`} is back in its desired state: the guard's ${record.trigger} check at ${record.time}${after} found nothing to report.${previously}`,
      ),
      ASFF_LIMITS.description,
    ),
    ProductFields: {
      ...Object.fromEntries(
        Object.entries(open.ProductFields ?? {})
          .filter(([name]) => name.startsWith(ASFF_ID_PREFIX))
          .map(([name, value]) => [name, cutText(oneLine(value), ASFF_LIMITS.productFieldValue)]),
      ),
      'kms-policy-guard/resolvedBy': record.trigger,
    },
    Resources: [resourceOf(record, record.location)],
    Compliance: { Status: 'PASSED' },
    RecordState: 'ARCHIVED',
  };
  if (open.SourceUrl) closure.SourceUrl = open.SourceUrl;
  return closure;
}

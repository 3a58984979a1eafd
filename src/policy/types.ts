/**
 * The policy engine's public shapes. Pure data: no AWS SDK, no I/O.
 *
 * Module map (each file implements the functions named here):
 *   parse.ts      parsePolicy(input: string | unknown): ParseResult
 *   normalize.ts  normalizePolicy(doc: PolicyDocument, ctx?: NormalizeContext): NormalizedPolicy
 *   compare.ts    comparePolicies(desired: string | unknown, live: string | unknown, ctx?: NormalizeContext): CompareResult
 *   diff.ts       diffPolicies(desired: NormalizedPolicy, live: NormalizedPolicy): PolicyDiff  (used by compare)
 *   statement-change.ts  one statement-level change: added, removed or a changed pair     (used by diff)
 *   atoms.ts      effective access as atoms: what covers what                             (used by match-statements, statement-change)
 *   match-statements.ts  matchStatements: which desired statement is which live one (used by diff)
 *   access.ts     accessChanges(desired, live): AccessChange[]                               (used by diff)
 *   validate.ts   validatePolicy(input: string | unknown, options?: ValidateOptions): ValidationResult
 *   rules/        VALIDATION_RULES: one unit per catalogue code, by family (format, elements,
 *                 conditions, actions-and-keys, security)
 *   catalogue.ts  RULES: readonly RuleInfo[]  (the validation rule catalogue, also in the README)
 *   render.ts     renderDiffText / renderFindingsText: human text (no colour codes; the CLI colours)
 *   json/         the JSON front end under parse and validate: reader.ts (readJsonText, the one reader of
 *                 JSON text), value.ts (in-memory values), path.ts (childPath), text.ts (utf8ByteLength, ...)
 *   shape/        checkShape (check.ts): the one structural checker, typed PolicyDocument + shape
 *                 issues, under parse and validate; view.ts, located reading for the rules
 *   suggest.ts    closestName: "did you mean"
 *   grammar.ts    DOCUMENT_ELEMENTS, STATEMENT_ELEMENTS, PRINCIPAL_TYPES
 *   index.ts      re-exports the above
 */

/** Risk ranking of a change or finding, highest first. */
export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export const SEVERITY_ORDER: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

/** A JSON path into the policy document, e.g. `$.Statement[2].Condition.StringEquals`. */
export type JsonPath = string;

export type ConditionValue = string | number | boolean;
export type ConditionBlock = Record<string, Record<string, ConditionValue | ConditionValue[]>>;
export type PrincipalValue = '*' | Record<string, string | string[]>;

/** A statement as written (after parse: shapes checked, values not yet normalized). */
export interface PolicyStatement {
  Sid?: string;
  Effect: string;
  Principal?: PrincipalValue;
  NotPrincipal?: PrincipalValue;
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: ConditionBlock;
}

/** A document as written; `Statement` is always an array after parse (a lone object becomes one element). */
export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement[];
}

export interface ParseIssue {
  path: JsonPath;
  message: string;
}

export type ParseResult =
  | {
      ok: true;
      document: PolicyDocument;
      /** Element names that are not part of the policy grammar (e.g. `Actoin`), with their paths. */
      unknownElements: ParseIssue[];
      /** UTF-8 byte length of the text (or of JSON.stringify of an object input). */
      byteLength: number;
    }
  | { ok: false; issues: ParseIssue[] };

/** Context that turns account IDs into canonical principals (`123456789012` -> `arn:aws:iam::123456789012:root`). */
export interface NormalizeContext {
  /** Partition used for the account-ID-to-ARN rule; default `aws`. */
  partition?: string;
  /**
   * The key's ARN, when known: a `Resource` that names this key (its ARN, or a pattern such as
   * `key/*` of its account and Region that matches it) means what `"*"` means in a key policy.
   */
  keyArn?: string;
  /** The key's own account, when known (also taken from `keyArn`): principals of other accounts are cross-account. */
  keyAccount?: string;
}

/** Canonical condition: operator -> key -> sorted unique values, all lower-cased where AWS ignores case. */
export interface NormalizedCondition {
  /** Operator as written canonically (e.g. `StringEquals`, `ForAnyValue:StringLike`, `BoolIfExists`). */
  operator: string;
  /** Condition key, lower-cased (keys are case-insensitive). */
  key: string;
  /** Values as canonical strings (typed operators: `true`/`"true"` -> `true`; `1`/`"1"` -> `1`), sorted, unique. */
  values: string[];
}

/** One statement in canonical form. Principals are `*` or `<type>:<value>` (`AWS:arn:aws:iam::1:root`). */
export interface NormalizedStatement {
  sid?: string;
  effect: 'Allow' | 'Deny' | string;
  principalKind: 'Principal' | 'NotPrincipal' | 'none';
  principals: string[];
  actionKind: 'Action' | 'NotAction' | 'none';
  /** Lower-cased, sorted, unique. */
  actions: string[];
  resourceKind: 'Resource' | 'NotResource' | 'none';
  resources: string[];
  conditions: NormalizedCondition[];
  /** Index of the statement in the original document. */
  index: number;
}

export interface NormalizedPolicy {
  version?: string;
  id?: string;
  statements: NormalizedStatement[];
  /** The key's own account, when the context states it (NormalizeContext). */
  keyAccount?: string;
  /** The key's ARN, when the context states a valid one: which `Resource` values name the key. */
  keyArn?: string;
}

export type CosmeticKind = 'sid' | 'id' | 'formatting' | 'statement-order' | 'value-form';
export interface CosmeticDifference {
  kind: CosmeticKind;
  message: string;
  path?: JsonPath;
}

export type StatementChangeKind = 'added' | 'removed' | 'changed';
export interface SetDelta {
  added: string[];
  removed: string[];
}

/** One statement-level change, live relative to desired ("added" = present live, absent from desired). */
export interface StatementChange {
  kind: StatementChangeKind;
  severity: Severity;
  /** Index in the desired / live documents (absent for added / removed respectively). */
  desiredIndex?: number;
  liveIndex?: number;
  sid?: string;
  effect: string;
  /** A sentence a person understands, e.g. `Allow statement adds principal * for kms:Decrypt`. */
  summary: string;
  principals?: SetDelta;
  actions?: SetDelta;
  resources?: SetDelta;
  conditions?: { added: NormalizedCondition[]; removed: NormalizedCondition[] };
  /** e.g. `Effect changed from Allow to Deny`, `Action became NotAction`, wildcard notes. */
  notes: string[];
}

/** Who gained or lost which access (wildcards expanded with the service data). */
export interface AccessChange {
  principal: string;
  gained: string[];
  lost: string[];
  /** Conditions that still restrict the gained access, rendered `Operator key=[values]`. */
  conditions: string[];
  /** Principal is `*` / from an account other than the desired document's own accounts. */
  anyone: boolean;
  crossAccount: boolean;
  severity: Severity;
}

export interface OrphanedPrincipal {
  principal: string;
  /** `live` when KMS shows a unique ID (AROA…/AIDA…), meaning the IAM role/user was deleted. */
  where: 'desired' | 'live';
  path: JsonPath;
  message: string;
}

/** A change outside the statements (today only `Version`: missing vs "2012-10-17" changes how AWS reads `${…}`). */
export interface DocumentChange {
  element: 'Version';
  desired?: string;
  live?: string;
  severity: Severity;
  summary: string;
}

export interface PolicyDiff {
  statements: StatementChange[];
  /** Document-level changes; absent or empty when there are none. */
  documentChanges?: DocumentChange[];
  access: AccessChange[];
  orphanedPrincipals: OrphanedPrincipal[];
  /** Highest severity over statements, access and orphaned principals; `info` when only cosmetic. */
  severity: Severity;
}

export interface CompareResult {
  status: 'equivalent' | 'drift';
  cosmetic: CosmeticDifference[];
  diff: PolicyDiff;
  /** Why a document could not be compared (parse issues, unknown elements); non-empty means drift. */
  problems: { document: 'desired' | 'live'; issues: ParseIssue[] }[];
  /** Date of the AWS service data used for wildcard expansion. */
  serviceDataDate: string;
}

export type FindingLevel = 'error' | 'warning';

/** A validation finding, cfn-lint style: stable code, where, what, how bad. */
export interface ValidationFinding {
  code: string;
  level: FindingLevel;
  path: JsonPath;
  message: string;
}

export interface ValidateOptions {
  /** Account IDs allowed as principals; principals outside produce a warning. Empty or absent: no check. */
  allowedAccounts?: string[];
  /** ARNs considered administrators of the key (besides the account root). */
  adminPrincipals?: string[];
  /** The guard's own role ARN: in remediate mode it must keep kms:GetKeyPolicy and kms:PutKeyPolicy. */
  guardPrincipal?: string;
  mode?: 'alert' | 'remediate' | 'dry-run';
  partition?: string;
  /**
   * The key's own account (its root is an administrator). Absent: inferred from the policy
   * (docs/rules.md#the-keys-account), and the messages that depend on it say so.
   */
  keyAccount?: string;
  /** The key's ARN: a `Resource` naming this key is accepted (KMS116); also gives keyAccount when absent. */
  keyArn?: string;
}

export interface ValidationResult {
  /** False when any finding is an error. */
  valid: boolean;
  findings: ValidationFinding[];
  byteLength: number;
}

export interface RuleInfo {
  code: string;
  level: FindingLevel;
  title: string;
  description: string;
}

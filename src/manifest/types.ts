/**
 * The manifest (docs/architecture.md#the-manifest): which key gets which desired document, in which mode.
 * `src/manifest/index.ts` implements:
 *   loadManifest(path: string): LoadedManifest          reads YAML/JSON, validates it and every document; throws ManifestError
 *   resolveKey(manifest, key: KeyMetadata): ManagedKey | undefined   match by key ID, key ARN, alias or tag
 *   renderDesiredPolicy(key: ManagedKey, target: PlaceholderValues): string   placeholders substituted
 *   placeholderValuesFromArn(keyArn: string): PlaceholderValues
 */

import type { GuardMode } from '../core/key';
import type { KeyLocation } from '../core/key-arn';
import type { ValidationFinding } from '../policy/types';

/**
 * Values substituted for `{{Partition}}`, `{{Region}}`, `{{AccountId}}` (where the key lives) and `{{GuardPrincipal}}`
 * (the principal the guard acts as in the key's account: the spoke role in an organization's member account; when
 * absent, the guard's own role `kms-policy-guard-<region>` in the key's account). IAM variables like
 * `${aws:PrincipalTag/team}` pass through.
 */
export type PlaceholderValues = KeyLocation & { guardPrincipal?: string };

export interface KeyMatcher {
  keyId?: string;
  keyArn?: string;
  /** `alias/name` */
  alias?: string;
  tag?: { key: string; value: string };
}

/** One grant the manifest allows on a key, besides the grants AWS services create for AWS resources. */
export interface GrantRule {
  /** Grantee principal ARN pattern (`*`, `?`); may contain placeholders. */
  grantee: string;
  /** The grant may allow only these operations. */
  operations: string[];
  /** The grant must carry an encryption-context constraint. */
  requireConstraints: boolean;
}

export interface GrantPolicy {
  /** Grants AWS services create for AWS resources (docs/architecture.md#grants) are allowed. */
  allowServiceGrants: boolean;
  allow: GrantRule[];
}

/** The key state the guard keeps: enabled (default) and, when declared, automatic rotation on or off. */
export interface DesiredKeyState {
  enabled: boolean;
  rotation?: boolean;
}

export interface ManagedKey {
  /** Human label from the manifest, e.g. `payments-data`. */
  name: string;
  match: KeyMatcher;
  mode: GuardMode;
  /** Path of the desired document, as written in the manifest (relative to the manifest). */
  policyFile: string;
  /** The desired document's text with placeholders still in it. */
  policyTemplate: string;
  grants: GrantPolicy;
  state: DesiredKeyState;
  /** Only keys of these accounts (12-digit IDs) or of accounts in these OUs (`ou-…`); absent: every account. */
  accounts?: string[];
  /** Only keys in these Regions; absent: every guarded Region. */
  regions?: string[];
}

export interface FlappingLimit {
  /** More than this many re-applies of one key inside the window: stop remediating, raise `flapping`. */
  maxReapplies: number;
  windowMinutes: number;
}

export interface LoadedManifest {
  /** Absolute path of the manifest file. */
  path: string;
  /** What to do with keys no entry matches. */
  unmanagedKeys: 'ignore' | 'report';
  flapping: FlappingLimit;
  /** Accounts allowed as principals (validation warning outside it); empty: no check. */
  allowedAccounts: string[];
  /**
   * Principals treated as key administrators by the validator, as written: they may contain placeholders
   * (`arn:{{Partition}}:iam::{{AccountId}}:role/KMSAdminRole`). `validationOptionsFor()` renders them for a key.
   */
  adminPrincipals: string[];
  keys: ManagedKey[];
  /** Validation warnings of the desired documents (rendered with sample values) found at load; always set by loadManifest. */
  warnings?: ManifestWarning[];
}

/** A validation warning of one desired document, kept so the CLI and the logs can show it. */
export interface ManifestWarning {
  /** Manifest entry name. */
  key: string;
  /** Policy file as written in the manifest. */
  policyFile: string;
  finding: ValidationFinding;
}

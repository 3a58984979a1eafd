/**
 * diffPolicies: the structural diff of two normalized policies (docs/architecture.md#comparing-two-key-policies).
 * Statements are paired by content, never by Sid (match-statements.ts): identical, "changed" (paired
 * by similarity), "added" (live only) or "removed" (desired only). Every change gets a severity from
 * whether it widens or narrows access.
 */
import { accessChanges, documentAccounts } from './access';
import { matchStatements, type StatementMatching } from './match-statements';
import { grantsOnKey, isUniqueIdPrincipal } from './normalize';
import { addedOrRemoved, changedStatement } from './statement-change';
import type {
  DocumentChange,
  NormalizedPolicy,
  OrphanedPrincipal,
  PolicyDiff,
  Severity,
  StatementChange,
} from './types';
import { SEVERITY_ORDER } from './types';

// index.ts re-exports this module: these names stay importable from here.
export { matchStatements, type StatementMatching } from './match-statements';
export { displayPrincipal } from './principal-name';
export { displayAction } from './statement-change';

export function maxSeverity(severities: Iterable<Severity>): Severity {
  let best = SEVERITY_ORDER.length - 1;
  for (const severity of severities) best = Math.min(best, SEVERITY_ORDER.indexOf(severity));
  return SEVERITY_ORDER[best] ?? 'info';
}

/**
 * Unique-ID principals in the live document: the IAM role or user behind them was deleted. A
 * statement whose Resource does not name the key is left out, as everywhere in compare.
 */
export function orphanedPrincipals(live: NormalizedPolicy): OrphanedPrincipal[] {
  const orphans: OrphanedPrincipal[] = [];
  for (const statement of live.statements) {
    if (!grantsOnKey(statement, live.keyArn)) continue;
    for (const principal of statement.principals) {
      if (!isUniqueIdPrincipal(principal)) continue;
      const id = principal.slice(4);
      orphans.push({
        principal: id,
        where: 'live',
        path: `$.Statement[${statement.index}].${statement.principalKind === 'NotPrincipal' ? 'NotPrincipal' : 'Principal'}.AWS`,
        message: `KMS shows ${id} instead of an ARN: the IAM role or user it named was deleted (recreating it does not restore access)`,
      });
    }
  }
  return orphans;
}

function versionChanges(desired: NormalizedPolicy, live: NormalizedPolicy): DocumentChange[] {
  if (desired.version === live.version) return [];
  const change: DocumentChange = {
    element: 'Version',
    severity: 'medium',
    summary: `Version changed from ${desired.version ?? '(missing)'} to ${live.version ?? '(missing)'}${
      live.version === undefined
        ? ': without a Version AWS reads policy variables such as ${aws:username} as literal text'
        : ''
    }`,
  };
  if (desired.version !== undefined) change.desired = desired.version;
  if (live.version !== undefined) change.live = live.version;
  return [change];
}

/** The structural diff, live relative to desired. */
export function diffPolicies(
  desired: NormalizedPolicy,
  live: NormalizedPolicy,
  matching: StatementMatching = matchStatements(desired, live),
): PolicyDiff {
  const hasChanges = matching.changed.length + matching.removed.length + matching.added.length > 0;
  const ownAccounts = hasChanges ? documentAccounts(desired) : new Set<string>();
  const statements: StatementChange[] = [];
  for (const [desiredIndex, liveIndex] of matching.changed) {
    const before = desired.statements[desiredIndex];
    const after = live.statements[liveIndex];
    if (before && after) statements.push(changedStatement(before, after, ownAccounts, matching.atoms));
  }
  for (const index of matching.removed) {
    const statement = desired.statements[index];
    if (statement) statements.push(addedOrRemoved('removed', statement, ownAccounts, matching.atoms));
  }
  for (const index of matching.added) {
    const statement = live.statements[index];
    if (statement) statements.push(addedOrRemoved('added', statement, ownAccounts, matching.atoms));
  }
  statements.sort(
    (a, b) =>
      SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
      (a.desiredIndex ?? a.liveIndex ?? 0) - (b.desiredIndex ?? b.liveIndex ?? 0),
  );
  // Identical statement multisets grant identical access: skip the (costlier) access view.
  const access = statements.length > 0 ? accessChanges(desired, live) : [];
  const orphans = orphanedPrincipals(live);
  const documentChanges = versionChanges(desired, live);
  const severity = maxSeverity([
    ...statements.map((change) => change.severity),
    ...access.map((change) => change.severity),
    ...orphans.map((): Severity => 'medium'),
    ...documentChanges.map((change) => change.severity),
  ]);
  const diff: PolicyDiff = { statements, access, orphanedPrincipals: orphans, severity };
  if (documentChanges.length > 0) diff.documentChanges = documentChanges;
  return diff;
}

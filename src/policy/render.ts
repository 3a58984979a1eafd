/**
 * Plain text for people (alerts, email, CLI). No colour codes: the CLI adds colour. Deterministic:
 * the same result always renders to the same text. Order: who gained or lost what first, then the
 * statement changes, then what is merely cosmetic, orphaned principals and problems.
 */
import { displayPrincipal } from './principal-name';
import { SERVICE_DATA_DATE } from './service-data-date';
import type { AccessChange, CompareResult, Severity, ValidationFinding } from './types';

/**
 * What the diff renderers read: a comparison's result, or the diff a finding recorded (whose status is
 * drift and whose documents were both read, so `status`, `problems` and `serviceDataDate` default).
 */
export type DiffView = Pick<CompareResult, 'diff' | 'cosmetic'> &
  Partial<Pick<CompareResult, 'status' | 'problems' | 'serviceDataDate'>>;

function viewOf(view: DiffView): CompareResult {
  return {
    status: view.status ?? 'drift',
    diff: view.diff,
    cosmetic: view.cosmetic,
    problems: view.problems ?? [],
    serviceDataDate: view.serviceDataDate ?? SERVICE_DATA_DATE,
  };
}

function tag(severity: Severity): string {
  return `[${severity.toUpperCase()}]`;
}

function who(change: AccessChange): string {
  if (change.principal === '*') return '* (anyone, in any AWS account)';
  const qualifiers = [
    change.anyone && !change.principal.startsWith('*') ? 'anyone' : '',
    change.crossAccount ? 'cross-account' : '',
  ]
    .filter(Boolean)
    .join(', ');
  const name = change.principal.startsWith('* except')
    ? `${change.principal} (anyone else)`
    : displayPrincipal(change.principal);
  return qualifiers ? `${name} (${qualifiers})` : name;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

function headline(result: CompareResult): string {
  const cosmetic =
    result.cosmetic.length > 0
      ? ` (${plural(result.cosmetic.length, 'cosmetic difference')}, not drift)`
      : '';
  if (result.status === 'equivalent') return `Policies are equivalent${cosmetic}.`;
  const counts = [
    result.diff.access.length > 0
      ? `${plural(result.diff.access.length, 'principal')} with changed access`
      : '',
    result.diff.statements.length > 0 ? plural(result.diff.statements.length, 'statement change') : '',
    result.diff.orphanedPrincipals.length > 0
      ? plural(result.diff.orphanedPrincipals.length, 'orphaned principal')
      : '',
    result.problems.length > 0 ? plural(result.problems.length, 'unreadable document') : '',
  ].filter(Boolean);
  return `Policy drift, severity ${result.diff.severity.toUpperCase()}${counts.length > 0 ? `: ${counts.join(', ')}` : ''}.`;
}

function section(title: string, lines: string[]): string[] {
  return lines.length === 0 ? [] : ['', title, ...lines];
}

/** The sections of the text in the order people need them; truncation drops from the end. */
function sections(result: CompareResult): string[][] {
  const access = result.diff.access.flatMap((change) => [
    `  ${tag(change.severity)} ${who(change)}`,
    ...(change.gained.length > 0 ? [`      gained: ${change.gained.join(', ')}`] : []),
    ...(change.lost.length > 0 ? [`      lost:   ${change.lost.join(', ')}`] : []),
    ...(change.conditions.length > 0 ? [`      only when: ${change.conditions.join('; ')}`] : []),
  ]);
  const statements = result.diff.statements.flatMap((change) => [
    `  ${tag(change.severity)} ${change.summary}`,
    ...change.notes.map((note) => `      note: ${note}`),
  ]);
  const documentChanges = (result.diff.documentChanges ?? []).map(
    (change) => `  ${tag(change.severity)} ${change.summary}`,
  );
  const orphans = result.diff.orphanedPrincipals.map(
    (orphan) => `  - ${orphan.principal} at ${orphan.path} (${orphan.where}): ${orphan.message}`,
  );
  const problems = result.problems.flatMap((problem) =>
    problem.issues.map((issue) => `  - ${problem.document} ${issue.path}: ${issue.message}`),
  );
  const cosmetic = result.cosmetic.map(
    (difference) => `  - ${difference.message}${difference.path ? ` (${difference.path})` : ''}`,
  );
  return [
    [headline(result)],
    section('Who gained or lost access:', access),
    section('Statement changes (live compared with desired):', [...statements, ...documentChanges]),
    section('Problems (the document could not be compared fully):', problems),
    section('Orphaned principals (deleted IAM roles or users):', orphans),
    section('Cosmetic differences (not drift):', cosmetic),
    ['', `Wildcards expanded with AWS service data of ${result.serviceDataDate}.`],
  ];
}

/** The full human diff: access view, statement changes, problems, orphans, cosmetic notes. */
export function renderDiffText(view: DiffView): string {
  return sections(viewOf(view)).flat().join('\n');
}

/** Cuts text to at most `maxChars` UTF-16 units without splitting a surrogate pair. */
function cutAt(text: string, maxChars: number): string {
  if (text.length <= maxChars) return text;
  let end = Math.max(0, maxChars);
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end--;
  return text.slice(0, end);
}

/**
 * The human diff in at most `maxChars` characters (SNS subjects and Slack blocks have hard limits).
 * Whole lines are kept in priority order; what does not fit is counted, never cut mid-word when a
 * line boundary is available.
 */
export function renderCompactDiff(view: DiffView, maxChars: number): string {
  const lines = sections(viewOf(view))
    .flat()
    .filter((line) => line !== '');
  const full = lines.join('\n');
  if (full.length <= maxChars) return full;
  const kept: string[] = [];
  let length = 0;
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? '';
    const omitted = lines.length - index - 1;
    const marker = `… ${plural(omitted, 'more line')}`;
    const added = (kept.length > 0 ? 1 : 0) + line.length;
    // Keep the line only if the truncation marker still fits after it (or it is the last line).
    const reserve = omitted > 0 ? 1 + marker.length : 0;
    if (length + added + reserve > maxChars) break;
    kept.push(line);
    length += added;
  }
  const omitted = lines.length - kept.length;
  const marker = `… ${plural(omitted, 'more line')}`;
  if (kept.length === 0) return cutAt(`${cutAt(lines[0] ?? '', Math.max(0, maxChars - 1))}…`, maxChars);
  return cutAt(`${kept.join('\n')}\n${marker}`, maxChars);
}

/** Validation findings as text, errors first, one per line: `ERROR KMS001 $.path: message`. */
export function renderFindingsText(findings: readonly ValidationFinding[]): string {
  if (findings.length === 0) return 'No findings.';
  const ordered = [...findings].sort((a, b) => (a.level === b.level ? 0 : a.level === 'error' ? -1 : 1));
  return ordered
    .map((finding) => `${finding.level.toUpperCase()} ${finding.code} ${finding.path}: ${finding.message}`)
    .join('\n');
}

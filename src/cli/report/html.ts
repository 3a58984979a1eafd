/**
 * `kms-guard audit --format html`: the audit as one self-contained page for an auditor. It loads
 * nothing (no network, no external script, style or font): the summary with a chart of keys by status
 * and severity, a sortable table of every key (account, Region, key, entry, mode, status), and for
 * each drifted or failed key the access view and the desired and live documents side by side.
 *
 * Pure: report in, string out. Policies, aliases, tags and CloudTrail values are attacker-controlled,
 * so every interpolated value goes through escapeHtml, and the Content-Security-Policy allows only the
 * inline style and the one inline script (by hash): even an escaping bug could not run a script.
 * The AuditReport is read only through htmlReportOf (html/model.ts).
 */
import type { AuditReport } from '../../guard/audit-keys';
import { CONTENT_SECURITY_POLICY, SORT_SCRIPT, STYLE } from './html/assets';
import { renderChart } from './html/chart';
import { keyDetailHtml, severityHtml, statusHtml } from './html/details';
import { escapeHtml } from './html/escape';
import { htmlReportOf, type KeyRow, type KeyStatus, type ReportModel, STATUS_ORDER } from './html/model';

export { escapeHtml } from './html/escape';

export interface HtmlReportOptions {
  /** kms-guard's version, shown in the header and the footer. */
  toolVersion: string;
}

const SEVERITY_RANK = { critical: 0, high: 1, medium: 2, low: 3, info: 4 } as const;
const NO_SEVERITY_RANK = 5;

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function countOf(rows: readonly KeyRow[], ...statuses: KeyStatus[]): number {
  return rows.filter((row) => statuses.includes(row.status)).length;
}

/** Worst first: status, then severity, then entry and key, so the first rows are the ones to read. */
function byConcern(a: KeyRow, b: KeyRow): number {
  const rank = (row: KeyRow) => STATUS_ORDER.indexOf(row.status);
  const severity = (row: KeyRow) => (row.severity ? SEVERITY_RANK[row.severity] : NO_SEVERITY_RANK);
  return (
    rank(a) - rank(b) ||
    severity(a) - severity(b) ||
    (a.entry ?? '\uffff').localeCompare(b.entry ?? '\uffff') ||
    a.keyId.localeCompare(b.keyId)
  );
}

function verdictHtml(rows: readonly KeyRow[], complete: boolean): string {
  const notChecked = countOf(rows, 'not-checked');
  const drift = countOf(rows, 'drift', 'remediated');
  const failed = countOf(rows, 'failed');
  if (!complete) {
    const text = `Audit incomplete: ${plural(notChecked, 'key')} not checked. They are not counted as in sync.`;
    return `<p class="verdict verdict-incomplete" role="status">${escapeHtml(text)}</p>`;
  }
  if (drift > 0 || failed > 0) {
    const text = [drift > 0 ? `${plural(drift, 'key')} drifted` : '', failed > 0 ? `${failed} failed` : '']
      .filter(Boolean)
      .join(', ');
    return `<p class="verdict verdict-bad" role="status">${escapeHtml(`${text}.`)}</p>`;
  }
  const text = rows.length === 0 ? 'No keys were checked.' : 'Every checked key is in sync.';
  return `<p class="verdict verdict-ok" role="status">${text}</p>`;
}

function countsHtml(rows: readonly KeyRow[]): string {
  const counts: [string, string, number][] = [
    ['checked', 'checked', rows.length - countOf(rows, 'not-checked')],
    ['in-sync', 'in sync', countOf(rows, 'in-sync')],
    ['drift', 'drift', countOf(rows, 'drift', 'remediated')],
    ['failed', 'failed', countOf(rows, 'failed')],
    ['unmanaged', 'unmanaged', countOf(rows, 'unmanaged')],
    ['not-checked', 'not checked', countOf(rows, 'not-checked')],
  ];
  const items = counts.map(
    ([name, label, count]) =>
      `<li class="count count-${name}${count === 0 ? ' zero' : ''}" data-count="${name}"><span class="n">${count}</span> <span class="label">${label}</span></li>`,
  );
  return `<ul class="counts">${items.join('')}</ul>`;
}

function factsHtml(model: ReportModel): string {
  const facts: string[] = [];
  if (model.health) {
    facts.push(`<li${model.health.ok ? '' : ' class="bad"'}>${escapeHtml(model.health.text)}</li>`);
  }
  facts.push(`<li>AWS managed keys skipped: ${model.awsManagedSkipped}</li>`);
  for (const note of model.notes) facts.push(`<li>Note: ${escapeHtml(note)}</li>`);
  for (const problem of model.problems) facts.push(`<li class="bad">Problem: ${escapeHtml(problem)}</li>`);
  return `<ul class="facts">${facts.join('')}</ul>`;
}

const COLUMNS = ['Account', 'Region', 'Key', 'Entry', 'Mode', 'Status', 'Severity', 'Change'];

function keyRowHtml(row: KeyRow, index: number): string {
  const aliases = row.aliases.map((alias) => `<div class="aliases">${escapeHtml(alias)}</div>`).join('');
  const key = row.keyId === '' ? '<span class="none">—</span>' : `<code>${escapeHtml(row.keyId)}</code>`;
  const more = row.detail ? ` <a href="#key-${index}">Details</a>` : '';
  const none = '<td data-sort=""><span class="none">—</span></td>';
  const cells = [
    `<td class="nowrap">${escapeHtml(row.account)}</td>`,
    `<td class="nowrap">${escapeHtml(row.region)}</td>`,
    `<td data-sort="${escapeHtml(row.keyId)}">${key}${aliases}</td>`,
    row.entry === undefined ? none : `<td>${escapeHtml(row.entry)}</td>`,
    row.mode === undefined ? none : `<td class="nowrap">${escapeHtml(row.mode)}</td>`,
    `<td class="nowrap" data-sort="${STATUS_ORDER.indexOf(row.status)}">${statusHtml(row)}</td>`,
    `<td data-sort="${row.severity ? SEVERITY_RANK[row.severity] : NO_SEVERITY_RANK}">${severityHtml(row.severity)}</td>`,
    `<td>${escapeHtml(row.change || '—')}${more}</td>`,
  ];
  return `<tr class="row-${row.status}" data-index="${index}">${cells.join('')}</tr>`;
}

function keysTableHtml(rows: readonly KeyRow[]): string {
  if (rows.length === 0) {
    return '<p class="empty">No keys: the manifest matched no key and no unmanaged key was listed.</p>';
  }
  const headers = COLUMNS.map((name) => `<th scope="col"><button type="button">${name}</button></th>`);
  return [
    '<p class="hint">Select a column heading to sort by it; select it again to reverse. <span id="sort-status" aria-live="polite"></span></p>',
    '<table id="keys" class="keys">',
    `<thead><tr>${headers.join('')}</tr></thead>`,
    `<tbody>${rows.map(keyRowHtml).join('\n')}</tbody>`,
    '</table>',
  ].join('\n');
}

/** The page for a report model (htmlReportOf), for the CLI and for tests that build a model directly. */
export function renderReportPage(model: ReportModel, options: HtmlReportOptions): string {
  const rows = [...model.rows].sort(byConcern);
  const details = rows.flatMap((row, index) => (row.detail ? [keyDetailHtml(row, row.detail, index)] : []));
  const run = [
    `Run <code>${escapeHtml(model.runId)}</code>`,
    `started <time datetime="${escapeHtml(model.startedAt)}">${escapeHtml(model.startedAt)}</time>`,
    `${model.durationMs} ms`,
    ...(model.scope ? [escapeHtml(model.scope)] : []),
    `kms-guard ${escapeHtml(options.toolVersion)}`,
  ];
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CONTENT_SECURITY_POLICY)}">`,
    '<meta name="referrer" content="no-referrer">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>KMS key policy audit ${escapeHtml(model.runId)}</title>`,
    '<link rel="icon" href="data:,">',
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<header>',
    '<h1>KMS key policy audit</h1>',
    `<p class="run">${run.join(' · ')}</p>`,
    verdictHtml(rows, model.complete),
    '</header>',
    '<main>',
    '<section aria-labelledby="summary-title">',
    '<h2 id="summary-title">Summary</h2>',
    countsHtml(rows),
    `<figure>${renderChart(rows)}<figcaption>Keys by status, split by the severity of their finding.</figcaption></figure>`,
    factsHtml(model),
    '</section>',
    '<section aria-labelledby="keys-title">',
    `<h2 id="keys-title">Keys (${rows.length})</h2>`,
    keysTableHtml(rows),
    '</section>',
    ...(details.length > 0
      ? [
          '<section aria-labelledby="changes-title">',
          '<h2 id="changes-title">Drifted and failed keys</h2>',
          ...details,
          '</section>',
        ]
      : []),
    '</main>',
    `<footer>Generated by kms-guard ${escapeHtml(options.toolVersion)}. This file is self-contained: it loads nothing from the network.</footer>`,
    `<script>${SORT_SCRIPT}</script>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** The audit report as one self-contained HTML document. */
export function renderAuditHtml(report: AuditReport, options: HtmlReportOptions): string {
  return renderReportPage(htmlReportOf(report), options);
}

/**
 * The report's only style sheet and only script, both inline, and the Content-Security-Policy that
 * allows exactly them: the script by its SHA-256 hash, so a value that escaped escaping still could
 * not run, and nothing at all may be fetched (default-src 'none').
 */
import { createHash } from 'node:crypto';

/**
 * Sorts the keys table by the clicked column (buttons in the headers: keyboard and screen readers
 * work); a cell's data-sort, when present, is its sort key (status and severity sort by rank).
 */
export const SORT_SCRIPT = `
(function () {
  var table = document.getElementById('keys');
  if (!table || !table.tHead || !table.tBodies[0]) return;
  var body = table.tBodies[0];
  var headers = table.tHead.rows[0].cells;
  var announce = document.getElementById('sort-status');
  var collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });
  function sortKey(row, column) {
    var cell = row.cells[column];
    if (!cell) return '';
    var key = cell.getAttribute('data-sort');
    return key === null ? cell.textContent.trim() : key;
  }
  Array.prototype.forEach.call(headers, function (header, column) {
    var button = header.querySelector('button');
    if (!button) return;
    button.addEventListener('click', function () {
      var ascending = header.getAttribute('aria-sort') !== 'ascending';
      Array.prototype.forEach.call(headers, function (other) {
        other.removeAttribute('aria-sort');
      });
      header.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = sortKey(a, column);
        var y = sortKey(b, column);
        // Empty cells (no entry, no mode) stay last in both directions.
        var order = x === y ? 0 : x === '' ? 1 : y === '' ? -1 : collator.compare(x, y) * (ascending ? 1 : -1);
        return order || Number(a.getAttribute('data-index')) - Number(b.getAttribute('data-index'));
      });
      rows.forEach(function (row) {
        body.appendChild(row);
      });
      if (announce) {
        announce.textContent = 'Sorted by ' + button.textContent + (ascending ? ', ascending.' : ', descending.');
      }
    });
  });
})();
`;

export const SORT_SCRIPT_HASH = `sha256-${createHash('sha256').update(SORT_SCRIPT, 'utf8').digest('base64')}`;

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "style-src 'unsafe-inline'",
  `script-src '${SORT_SCRIPT_HASH}'`,
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/** Severity and status colours; the chart uses the same ones. */
export const COLOURS = {
  critical: '#991b1b',
  high: '#dc2626',
  medium: '#d97706',
  low: '#2563eb',
  info: '#6b7280',
  inSync: '#15803d',
  unjudged: '#a8a29e',
} as const;

export const STYLE = `
:root { color-scheme: light; --ink: #1c1917; --muted: #57534e; --line: #d6d3d1; --paper: #fff; --band: #f5f5f4; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Liberation Sans", Arial, sans-serif; color: var(--ink); background: var(--paper); }
header, main, footer { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 24px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 32px 0 12px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 17px; margin: 0 0 8px; overflow-wrap: anywhere; }
h4 { font-size: 15px; margin: 18px 0 6px; }
code, .mono, .diff td { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace; font-size: 13px; }
.run { color: var(--muted); margin: 0 0 12px; overflow-wrap: anywhere; }
.verdict { margin: 0; padding: 10px 14px; border-radius: 6px; font-weight: 600; border-left: 6px solid; }
.verdict-ok { background: #f0fdf4; border-color: ${COLOURS.inSync}; }
.verdict-bad { background: #fef2f2; border-color: ${COLOURS.high}; }
.verdict-incomplete { background: #fffbeb; border-color: ${COLOURS.medium}; }
.counts { display: flex; flex-wrap: wrap; gap: 12px; list-style: none; padding: 0; margin: 0 0 16px; }
.count { min-width: 120px; padding: 10px 14px; border: 1px solid var(--line); border-radius: 6px; background: var(--band); }
.count .n { display: block; font-size: 28px; font-weight: 700; line-height: 1.1; }
.count .label { color: var(--muted); }
.count-drift .n, .count-failed .n, .count-not-checked .n { color: ${COLOURS.high}; }
.count-in-sync .n { color: ${COLOURS.inSync}; }
.count.zero .n { color: var(--muted); }
figure { margin: 0 0 12px; }
figcaption { color: var(--muted); font-size: 13px; }
.chart { width: 100%; max-width: 640px; height: auto; }
.facts { padding-left: 20px; margin: 8px 0; }
.facts .bad { color: ${COLOURS.critical}; font-weight: 600; }
.hint { color: var(--muted); margin: 0 0 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 6px 8px; border-bottom: 1px solid var(--line); overflow-wrap: break-word; }
.keys td:nth-child(3), .keys td:nth-child(8), .access td { overflow-wrap: anywhere; }
thead th { background: var(--band); border-bottom: 2px solid var(--line); }
.keys th { white-space: nowrap; }
.keys th button { font: inherit; font-weight: 700; color: inherit; background: none; border: 0; padding: 0; cursor: pointer; text-align: left; }
.keys th button:focus-visible { outline: 2px solid ${COLOURS.low}; outline-offset: 2px; }
.keys th button::after { content: " \\2195"; color: var(--muted); font-weight: 400; }
.keys th[aria-sort="ascending"] button::after { content: " \\25B2"; color: var(--ink); }
.keys th[aria-sort="descending"] button::after { content: " \\25BC"; color: var(--ink); }
.keys tbody tr:hover { background: #fafaf9; }
.aliases { color: var(--muted); font-size: 13px; }
.status { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 13px; font-weight: 600; white-space: nowrap; color: #fff; background: ${COLOURS.unjudged}; }
.status-drift, .status-failed { background: ${COLOURS.high}; }
.status-not-checked { background: #44403c; }
.status-in-sync, .status-remediated { background: ${COLOURS.inSync}; }
.status-unmanaged { background: ${COLOURS.medium}; }
.sev { font-weight: 600; }
.sev-critical { color: ${COLOURS.critical}; }
.sev-high { color: ${COLOURS.high}; }
.sev-medium { color: ${COLOURS.medium}; }
.sev-low { color: ${COLOURS.low}; }
.sev-info, .none { color: var(--muted); }
.empty { padding: 12px; background: var(--band); border-radius: 6px; }
.key-detail { border: 1px solid var(--line); border-radius: 8px; padding: 16px; margin: 0 0 20px; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 8px; }
.meta dt { color: var(--muted); }
.meta dd { margin: 0; overflow-wrap: anywhere; }
.finding-title { font-weight: 600; overflow-wrap: anywhere; }
.access td:first-child { font-weight: 600; }
.gained { color: ${COLOURS.critical}; }
.lost { color: #92400e; }
.tag { display: inline-block; margin-left: 6px; padding: 0 6px; border-radius: 4px; font-size: 12px; background: #fee2e2; color: ${COLOURS.critical}; }
.lines { margin: 0; padding-left: 20px; overflow-wrap: anywhere; white-space: pre-wrap; }
.diff { border: 1px solid var(--line); border-radius: 6px; overflow: hidden; }
.diff table { table-layout: fixed; }
.diff col.ln { width: 3.2em; }
.diff col.mk { width: 1.4em; }
.diff td { padding: 0 6px; border: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.diff td.ln, .diff td.mk { color: var(--muted); text-align: right; user-select: none; }
.diff thead th { font-family: inherit; }
.diff .del { background: #fee2e2; }
.diff .ins { background: #dcfce7; }
.diff .gap { background: var(--band); }
.fold summary { cursor: pointer; padding: 2px 8px; font-size: 13px; color: var(--muted); background: var(--band); }
.fold summary:focus-visible { outline: 2px solid ${COLOURS.low}; outline-offset: -2px; }
.nowrap { white-space: nowrap; }
.back { font-size: 13px; }
footer { color: var(--muted); font-size: 13px; margin-top: 32px; padding-bottom: 24px; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media print {
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  body { font-size: 10pt; }
  .keys, .access, .diff td { font-size: 8.5pt; }
  .keys code { font-size: 8pt; }
  header, main, footer { max-width: none; padding: 0; }
  .hint, .back { display: none; }
  .keys th button::after { content: none; }
  tr, .count, figure { break-inside: avoid; }
  h2, h3, h4 { break-after: avoid; }
  .key-detail { border: 0; padding: 0; }
  .key-detail + .key-detail { break-before: page; }
  thead { display: table-header-group; }
  a { color: inherit; text-decoration: none; }
}
`;

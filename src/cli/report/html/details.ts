/**
 * One section per drifted or failed key: what the finding says, who gained or lost what (the access
 * view), the statement changes, the actor when an event found it, and the desired and live documents
 * side by side. Every value goes through escapeHtml; element IDs come from the row's position only.
 */
import type { Severity } from '../../../policy/types';
import { escapeHtml } from './escape';
import { foldUnchanged, prettyLines, type SideBySideRow, type SideLine, sideBySide } from './line-diff';
import { type AccessRow, type KeyDetail, type KeyRow, STATUS_LABEL } from './model';

export function severityHtml(severity: Severity | undefined): string {
  if (severity === undefined) return '<span class="none">—</span>';
  return `<span class="sev sev-${severity}">${escapeHtml(severity)}</span>`;
}

export function statusHtml(row: KeyRow): string {
  return `<span class="status status-${row.status}">${escapeHtml(STATUS_LABEL[row.status])}</span>`;
}

function codeList(items: readonly string[], className: string): string {
  if (items.length === 0) return '<span class="none">—</span>';
  return items.map((item) => `<code class="${className}">${escapeHtml(item)}</code>`).join('<br>');
}

function accessRowHtml(change: AccessRow): string {
  const tags = [
    change.anyone ? '<span class="tag">anyone</span>' : '',
    change.crossAccount ? '<span class="tag">other account</span>' : '',
  ].join('');
  return [
    '<tr>',
    `<td><code>${escapeHtml(change.principal)}</code>${tags}</td>`,
    `<td>${codeList(change.gained, 'gained')}</td>`,
    `<td>${codeList(change.lost, 'lost')}</td>`,
    `<td>${codeList(change.conditions, 'condition')}</td>`,
    `<td>${severityHtml(change.severity)}</td>`,
    '</tr>',
  ].join('');
}

function accessHtml(access: readonly AccessRow[]): string {
  if (access.length === 0) return '<p class="none">No principal gained or lost access.</p>';
  return [
    '<table class="access">',
    '<thead><tr><th scope="col">Principal</th><th scope="col">Gained</th><th scope="col">Lost</th><th scope="col">Gained access still needs</th><th scope="col">Severity</th></tr></thead>',
    `<tbody>${access.map(accessRowHtml).join('\n')}</tbody>`,
    '</table>',
  ].join('\n');
}

function listHtml(items: readonly string[]): string {
  return `<ul class="lines">${items.map((item) => `<li>${item}</li>`).join('')}</ul>`;
}

function sideCells(line: SideLine | undefined, mark: string, changeClass: string): string {
  if (!line) return '<td class="ln gap"></td><td class="mk gap"></td><td class="gap"></td>';
  const text = changeClass === '' ? '<td>' : `<td class="${changeClass}">`;
  return `<td class="ln">${line.number}</td><td class="mk${changeClass === '' ? '' : ` ${changeClass}`}">${mark}</td>${text}${escapeHtml(line.text)}</td>`;
}

const COLUMNS =
  '<colgroup><col class="ln"><col class="mk"><col><col class="ln"><col class="mk"><col></colgroup>';

function diffRowHtml(row: SideBySideRow): string {
  const changed = row.kind !== 'same';
  const left = sideCells(row.left, changed ? '−' : '', changed ? 'del' : '');
  const right = sideCells(row.right, changed ? '+' : '', changed ? 'ins' : '');
  return `<tr class="${row.kind}">${left}${right}</tr>`;
}

function span(rows: readonly SideBySideRow[], side: 'left' | 'right'): string {
  const numbers = rows.flatMap((row) => (row[side] ? [row[side].number] : []));
  const [first] = numbers;
  const last = numbers[numbers.length - 1];
  return first === last ? `${first}` : `${first}–${last}`;
}

/**
 * Desired on the left, live on the right; removed lines red, added lines green. Unchanged lines away
 * from any change are folded into a <details> a reader opens (no script needed).
 */
export function diffHtml(desired: string, live: string, desiredLabel: string): string {
  const segments = foldUnchanged(sideBySide(prettyLines(desired), prettyLines(live)));
  const header = `<thead><tr><th scope="col" colspan="3">${escapeHtml(desiredLabel)}</th><th scope="col" colspan="3">Live (AWS)</th></tr></thead>`;
  const parts = [`<table class="diff-lines">${COLUMNS}${header}</table>`];
  for (const segment of segments) {
    const table = `<table class="diff-lines">${COLUMNS}<tbody>${segment.rows.map(diffRowHtml).join('\n')}</tbody></table>`;
    if (!segment.folded) {
      parts.push(table);
      continue;
    }
    const count = segment.rows.length;
    const where = `desired ${span(segment.rows, 'left')}, live ${span(segment.rows, 'right')}`;
    parts.push(
      `<details class="fold"><summary>${count} unchanged lines (${where})</summary>${table}</details>`,
    );
  }
  return `<div class="diff">${parts.join('\n')}</div>`;
}

function metaHtml(row: KeyRow, detail: KeyDetail): string {
  const items: [string, string][] = [
    ['Key', `<code>${escapeHtml(row.keyArn || row.keyId || '—')}</code>`],
    ['Aliases', row.aliases.length > 0 ? codeList(row.aliases, 'alias') : '<span class="none">—</span>'],
    ['Account', escapeHtml(row.account)],
    ['Region', escapeHtml(row.region)],
    ['Mode', escapeHtml(row.mode ?? '—')],
    ['Severity', severityHtml(row.severity)],
  ];
  if (detail.policyFile !== undefined)
    items.push(['Policy file', `<code>${escapeHtml(detail.policyFile)}</code>`]);
  return `<dl class="meta">${items.map(([term, value]) => `<dt>${term}</dt><dd>${value}</dd>`).join('')}</dl>`;
}

/** The section for row number `index` of the keys table (its anchor is `key-<index>`). */
export function keyDetailHtml(row: KeyRow, detail: KeyDetail, index: number): string {
  const id = `key-${index}`;
  const parts = [
    `<section class="key-detail" id="${id}" aria-labelledby="${id}-title">`,
    `<h3 id="${id}-title">${statusHtml(row)} ${escapeHtml(row.entry ?? row.keyId)}</h3>`,
    metaHtml(row, detail),
    `<p class="finding-title">${escapeHtml(detail.title)}</p>`,
    '<h4>Who gained or lost what</h4>',
    accessHtml(detail.access),
  ];
  if (detail.statements.length > 0) {
    parts.push(
      '<h4>Statement changes</h4>',
      listHtml(
        detail.statements.map((change) => `${severityHtml(change.severity)} ${escapeHtml(change.summary)}`),
      ),
    );
  }
  if (detail.actor.length > 0) {
    const actor = detail.actor.map(
      ([label, value]) => `<dt>${escapeHtml(label)}</dt><dd><code>${escapeHtml(value)}</code></dd>`,
    );
    parts.push('<h4>Who changed it (CloudTrail)</h4>', `<dl class="meta">${actor.join('')}</dl>`);
  }
  if (detail.validation.length > 0) {
    parts.push(
      '<h4>Validation</h4>',
      listHtml(
        detail.validation.map(
          (item) =>
            `${escapeHtml(item.document)} <code>${escapeHtml(item.code)}</code> <code>${escapeHtml(item.path)}</code> ${escapeHtml(item.message)}`,
        ),
      ),
    );
  }
  if (detail.details.length > 0) parts.push('<h4>Details</h4>', listHtml(detail.details.map(escapeHtml)));
  if (detail.desiredPolicy !== undefined && detail.livePolicy !== undefined) {
    const label = detail.policyFile !== undefined ? `Desired (Git: ${detail.policyFile})` : 'Desired (Git)';
    parts.push(
      '<h4>Desired and live policy, side by side</h4>',
      diffHtml(detail.desiredPolicy, detail.livePolicy, label),
    );
  } else if (detail.livePolicy !== undefined) {
    parts.push('<h4>Live policy</h4>', diffHtml('', detail.livePolicy, 'Desired (none)'));
  }
  parts.push('<p class="back"><a href="#keys-title">Back to the keys</a></p>', '</section>');
  return parts.join('\n');
}

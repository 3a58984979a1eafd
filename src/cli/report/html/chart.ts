/**
 * The summary chart: one horizontal bar per status, split by severity, as inline SVG (no library, no
 * script). Its numbers are also in its text description, for screen readers and for print.
 */
import { SEVERITY_ORDER, type Severity } from '../../../policy/types';
import { COLOURS } from './assets';
import { escapeHtml } from './escape';
import { type KeyRow, type KeyStatus, STATUS_LABEL, STATUS_ORDER } from './model';

type Segment = Severity | 'none';

const LABEL_WIDTH = 110;
const BAR_WIDTH = 420;
const ROW_HEIGHT = 30;
const BAR_HEIGHT = 20;
const WIDTH = LABEL_WIDTH + BAR_WIDTH + 50;

function segmentColour(status: KeyStatus, segment: Segment): string {
  if (segment !== 'none') return COLOURS[segment];
  return status === 'in-sync' || status === 'remediated' ? COLOURS.inSync : COLOURS.unjudged;
}

function segmentLabel(status: KeyStatus, segment: Segment): string {
  if (segment !== 'none') return segment;
  return status === 'in-sync' ? 'no finding' : 'no severity';
}

/** Counts per status and severity; a restored-status bar only when a key was restored. */
export function chartCounts(rows: readonly KeyRow[]): { status: KeyStatus; segments: [Segment, number][] }[] {
  return STATUS_ORDER.filter(
    (status) => status !== 'remediated' || rows.some((row) => row.status === status),
  ).map((status) => {
    const ofStatus = rows.filter((row) => row.status === status);
    const segments = [...SEVERITY_ORDER, 'none' as const]
      .map((segment): [Segment, number] => [
        segment,
        ofStatus.filter((row) => (row.severity ?? 'none') === segment).length,
      ])
      .filter(([, count]) => count > 0);
    return { status, segments };
  });
}

const LEGEND: [string, string][] = [
  ...SEVERITY_ORDER.map((severity): [string, string] => [severity, COLOURS[severity]]),
  ['in sync', COLOURS.inSync],
  ['no severity', COLOURS.unjudged],
];

export function renderChart(rows: readonly KeyRow[]): string {
  const bars = chartCounts(rows);
  const largest = Math.max(1, ...bars.map((bar) => bar.segments.reduce((sum, [, count]) => sum + count, 0)));
  const legendY = bars.length * ROW_HEIGHT + 12;
  const height = legendY + 20;
  const parts: string[] = [];
  const description: string[] = [];
  bars.forEach((bar, index) => {
    const y = index * ROW_HEIGHT;
    const total = bar.segments.reduce((sum, [, count]) => sum + count, 0);
    const label = STATUS_LABEL[bar.status];
    parts.push(
      `<text x="${LABEL_WIDTH - 8}" y="${y + BAR_HEIGHT - 5}" text-anchor="end" class="chart-label">${escapeHtml(label)}</text>`,
    );
    let x = LABEL_WIDTH;
    for (const [segment, count] of bar.segments) {
      const width = (count / largest) * BAR_WIDTH;
      const what = `${label}, ${segmentLabel(bar.status, segment)}: ${count}`;
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="${BAR_HEIGHT}" fill="${segmentColour(bar.status, segment)}"><title>${escapeHtml(what)}</title></rect>`,
      );
      x += width;
    }
    parts.push(
      `<text x="${(x + 6).toFixed(1)}" y="${y + BAR_HEIGHT - 5}" class="chart-count">${total}</text>`,
    );
    const bySeverity = bar.segments.map(
      ([segment, count]) => `${count} ${segmentLabel(bar.status, segment)}`,
    );
    description.push(`${label}: ${total}${bySeverity.length > 0 ? ` (${bySeverity.join(', ')})` : ''}`);
  });
  let legendX = 0;
  for (const [name, colour] of LEGEND) {
    parts.push(
      `<rect x="${legendX}" y="${legendY}" width="12" height="12" fill="${colour}"></rect>`,
      `<text x="${legendX + 16}" y="${legendY + 11}" class="chart-legend">${escapeHtml(name)}</text>`,
    );
    legendX += 30 + name.length * 8;
  }
  return [
    `<svg class="chart" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-labelledby="chart-title chart-desc" font-size="13" font-family="system-ui, sans-serif">`,
    '<title id="chart-title">Keys by status and severity</title>',
    `<desc id="chart-desc">${escapeHtml(description.join('; '))}</desc>`,
    ...parts,
    '</svg>',
  ].join('\n');
}

/**
 * The HTML audit report's structure: one self-contained document whose CSP admits only its own style
 * and script, the summary counts and chart, one row per key with its own account and Region, not
 * checked keys never shown as in sync, an empty audit, and the access view and side-by-side diff of
 * each drifted key. (Escaping: html-escaping.test.ts; the page in a browser: the integration test.)
 */
import { createHash } from 'node:crypto';
import { renderAuditHtml } from '../../../src/cli/report/html';
import { SORT_SCRIPT } from '../../../src/cli/report/html/assets';
import { htmlReportOf } from '../../../src/cli/report/html/model';
import {
  ACCOUNT,
  auditReport,
  DRIFTED,
  ELSEWHERE,
  IN_SYNC,
  MISSED,
  OTHER_ACCOUNT,
  OTHER_REGION,
  REGION,
  sampleReport,
  tagSequence,
  UNMANAGED,
} from './html-fixtures';

const OPTIONS = { toolVersion: '9.9.9' };

/** The rows of the keys table, each as its cells' text without tags. */
function tableRows(html: string): string[][] {
  const body = /<table id="keys"[\s\S]*?<tbody>([\s\S]*?)<\/tbody>/.exec(html)?.[1] ?? '';
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((row) =>
    [...(row[1] ?? '').matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) =>
      (cell[1] ?? '')
        .replace(/<[^>]+>/g, ' ')
        .replace(/\s+/g, ' ')
        .trim(),
    ),
  );
}

function section(html: string, id: string): string {
  return new RegExp(`<section class="key-detail" id="${id}"[\\s\\S]*?</section>`).exec(html)?.[0] ?? '';
}

describe('HTML audit report: the document', () => {
  it('is one well-formed HTML document whose CSP allows only the inline style and its one script by hash', () => {
    // Act
    const html = renderAuditHtml(sampleReport(), OPTIONS);

    // Assess
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    const tags = tagSequence(html);
    expect(tags.filter((tag) => tag === 'script')).toHaveLength(1);
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)?.[1];
    expect(script).toBe(SORT_SCRIPT);
    const hash = createHash('sha256').update(SORT_SCRIPT).digest('base64');
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1];
    expect(csp?.replaceAll('&#39;', "'")).toBe(
      `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${hash}'; img-src data:; base-uri 'none'; form-action 'none'`,
    );
    expect(tags.indexOf('meta')).toBeLessThan(tags.indexOf('style'));
  });

  it('refers to nothing outside itself: no src, no remote href, no CSS url() or @import', () => {
    // Act
    const html = renderAuditHtml(sampleReport(), OPTIONS);

    // Assess
    expect(html).not.toMatch(/\ssrc=/i);
    expect(html).not.toMatch(/url\(|@import/i);
    const hrefs = [...html.matchAll(/\shref="([^"]*)"/g)].map((match) => match[1]);
    expect(hrefs.length).toBeGreaterThan(0);
    for (const href of hrefs) expect(href).toMatch(/^(#[a-z0-9-]+|data:,)$/);
  });

  it('is the same for the same report (pure: no clock, no randomness)', () => {
    // Act
    const first = renderAuditHtml(sampleReport(), OPTIONS);
    const second = renderAuditHtml(sampleReport(), OPTIONS);

    // Assess
    expect(second).toBe(first);
  });
});

describe('HTML audit report: summary and keys table', () => {
  it('counts the keys by status and draws one bar per status split by severity', () => {
    // Act
    const html = renderAuditHtml(sampleReport(), OPTIONS);

    // Assess
    const counts = Object.fromEntries(
      [...html.matchAll(/data-count="([a-z-]+)"><span class="n">(\d+)<\/span>/g)].map((match) => [
        match[1],
        Number(match[2]),
      ]),
    );
    expect(counts).toEqual({ checked: 4, 'in-sync': 1, drift: 2, failed: 0, unmanaged: 1, 'not-checked': 1 });
    expect(html).toContain(
      '<desc id="chart-desc">Drift: 2 (1 critical, 1 high); Failed: 0; Not checked: 1 (1 no severity); Unmanaged: 1 (1 low); In sync: 1 (1 no finding)</desc>',
    );
    expect(html).toContain('Audit incomplete: 1 key not checked. They are not counted as in sync.');
  });

  it('gives every row its own account and Region, worst first, and the not-checked key its reason', () => {
    // Act
    const rows = tableRows(renderAuditHtml(sampleReport(), OPTIONS));

    // Assess
    expect(rows.map((row) => row.slice(0, 7))).toEqual([
      [ACCOUNT, REGION, `${DRIFTED} alias/payments`, 'payments', 'alert', 'Drift', 'critical'],
      [
        OTHER_ACCOUNT,
        OTHER_REGION,
        `${ELSEWHERE} alias/analytics`,
        'analytics',
        'remediate',
        'Drift',
        'high',
      ],
      [ACCOUNT, REGION, MISSED, 'backups', '—', 'Not checked', '—'],
      [ACCOUNT, REGION, `${UNMANAGED} alias/scratch`, '—', '—', 'Unmanaged', 'low'],
      [ACCOUNT, REGION, IN_SYNC, 'logs', 'alert', 'In sync', '—'],
    ]);
    expect(rows[2]?.[7]).toBe('ThrottlingException: Rate exceeded');
    expect(rows[0]?.[7]).toBe('* gained kms:Decrypt (+1 principals) Details');
  });

  it('lists a key known only by its manifest entry as not checked, with the Region of the audit', () => {
    // Prepare
    const report = auditReport(
      [],
      [{ keyRef: 'payments', name: 'payments', reason: 'not checked: the key inventory failed' }],
    );

    // Act
    const model = htmlReportOf(report);
    const rows = tableRows(renderAuditHtml(report, OPTIONS));

    // Assess
    expect(model.rows).toEqual([
      expect.objectContaining({
        account: ACCOUNT,
        region: REGION,
        keyId: '',
        entry: 'payments',
        status: 'not-checked',
      }),
    ]);
    expect(rows[0]?.slice(2, 6)).toEqual(['—', 'payments', '—', 'Not checked']);
    expect(rows.flat()).not.toContain('In sync');
  });

  it('renders an audit of zero keys: zero counts, an empty chart and a sentence instead of the table', () => {
    // Prepare
    const report = auditReport([], [], {
      notes: ['manifest entry payments: no key has alias alias/payments here'],
    });

    // Act
    const html = renderAuditHtml(report, OPTIONS);

    // Assess
    expect(tagSequence(html)).toContain('svg');
    expect(html).toContain('No keys were checked.');
    expect(html).toContain('<p class="empty">No keys: the manifest matched no key');
    expect(html).not.toContain('<table id="keys"');
    expect(html).not.toContain('class="key-detail"');
    expect(html).toContain('Note: manifest entry payments: no key has alias alias/payments here');
    expect(html.match(/<span class="n">0<\/span>/g)).toHaveLength(6);
  });
});

describe('HTML audit report: drifted keys', () => {
  it('has one section per drifted key, linked from its row, and none for in-sync or unmanaged keys', () => {
    // Act
    const html = renderAuditHtml(sampleReport(), OPTIONS);

    // Assess
    const sections = [...html.matchAll(/<section class="key-detail" id="(key-\d+)"/g)].map(
      (match) => match[1],
    );
    expect(sections).toEqual(['key-0', 'key-1']);
    expect(html).toContain('<a href="#key-0">Details</a>');
    expect(section(html, 'key-1')).toContain(`arn:aws:kms:${OTHER_REGION}:${OTHER_ACCOUNT}:key/${ELSEWHERE}`);
  });

  it('shows who gained and who lost what, as people write principals and actions', () => {
    // Act
    const detail = section(renderAuditHtml(sampleReport(), OPTIONS), 'key-0');

    // Assess
    const access = /<table class="access">[\s\S]*?<\/table>/.exec(detail)?.[0] ?? '';
    expect(access).toContain(
      '<td><code>*</code><span class="tag">anyone</span></td><td><code class="gained">kms:Decrypt</code></td>',
    );
    expect(access).toContain(
      `<td><code>arn:aws:iam::${ACCOUNT}:role/app</code></td><td><span class="none">—</span></td><td><code class="lost">kms:Decrypt</code></td>`,
    );
    expect(detail).toContain('Allow statement &quot;Use only&quot; changed: adds principal *');
  });

  it('puts the desired and live documents side by side, pretty-printed, with the changed line facing its replacement', () => {
    // Act
    const detail = section(renderAuditHtml(sampleReport(), OPTIONS), 'key-0');

    // Assess
    expect(detail).toContain('<th scope="col" colspan="3">Desired (Git: policies/payments.json)</th>');
    expect(detail).toContain(
      `<tr class="changed"><td class="ln">17</td><td class="mk del">−</td><td class="del">        &quot;AWS&quot;: &quot;arn:aws:iam::${ACCOUNT}:role/app&quot;</td><td class="ln">17</td><td class="mk ins">+</td><td class="ins">        &quot;AWS&quot;: &quot;*&quot;</td></tr>`,
    );
    expect(detail).toMatch(
      /<details class="fold"><summary>13 unchanged lines \(desired 1–13, live 1–13\)<\/summary>/,
    );
  });
});

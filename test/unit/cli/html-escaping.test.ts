/**
 * Attacker-controlled text in the HTML audit report. Anyone who can call PutKeyPolicy, CreateAlias or
 * TagResource writes Sids, principals, condition values and aliases, and CloudTrail carries their
 * session names and user agents: all of it must reach the page as text, never as markup.
 *
 * The check: the page's tag sequence (html-fixtures.ts tagSequence, which also rejects any `<` that is
 * not a well-formed tag and any `&` that is not an entity) is the same as for a harmless value with the
 * same equalities (its hex spelling), and there is exactly one <script>, the report's own.
 */
import fc from 'fast-check';
import { escapeHtml, renderAuditHtml } from '../../../src/cli/report/html';
import type { AuditReport } from '../../../src/guard/audit-keys';
import {
  auditReport,
  DESIRED_POLICY,
  finding,
  IN_SYNC,
  keyArn,
  tagSequence,
  UNMANAGED,
  widenedPolicy,
} from './html-fixtures';

const DRIFTED = '00000000-0000-0000-0000-0000000000ee';

/** A report with `value` in every field an attacker (or a careless admin) can write. */
function hostileReport(value: string): AuditReport {
  const live = JSON.parse(widenedPolicy(value, value)) as { Statement: Record<string, unknown>[] };
  live.Statement.push({
    Sid: value,
    Effect: 'Allow',
    Principal: { AWS: value },
    Action: [value],
    Resource: '*',
    Condition: { StringEquals: { 'aws:PrincipalTag/team': value } },
  });
  const drift = finding(DRIFTED, {
    title: value,
    keyName: value,
    aliases: [value, `alias/${value}`],
    policyFile: value,
    livePolicy: JSON.stringify(live),
    desiredPolicy: DESIRED_POLICY,
    details: [value, `Tag team=${value}`],
    actor: {
      arn: `arn:aws:sts::111122223333:assumed-role/admin/${value}`,
      userAgent: value,
      sourceIPAddress: value,
      eventID: value,
    },
    validation: { desired: [], live: [{ code: 'KMS301', level: 'warning', path: value, message: value }] },
  });
  drift.diff?.access.push({
    principal: `AWS:${value}`,
    gained: [value],
    lost: [value],
    conditions: [`StringEquals aws:PrincipalTag/team=[${value}]`],
    anyone: false,
    crossAccount: true,
    severity: 'high',
  });
  drift.diff?.statements.push({
    kind: 'added',
    severity: 'high',
    effect: 'Allow',
    summary: value,
    notes: [],
  });
  return auditReport(
    [
      {
        keyArn: keyArn(DRIFTED),
        keyId: DRIFTED,
        aliases: drift.aliases,
        name: value,
        mode: 'alert',
        result: 'drift',
        finding: drift,
      },
      {
        keyArn: keyArn(IN_SYNC),
        keyId: IN_SYNC,
        aliases: [value],
        name: value,
        mode: 'alert',
        result: 'in-sync',
      },
      {
        keyArn: keyArn(UNMANAGED),
        keyId: UNMANAGED,
        aliases: [value],
        result: 'unmanaged',
        finding: finding(UNMANAGED, {
          kind: 'unmanaged-key',
          severity: 'low',
          title: value,
          diff: undefined,
        }),
      },
    ],
    [{ keyRef: value, keyId: value, name: value, reason: value }],
    {
      runId: value,
      startedAt: value,
      notes: [value],
      problems: [value],
      health: { ruleName: value, state: value },
      location: { partition: 'aws', region: 'eu-west-1', accountId: value },
    },
  );
}

/** A harmless value with the same equalities as `value` (the renderer's layout may depend on those). */
function harmless(value: string): string {
  return Buffer.from(value, 'utf16le').toString('hex');
}

const OPTIONS = { toolVersion: '0.1.0' };

function expectOnlyText(value: string): string {
  const html = renderAuditHtml(hostileReport(value), OPTIONS);
  expect(tagSequence(html)).toEqual(tagSequence(renderAuditHtml(hostileReport(harmless(value)), OPTIONS)));
  expect(html.match(/<script/gi)).toHaveLength(1);
  return html;
}

describe('escapeHtml', () => {
  it('escapes the five HTML characters and shows control and bidirectional characters as \\u escapes', () => {
    // Act
    const escaped = escapeHtml(
      '<a href="x">Tom & Jerry\'s</a>\u0000\u001b[2J\r\u202eevil\u2066\u0085\ttab\nline',
    );

    // Assess
    expect(escaped).toBe(
      '&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;\\u0000\\u001B[2J\\u000D\\u202Eevil\\u2066\\u0085\ttab\nline',
    );
  });
});

describe('HTML audit report: hostile values are shown as text', () => {
  it.each<[string, string, string]>([
    [
      'a Sid closing the cell and opening a script',
      '</td><script>alert(1)</script>',
      '&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;',
    ],
    [
      'a principal breaking out of an attribute',
      '"onmouseover="alert(1)',
      '&quot;onmouseover=&quot;alert(1)',
    ],
    [
      'a single-quoted attribute break',
      "' autofocus onfocus='alert(1)",
      '&#39; autofocus onfocus=&#39;alert(1)',
    ],
    [
      'an image with an onerror handler',
      '<img src=x onerror=alert(1)>',
      '&lt;img src=x onerror=alert(1)&gt;',
    ],
    ['an SVG with onload', '<svg onload=alert(1)>', '&lt;svg onload=alert(1)&gt;'],
    ['a comment and CDATA opener', '<!-- ]]> <![CDATA[', '&lt;!-- ]]&gt; &lt;![CDATA['],
    ['an entity that is already escaped', '&lt;script&gt;', '&amp;lt;script&amp;gt;'],
    [
      'a style element closing the report style',
      '</style><style>body{display:none}',
      '&lt;/style&gt;&lt;style&gt;body{display:none}',
    ],
    [
      'a right-to-left override that reorders an ARN',
      'arn:aws:iam::111122223333:role/\u202etoor',
      'arn:aws:iam::111122223333:role/\\u202Etoor',
    ],
    ['terminal escapes and a NUL', '\u001b]0;pwned\u0007\u0000', '\\u001B]0;pwned\\u0007\\u0000'],
  ])('shows %s as text', (_case, value, shown) => {
    // Act
    const html = expectOnlyText(value);

    // Assess
    expect(html).toContain(shown);
    expect(html).not.toContain(value);
  });

  it('shows a 100,000-character value whole, escaped, without breaking the page', () => {
    // Prepare
    const value = `${'<b>'.repeat(33_333)}x`;

    // Act
    const html = expectOnlyText(value);

    // Assess
    expect(html).toContain(escapeHtml(value));
  });

  it('shows any string in every attacker-controlled field as text (property)', () => {
    const fragment = fc.constantFrom(
      '<',
      '>',
      '&',
      '"',
      "'",
      '</td>',
      '<script>',
      '</script>',
      '<!--',
      ' onerror=',
      '&amp;',
      '&#x3c;',
      '\u202e',
      '\u0000',
      '\u001b[31m',
      '\r',
      '\n',
    );
    const hostile = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: 'grapheme' }),
      fc
        .array(fc.oneof(fragment, fc.string({ maxLength: 3 })), { maxLength: 12 })
        .map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(hostile, (value) => {
        expectOnlyText(value);
      }),
      { numRuns: 60 },
    );
  });
});

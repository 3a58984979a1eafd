/**
 * One property over every renderer of a finding (issue 13): a finding whose every attacker-controlled
 * field holds arbitrary text (hostile.ts: line breaks, bidi overrides and isolates, zero-width
 * characters, U+2028/U+2029, BOM, C0/C1 controls, `<`, `&`, `@channel`, backticks, `${…}`, the e-mail's
 * own headings, 40 KB values) goes through
 * - the e-mail text: nothing of the unsafe class raw, the same lines as its skeleton's (every line
 *   break is the template's or a document's own), each heading once, in order, where the template puts it;
 * - the SNS Publish: a printable ASCII subject of at most 99 characters, and an e-mail part (shortened
 *   when the finding is large) with the same guarantees but the skeleton comparison;
 * - Slack: no raw markup, bare `&` or control character, within Slack's limits;
 * - the HTML audit report: well-formed, the skeleton's tag sequence, one script, nothing raw;
 * - the CLI's audit table and `apply` text as the CLI writes them (terminalSafe): nothing raw but our
 *   colour codes, the skeleton's number of lines.
 * The skeleton is the same finding with harmless values of the same equalities (hostile.ts).
 */
import fc from 'fast-check';
import { renderEmailText } from '../../../src/alerts/email-text';
import { renderSlackMessage } from '../../../src/alerts/slack';
import { buildSnsPublishInput } from '../../../src/alerts/sns-message';
import { renderApplyText } from '../../../src/cli/commands/apply';
import { createStyle, terminalSafe } from '../../../src/cli/output';
import { renderAuditHtml } from '../../../src/cli/report/html';
import { renderAuditTable } from '../../../src/cli/report/table';
import type { Finding } from '../../../src/core/finding';
import type { ApplyOutcome } from '../../../src/guard/apply-desired';
import type { AuditReport } from '../../../src/guard/audit-keys';
import { driftFinding } from '../alerts/slack-fixtures';
import { auditReport } from '../cli/html-fixtures';
import { EMAIL_RULE, type HostileCase, type HostileValues, harmlessValues, hostileCase } from './hostile';
import { FUZZ_RUNS } from './mutate';
import {
  emailLayoutProblems,
  emailTextProblems,
  htmlProblems,
  slackMessageProblems,
  subjectProblems,
  terminalProblems,
} from './renderer-checks';

const TOPIC_ARN = 'arn:aws:sns:eu-west-1:111122223333:kms-policy-guard-findings';
const APPLY_STATUSES: ApplyOutcome['status'][] = [
  'in-sync',
  'would-apply',
  'would-refuse',
  'applied',
  'refused',
  'failed',
  'unmanaged',
];

/** An audit of the finding's key, one key not checked, and a note, a problem and a rule of hostile text. */
function reportOf(finding: Finding, values: HostileValues): AuditReport {
  return auditReport(
    [
      {
        keyArn: finding.keyArn,
        keyId: finding.keyId,
        aliases: finding.aliases,
        name: values.keyName,
        mode: finding.mode,
        result: 'drift',
        finding,
      },
    ],
    [
      {
        keyRef: `arn:aws:kms:eu-west-1:111122223333:key/${values.eventId}`,
        keyId: values.eventId,
        name: values.keyName,
        reason: values.reason,
      },
    ],
    {
      notes: [values.note],
      problems: [values.reason],
      health: { ruleName: values.grantName, state: values.tagValue },
    },
  );
}

interface Rendered {
  email: string;
  html: string;
  table: string;
  apply: string;
}

function renderAll(finding: Finding, values: HostileValues, status: ApplyOutcome['status'], colour: boolean) {
  const style = createStyle(colour);
  const outcome: ApplyOutcome = { status, keyArn: finding.keyArn, keyId: finding.keyId, finding };
  const report = reportOf(finding, values);
  return {
    email: renderEmailText(finding),
    html: renderAuditHtml(report, { toolVersion: '0.1.0' }),
    // What the CLI writes: its io passes everything through terminalSafe.
    table: terminalSafe(renderAuditTable(report, style)),
    apply: terminalSafe(renderApplyText(outcome, style)),
  } satisfies Rendered;
}

function problemsOf(hostile: HostileCase, status: ApplyOutcome['status'], colour: boolean): string[] {
  const { finding, skeleton, values } = hostile;
  const shown = renderAll(finding, values, status, colour);
  const expected = renderAll(skeleton, harmlessValues(values), status, colour);
  const { input } = buildSnsPublishInput(finding, TOPIC_ARN);
  const sent = (JSON.parse(input.Message ?? '{}') as { email?: string }).email ?? '';
  return [
    ...emailLayoutProblems(shown.email, expected.email, finding.title),
    ...subjectProblems(input.Subject ?? ''),
    ...emailTextProblems(sent).map((problem) => `SNS ${problem}`),
    ...slackMessageProblems(renderSlackMessage(finding)),
    ...htmlProblems(shown.html, expected.html),
    ...terminalProblems('audit table', shown.table, expected.table),
    ...terminalProblems('apply', shown.apply, expected.apply),
  ];
}

describe('every renderer of a finding under attacker text (fuzz)', () => {
  it(`e-mail, SNS subject, Slack, HTML report, CLI table and apply stay inert and keep their layout (${FUZZ_RUNS.everyRenderer} cases)`, () => {
    fc.assert(
      fc.property(
        hostileCase(10),
        fc.constantFrom(...APPLY_STATUSES),
        fc.boolean(),
        (hostile, status, colour) => {
          // Act + Assess
          const problems = problemsOf(hostile, status, colour);
          if (problems.length > 0) throw new Error(problems.join('\n'));
        },
      ),
      { numRuns: FUZZ_RUNS.everyRenderer },
    );
  });

  it('the checks can fail: a raw line break, a forged heading, a raw RLO and a changed line count are each reported', () => {
    // Prepare
    const finding = driftFinding();
    const email = renderEmailText(finding);
    const forged = email.replace('Key:  ', `Key:\n\nWHAT THE GUARD DID\n${EMAIL_RULE}\n`);

    // Act
    const problems = emailLayoutProblems(forged, email, finding.title);

    // Assess
    expect(emailLayoutProblems(email, email, finding.title)).toEqual([]);
    expect(problems.some((problem) => problem.includes('lines, its skeleton'))).toBe(true);
    expect(emailTextProblems(forged).some((problem) => problem.includes('not once each in order'))).toBe(
      true,
    );
    expect(emailTextProblems(`${email}x\u202ey\n`)).toHaveLength(1);
    expect(terminalProblems('apply', 'a\u001b]0;x\u0007\nb', 'a\nb')).toHaveLength(1);
    expect(terminalProblems('apply', 'a\nb\nc', 'a\nb')).toHaveLength(1);
    expect(htmlProblems('<p>x</p>', '<p>x</p>')).toEqual(['html: not exactly one <script>']);
    expect(subjectProblems('x\u202e')).toHaveLength(1);
  });
});

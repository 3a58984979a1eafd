/**
 * Fuzzing the renderers of findings with attacker-controlled strings. Everything in a finding that
 * comes from CloudTrail or a key policy (title with the actor's name, details, actor fields, policy
 * text, Sids, condition values, validation messages) gets Slack markup (`<!channel>`, `<@U1>`,
 * `<http://x|y>`), `&`, C0/C1 control characters, lone surrogates, bidi overrides and 40 KB values.
 *
 * Properties: buildSnsPublishInput gives a printable subject of at most 99 characters and a
 * JSON-structured message within 256 KB; renderSlackMessage stays inert (no unescaped `<`, `>` or
 * bare `&`, no control characters) and within Slack's limits. Nothing throws. (Every renderer at once,
 * the e-mail's layout included: every-renderer.fuzz.test.ts.)
 */
import fc from 'fast-check';
import { renderSlackMessage, type SlackMessage } from '../../../src/alerts/slack';
import { buildSnsPublishInput, SNS_MESSAGE_MAX_BYTES } from '../../../src/alerts/sns-message';
import type { Finding } from '../../../src/core/finding';
import { driftFinding } from '../alerts/slack-fixtures';
import { hostileFinding } from './hostile';
import { FUZZ_RUNS } from './mutate';
import { slackMessageProblems, subjectProblems } from './renderer-checks';

const TOPIC_ARN = 'arn:aws:sns:us-west-2:111122223333:kms-policy-guard-findings';

/** Plain checks (a Jest `expect` costs ~60 µs; 10,000 cases x dozens of texts would take minutes). */
function snsProblems(finding: Finding): string[] {
  const { input, bytes } = buildSnsPublishInput(finding, TOPIC_ARN);
  const problems: string[] = [];
  problems.push(...subjectProblems(input.Subject ?? ''));
  if (bytes > SNS_MESSAGE_MAX_BYTES) problems.push(`message of ${bytes} bytes`);
  const messageBytes = Buffer.byteLength(input.Message ?? '', 'utf8');
  if (messageBytes > SNS_MESSAGE_MAX_BYTES) problems.push(`Message of ${messageBytes} bytes`);
  const structure = JSON.parse(input.Message ?? '') as Record<string, unknown>;
  if (typeof structure.default !== 'string' || typeof structure.email !== 'string') {
    problems.push('MessageStructure json without default and email strings');
    return problems;
  }
  const published = JSON.parse(structure.default) as Record<string, unknown>;
  if (published.kind !== finding.kind || published.keyArn !== finding.keyArn)
    problems.push('default is not the finding');
  return problems;
}

function slackProblems(finding: Finding): string[] {
  return slackMessageProblems(renderSlackMessage(finding));
}

describe('finding renderers under hostile strings (fuzz)', () => {
  it(`buildSnsPublishInput: printable subject <= 99 chars, JSON message <= 256 KB (${FUZZ_RUNS.snsPublishInput} cases)`, () => {
    fc.assert(
      fc.property(hostileFinding(10), (finding) => {
        // Act + Assess
        const problems = snsProblems(finding);
        if (problems.length > 0) throw new Error(problems.join('\n'));
      }),
      { numRuns: FUZZ_RUNS.snsPublishInput },
    );
  });

  it(`renderSlackMessage: no unescaped markup or control characters, within Slack limits (${FUZZ_RUNS.slackMessage} cases)`, () => {
    fc.assert(
      fc.property(hostileFinding(), (finding) => {
        // Act + Assess
        const problems = slackProblems(finding);
        if (problems.length > 0) throw new Error(problems.join('\n'));
      }),
      { numRuns: FUZZ_RUNS.slackMessage },
    );
  });

  it('the checks can fail: raw markup, a bare & and a control character are each reported', () => {
    // Prepare
    const finding = { ...driftFinding(), title: 'x'.repeat(300) };
    const unescaped: SlackMessage = { text: '<!channel> & \u0007', blocks: [] };
    // Assess
    expect(snsProblems(finding)).toEqual([]);
    expect(slackProblems(finding)).toEqual([]);
    expect(slackMessageProblems(unescaped)).toHaveLength(3);
  });
});

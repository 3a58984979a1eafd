/**
 * Fuzzing the renderers of findings with attacker-controlled strings. Everything in a finding that
 * comes from CloudTrail or a key policy (title with the actor's name, details, actor fields, policy
 * text, Sids, condition values, validation messages) gets Slack markup (`<!channel>`, `<@U1>`,
 * `<http://x|y>`), `&`, C0/C1 control characters, lone surrogates, bidi overrides and 40 KB values.
 *
 * Properties: buildSnsPublishInput gives a printable subject of at most 100 characters and a
 * JSON-structured message within 256 KB; renderSlackMessage stays inert (no unescaped `<`, `>` or
 * bare `&`, no control characters) and within Slack's limits; renderEmailText returns text. Nothing throws.
 */
import fc from 'fast-check';
import { renderEmailText } from '../../../src/alerts/email-text';
import { renderSlackMessage, type SlackMessage } from '../../../src/alerts/slack';
import { buildSnsPublishInput, SNS_MESSAGE_MAX_BYTES } from '../../../src/alerts/sns-message';
import type { Finding } from '../../../src/core/finding';
import { driftFinding, limitViolations, mrkdwnTexts, plainTexts } from '../alerts/slack-fixtures';
import { FUZZ_RUNS } from './mutate';

const TOPIC_ARN = 'arn:aws:sns:us-west-2:111122223333:kms-policy-guard-findings';
const BARE_AMPERSAND = /&(?!amp;|lt;|gt;)/;
const CONTROL_EXCEPT_NEWLINE = /(?![\n\u2060])[\p{Cc}\p{Cf}\p{Cs}]/u;
const C0_AND_C1 = [
  ...Array.from({ length: 0x20 }, (_, code) => code),
  ...Array.from({ length: 0x21 }, (_, offset) => 0x7f + offset),
].map((code) => String.fromCharCode(code));

const hostileCharacter = fc.constantFrom(
  ...C0_AND_C1,
  '<',
  '>',
  '&',
  '|',
  '@',
  '!',
  '`',
  '*',
  '_',
  '~',
  '\u202e',
  '\u202d',
  '\u2066',
  '\u200b',
  '\ufeff',
  '\ud800',
  '\udfff',
  '\u{1f600}',
  'é',
  'a',
  ' ',
);

/**
 * One attacker-controlled value: short junk most of the time, a 40 KB one about once per 140 x `scale`
 * values (at scale 1 about one finding in eight carries one).
 */
function hostileString(scale: number): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 60 * scale, arbitrary: fc.string({ unit: hostileCharacter, maxLength: 120 }) },
    { weight: 40 * scale, arbitrary: fc.string({ unit: 'binary', maxLength: 120 }) },
    {
      weight: 40 * scale,
      arbitrary: fc.constantFrom(
        '<!channel>',
        '<!here|here>',
        '<@U1>',
        '<#C1>',
        '<!subteam^S1>',
        '<http://x|y>',
        '<https://evil.example|Open the AWS console>',
        'R&D &amp; &lt;b&gt;',
        '\u202egnp.exe',
        '',
      ),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('x'.repeat(40_000), '<'.repeat(40_000), '\u0000'.repeat(40_000)),
    },
  );
}

/**
 * A realistic finding with every attacker-reachable string replaced by a generated one; `scale`
 * makes 40 KB values rarer (building a Publish for 40 KB of escaped control characters takes ~50 ms).
 */
function hostileFinding(scale = 1): fc.Arbitrary<Finding> {
  const hostile = hostileString(scale);
  return fc
    .record({
      title: hostile,
      details: fc.array(hostile, { maxLength: 4 }),
      actorArn: hostile,
      actorType: hostile,
      sourceIp: hostile,
      userAgent: hostile,
      eventTime: hostile,
      eventId: hostile,
      livePolicy: hostile,
      desiredPolicy: hostile,
      sid: hostile,
      conditionValue: hostile,
      conditionKey: hostile,
      principal: hostile,
      action: hostile,
      validationMessage: hostile,
      keyName: hostile,
      alias: hostile,
      cosmetic: hostile,
      kind: fc.constantFrom<Finding['kind']>(
        'drift',
        'remediated',
        'guard-locked-out',
        'lockout-risk',
        'invalid-live',
      ),
    })
    .map((values) => {
      const base = driftFinding();
      const diff = base.diff ?? { statements: [], access: [], orphanedPrincipals: [], severity: 'high' };
      return {
        ...base,
        kind: values.kind,
        title: values.title,
        details: values.details,
        keyName: values.keyName,
        aliases: [values.alias],
        actor: {
          arn: values.actorArn,
          type: values.actorType,
          sourceIPAddress: values.sourceIp,
          userAgent: values.userAgent,
          eventTime: values.eventTime,
          eventID: values.eventId,
          eventName: 'PutKeyPolicy',
        },
        livePolicy: values.livePolicy,
        desiredPolicy: values.desiredPolicy,
        cosmetic: [{ kind: 'sid', message: values.cosmetic }],
        validation: {
          live: [
            {
              code: 'KMS201',
              level: 'error',
              path: '$.Statement[0].Action',
              message: values.validationMessage,
            },
          ],
          desired: [],
        },
        diff: {
          ...diff,
          access: [
            ...diff.access,
            {
              principal: values.principal,
              gained: [values.action],
              lost: [],
              conditions: [`StringEquals ${values.conditionKey}=[${values.conditionValue}]`],
              anyone: false,
              crossAccount: true,
              severity: 'high',
            },
          ],
          statements: [
            ...diff.statements,
            {
              kind: 'changed',
              severity: 'high',
              sid: values.sid,
              effect: 'Allow',
              summary: `statement ${values.sid} changed`,
              principals: { added: [values.principal], removed: [] },
              actions: { added: [values.action], removed: [] },
              conditions: {
                added: [
                  { operator: 'StringEquals', key: values.conditionKey, values: [values.conditionValue] },
                ],
                removed: [],
              },
              notes: [values.conditionValue],
            },
          ],
        },
      } satisfies Finding;
    });
}

/** Plain checks (a Jest `expect` costs ~60 µs; 10,000 cases x dozens of texts would take minutes). */
function snsProblems(finding: Finding): string[] {
  const { input, bytes } = buildSnsPublishInput(finding, TOPIC_ARN);
  const problems: string[] = [];
  const subject = input.Subject ?? '';
  if (subject.length > 100) problems.push(`subject has ${subject.length} characters`);
  if (!/^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/.test(subject))
    problems.push(`subject not printable: ${JSON.stringify(subject)}`);
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

function slackMessageProblems(message: SlackMessage): string[] {
  const problems: string[] = [];
  for (const text of [...mrkdwnTexts(message), ...plainTexts(message)]) {
    if (/[<>]/.test(text)) problems.push(`unescaped < or > in ${JSON.stringify(text.slice(0, 200))}`);
    if (BARE_AMPERSAND.test(text)) problems.push(`bare & in ${JSON.stringify(text.slice(0, 200))}`);
    if (CONTROL_EXCEPT_NEWLINE.test(text))
      problems.push(`control character in ${JSON.stringify(text.slice(0, 200))}`);
  }
  problems.push(...limitViolations(message));
  JSON.stringify(message);
  return problems;
}

describe('finding renderers under hostile strings (fuzz)', () => {
  it(`buildSnsPublishInput: printable subject <= 100 chars, JSON message <= 256 KB (${FUZZ_RUNS.snsPublishInput} cases)`, () => {
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

  it(`renderEmailText: returns text naming the finding (${FUZZ_RUNS.emailText} cases)`, () => {
    fc.assert(
      fc.property(hostileFinding(), (finding) => {
        // Act
        const text = renderEmailText(finding);
        // Assess
        if (!text.includes(finding.keyArn)) throw new Error('email text does not name the key');
      }),
      { numRuns: FUZZ_RUNS.emailText },
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

import fc from 'fast-check';
import {
  renderAlarmMessage,
  renderSlackMessage,
  renderUnreadableFindingMessage,
} from '../../../src/alerts/slack';
import {
  escapeSlackEntities,
  mrkdwnCode,
  mrkdwnText,
  plainText,
  stripControlCharacters,
  TRUNCATION_MARKER,
  truncateEscaped,
} from '../../../src/alerts/slack-escape';
import type { Finding } from '../../../src/core/finding';
import { driftFinding, limitViolations, mrkdwnTexts, plainTexts } from './slack-fixtures';

const HOSTILE = {
  channelMention: '<!channel>',
  userMention: '<@U123>',
  disguisedLink: '<https://evil.example|click>',
  ampersand: 'R&D & more &amp; &lt;',
  controlChars: 'ok\u0000\u0007\u001b[31mred\u007f\u0085\u009b\u202eevil\u200b\ufeffend',
};

/** An `&` that does not start one of Slack's three entities is a double-escaping or escaping bug. */
const BARE_AMPERSAND = /&(?!amp;|lt;|gt;)/;
/** Control, format (zero-width, bidi) and lone surrogate characters, except the newline and the word joiner we add. */
const CONTROL_EXCEPT_NEWLINE = /(?![\n\u2060])[\p{Cc}\p{Cf}\p{Cs}]/u;

describe('slack-escape', () => {
  it.each([
    ['<!channel>', '&lt;!channel&gt;'],
    ['<@U123>', '&lt;@U123&gt;'],
    ['<https://evil.example|click>', '&lt;https://evil.example|click&gt;'],
    ['a & b', 'a &amp; b'],
    ['&amp;', '&amp;amp;'],
  ])('escapes Slack control characters in %s', (input, expected) => {
    // Act
    const escaped = escapeSlackEntities(input);

    // Assess
    expect(escaped).toBe(expected);
  });

  it.each(Object.entries(HOSTILE))(
    'renders hostile %s inertly in free text, code spans and plain text',
    (_name, value) => {
      // Act
      const outputs = [mrkdwnText(value, 3000), mrkdwnCode(value, 3000), plainText(value, 150)];

      // Assess
      for (const output of outputs) {
        expect(output).not.toMatch(/[<>]/);
        expect(output).not.toMatch(BARE_AMPERSAND);
        expect(output).not.toMatch(CONTROL_EXCEPT_NEWLINE);
      }
    },
  );

  it('strips control, zero-width and bidi characters but keeps the visible text', () => {
    // Act
    const cleaned = stripControlCharacters(HOSTILE.controlChars);

    // Assess
    expect(cleaned).toBe('ok[31mred evilend');
  });

  it('turns line breaks into spaces unless asked to keep them', () => {
    expect(stripControlCharacters('a\r\nb\rc\u2028d')).toBe('a b c d');
    expect(stripControlCharacters('a\r\nb\rc', { keepLineBreaks: true })).toBe('a\nb\nc');
  });

  it.each([
    ['@channel please look', '@\u2060channel please look'],
    ['ping @here now', 'ping @\u2060here now'],
    ['@everyone', '@\u2060everyone'],
    ['alice@here.example.com', 'alice@here.example.com'],
  ])('neutralises broadcast mentions written as plain text: %s', (input, expected) => {
    expect(mrkdwnText(input, 3000)).toBe(expected);
  });

  it('shows a URL in free text without letting Slack turn it into a link', () => {
    expect(mrkdwnText('see https://evil.example/x', 3000)).toBe('see https:\u2060//evil.example/x');
  });

  it('keeps a value inside its code span even when it contains backticks', () => {
    // Act
    const code = mrkdwnCode('a`b``c', 100);

    // Assess
    expect(code).toBe('`aˋbˋˋc`');
  });

  it('shows an empty value as (empty), not as an empty code span', () => {
    expect(mrkdwnCode(' \u0000 ', 100)).toBe('_(empty)_');
  });

  it('cuts a 40 KB value to the bound with a visible marker and without splitting an entity', () => {
    // Prepare
    const huge = '&<>'.repeat(14_000);

    // Act
    const outputs = [mrkdwnText(huge, 1000), mrkdwnCode(huge, 1000), plainText(huge, 150)];

    // Assess
    for (const output of outputs) {
      expect(output.length).toBeLessThanOrEqual(1000);
      expect(output).toContain(TRUNCATION_MARKER);
      expect(output).not.toMatch(BARE_AMPERSAND);
    }
    expect(outputs[2]?.length).toBeLessThanOrEqual(150);
  });

  it('still marks a value as truncated when what was dropped lay beyond a run of invisible characters', () => {
    // Prepare: 10,000 zero-width spaces, then the visible text.
    const disguised = `${'\u200b'.repeat(10_000)}<!channel> visible`;

    // Act
    const outputs = [mrkdwnText(disguised, 100), mrkdwnCode(disguised, 100), plainText(disguised, 100)];

    // Assess
    for (const output of outputs) expect(output).toContain(TRUNCATION_MARKER);
  });

  it('never splits a surrogate pair when cutting', () => {
    // Act
    const cut = mrkdwnText('😀'.repeat(100), 21);

    // Assess
    expect(cut).toBe(`${'😀'.repeat(4)} ${TRUNCATION_MARKER}`);
  });

  it('closes a code span that truncation cut open', () => {
    // Act
    const cut = truncateEscaped(`head \`${'x'.repeat(100)}\` tail`, 40);

    // Assess
    expect(cut.length).toBeLessThanOrEqual(40);
    expect((cut.match(/`/g) ?? []).length % 2).toBe(0);
    expect(cut.endsWith(TRUNCATION_MARKER)).toBe(true);
  });

  it('decodes back to the original for ordinary text (escaping loses nothing)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', '&', '<', '>', ';', ':', '/', '|', '!') }),
        (value) => {
          const escaped = mrkdwnText(value, 10_000);
          const decoded = escaped
            .replace(/\u2060/g, '')
            .replace(/&lt;/g, '<')
            .replace(/&gt;/g, '>')
            .replace(/&amp;/g, '&');
          expect(decoded).toBe(value);
        },
      ),
    );
  });
});

describe('rendered messages with attacker-controlled strings', () => {
  const hostileCharacters = fc.constantFrom(
    '<',
    '>',
    '&',
    '@',
    '!',
    '|',
    '`',
    '*',
    '_',
    '~',
    ':',
    '/',
    '#',
    '\n',
    '\r',
    '\t',
    '\u0000',
    '\u001b',
    '\u0085',
    '\u202e',
    '\u200b',
    '\u200d',
    '\u0600',
    '\u{e0041}',
    '\ud800',
    '😀',
    'a',
    ' ',
  );
  const arbitraryString = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 300 }),
    fc.string({ unit: hostileCharacters, maxLength: 300 }),
    fc.constantFrom(
      ...Object.values(HOSTILE),
      '<!here|here>',
      '<#C123>',
      '<!subteam^S1>',
      'x'.repeat(40_000),
    ),
  );

  function hostileFinding(values: string[]): Finding {
    const pick = (index: number): string => values[index % values.length] ?? '';
    const base = driftFinding();
    return {
      ...base,
      title: pick(0),
      keyArn: pick(1),
      keyId: pick(2),
      aliases: [pick(3), pick(4)],
      keyName: pick(5),
      policyFile: pick(6),
      account: pick(7),
      region: pick(8),
      actor: {
        arn: pick(9),
        type: pick(10),
        sourceIPAddress: pick(11),
        userAgent: pick(12),
        eventTime: pick(13),
        eventID: pick(14),
        eventName: pick(15),
      },
      diff: {
        severity: 'high',
        orphanedPrincipals: [{ principal: pick(16), where: 'live', path: pick(17), message: pick(18) }],
        documentChanges: [{ element: 'Version', severity: 'low', summary: pick(19) }],
        access: [
          {
            principal: pick(20),
            gained: [pick(21), pick(22)],
            lost: [pick(23)],
            conditions: [pick(24)],
            anyone: true,
            crossAccount: true,
            severity: 'critical',
          },
        ],
        statements: [
          {
            kind: 'changed',
            severity: 'high',
            sid: pick(25),
            effect: pick(26),
            summary: pick(27),
            principals: { added: [pick(28)], removed: [pick(29)] },
            actions: { added: [pick(30)], removed: [] },
            resources: { added: [pick(31)], removed: [] },
            conditions: { added: [{ operator: pick(32), key: pick(33), values: [pick(34)] }], removed: [] },
            notes: [pick(35)],
          },
        ],
      },
      validation: {
        live: [{ code: pick(36), level: 'error', path: pick(37), message: pick(38) }],
        desired: [],
      },
      cosmetic: [{ kind: 'sid', message: pick(39) }],
      details: [pick(40), pick(41)],
      id: pick(42),
      time: pick(43),
    };
  }

  it('contains no unescaped < or > in any mrkdwn or plain text, and stays within Slack limits', () => {
    fc.assert(
      fc.property(fc.array(arbitraryString, { minLength: 1, maxLength: 44 }), (values) => {
        // Act
        const message = renderSlackMessage(hostileFinding(values));

        // Assess
        for (const text of [...mrkdwnTexts(message), ...plainTexts(message)]) {
          expect(text).not.toMatch(/[<>]/);
          expect(text).not.toMatch(BARE_AMPERSAND);
          expect(text).not.toMatch(CONTROL_EXCEPT_NEWLINE);
        }
        expect(limitViolations(message)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the alarm message inert and within limits too', () => {
    fc.assert(
      fc.property(
        fc.array(arbitraryString, { minLength: 6, maxLength: 6 }),
        ([name, description, state, reason, time, region]) => {
          // Act
          const message = renderAlarmMessage({
            AlarmName: name ?? '',
            AlarmDescription: description,
            NewStateValue: state ?? '',
            OldStateValue: state,
            NewStateReason: reason,
            StateChangeTime: time,
            Region: region,
            AWSAccountId: name,
          });

          // Assess
          for (const text of [...mrkdwnTexts(message), ...plainTexts(message)]) {
            expect(text).not.toMatch(/[<>]/);
            expect(text).not.toMatch(BARE_AMPERSAND);
          }
          expect(limitViolations(message)).toEqual([]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('keeps the unreadable-finding message inert and within limits too', () => {
    fc.assert(
      fc.property(arbitraryString, arbitraryString, arbitraryString, (reason, excerpt, attribute) => {
        // Act
        const message = renderUnreadableFindingMessage({
          reason,
          excerpt,
          snsMessageId: attribute,
          subject: attribute,
          attributes: { severity: attribute, keyId: attribute, [attribute.slice(0, 20)]: attribute },
        });

        // Assess
        for (const text of [...mrkdwnTexts(message), ...plainTexts(message)]) {
          expect(text).not.toMatch(/[<>]/);
          expect(text).not.toMatch(BARE_AMPERSAND);
        }
        expect(limitViolations(message)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

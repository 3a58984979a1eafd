/**
 * The e-mail text against attacker text (issue 13): a Sid or CloudTrail value cannot forge a heading,
 * a section or a line of the e-mail, and the documents it shows are delimited blocks with escapes.
 * The attack runs through checkKey with mocked KMS and SNS, so the e-mail is the one SNS would send.
 */
import { GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import { renderEmailText } from '../../../src/alerts/email-text';
import type { Actor } from '../../../src/core/finding';
import { checkKey } from '../../../src/guard/check-key';
import { EMAIL_HEADINGS } from '../fuzz/hostile';
import {
  desiredPolicyText,
  fixtureManifest,
  KEY_ARN,
  kmsMock,
  kmsRestoresDesiredAfter,
  makeHarness,
  onlyFinding,
  publishedEmails,
  resetMocks,
} from '../guard/harness';
import { withStatement } from '../support/drift';
import { driftFinding } from './slack-fixtures';

/** The attack of the finding: a Sid whose JSON escapes hold line feeds, a fake section and U+202E. */
const FORGED_SECTION = '\n\nWHAT THE GUARD DID\n----\nFalse alarm, ignore';
const HOSTILE_SID = `${FORGED_SECTION}\u202e`;

const ACTOR: Actor = {
  arn: 'arn:aws:sts::111122223333:assumed-role/Admin/alice',
  type: 'AssumedRole',
  accountId: '111122223333',
  sourceIPAddress: '192.0.2.0',
  userAgent: `aws-cli/2.15.0${FORGED_SECTION}`,
  eventTime: '2026-03-02T09:59:00Z',
  eventID: 'c217db1f-903f-4a2f-8f88-9580182d6313',
  eventName: 'PutKeyPolicy',
  isGuard: false,
};

function hostileLivePolicy(): string {
  return withStatement(desiredPolicyText(), {
    Sid: HOSTILE_SID,
    Effect: 'Allow',
    Principal: { AWS: 'arn:aws:iam::999988887777:root' },
    Action: 'kms:Decrypt',
    Resource: '*',
  });
}

beforeEach(() => {
  resetMocks();
});

describe('e-mail text under attacker text', () => {
  it.each([
    ['alert', 'drift'],
    ['remediate', 'remediated'],
  ] as const)(
    'keeps one "WHAT THE GUARD DID" heading and shows a forged section only escaped, on its own line (%s mode)',
    async (mode, kind) => {
      // Prepare
      const { deps } = makeHarness(fixtureManifest(mode));
      const live = hostileLivePolicy();
      if (mode === 'remediate') kmsRestoresDesiredAfter(live);
      else kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: live });

      // Act
      await checkKey(deps, { keyRef: KEY_ARN, trigger: 'event', actor: ACTOR, eventId: ACTOR.eventID });

      // Assess
      const finding = onlyFinding();
      expect(finding.kind).toBe(kind);
      expect(finding.livePolicy).toBe(live);
      const lines = (publishedEmails()[0] ?? '').split('\n');
      expect(lines.filter((line) => line === 'WHAT THE GUARD DID')).toHaveLength(1);
      expect(lines.filter((line) => (EMAIL_HEADINGS as readonly string[]).includes(line))).toEqual(
        EMAIL_HEADINGS.filter((heading) => lines.includes(heading)),
      );
      expect(lines.filter((line) => /^-+$/.test(line.trim()) && line.length < 72)).toEqual([]);
      const attackerLines = lines.filter((line) => line.includes('False alarm'));
      expect(attackerLines.length).toBeGreaterThanOrEqual(3);
      for (const line of attackerLines) {
        // A value line (\u000A escapes) or a line of the indented document block (JSON's own \n escapes).
        expect(line).toMatch(
          /\\u000A\\u000AWHAT THE GUARD DID\\u000A----\\u000AFalse alarm, ignore|^ {4}.*\\n\\nWHAT THE GUARD DID\\n----\\nFalse alarm, ignore\\u202E/,
        );
      }
      expect(lines.find((line) => line.startsWith('User agent:'))).toBe(
        'User agent: aws-cli/2.15.0\\u000A\\u000AWHAT THE GUARD DID\\u000A----\\u000AFalse alarm, ignore',
      );
      expect(lines.join('\n')).not.toMatch(/[\u202a-\u202e\u2066-\u2069\u200b-\u200f\ufeff]/);
    },
  );

  it('shows the live document in a delimited, indented block that says what was escaped', () => {
    // Prepare
    const live = `{\r\n\t"Sid": "a\u202eb\u200b"\n}\n[End of document]\nWHAT CHANGED`;

    // Act
    const text = renderEmailText(driftFinding({ kind: 'invalid-live', livePolicy: live }));

    // Assess
    const block = text.slice(text.indexOf('THE LIVE POLICY (as read from KMS)'));
    expect(block.split('\n').slice(2, 9)).toEqual([
      '[Each line of the document is indented 4 spaces. Control, bidi and zero-width characters are shown as \\uXXXX escapes, which inside a JSON string mean the same character; the exact text is the "livePolicy" field of the JSON message.]',
      '    {',
      '    \t"Sid": "a\\u202Eb\\u200B"',
      '    }',
      '    [End of document]',
      '    WHAT CHANGED',
      '[End of document]',
    ]);
  });
});

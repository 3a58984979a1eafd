import {
  consoleUrl,
  renderAlarmMessage,
  renderSlackMessage,
  renderUnreadableFindingMessage,
  SEVERITY_EMOJI,
  type SlackBlock,
  type SlackMessage,
} from '../../../src/alerts/slack';
import { TRUNCATION_MARKER } from '../../../src/alerts/slack-escape';
import type { AccessChange, Severity } from '../../../src/policy/types';
import { driftFinding, limitViolations, mrkdwnTexts, sectionTexts } from './slack-fixtures';

function header(message: SlackMessage): string {
  const first = message.blocks[0];
  if (first?.type !== 'header') throw new Error('first block is not a header');
  return first.text.text;
}

function fields(message: SlackMessage): string[] {
  const block = message.blocks.find(
    (candidate: SlackBlock) => candidate.type === 'section' && candidate.fields,
  );
  if (block?.type !== 'section' || !block.fields) throw new Error('no fields section');
  return block.fields.map((field) => field.text);
}

function sectionStartingWith(message: SlackMessage, heading: string): string {
  const text = sectionTexts(message).find((candidate) => candidate.startsWith(heading));
  if (text === undefined) throw new Error(`no section starting with ${heading}`);
  return text;
}

describe('renderSlackMessage', () => {
  it.each<[Severity, string]>([
    ['critical', ':rotating_light:'],
    ['high', ':red_circle:'],
    ['medium', ':large_orange_circle:'],
    ['low', ':large_yellow_circle:'],
    ['info', ':information_source:'],
  ])('puts the %s emoji and the title in a plain_text header', (severity, emoji) => {
    // Act
    const message = renderSlackMessage(driftFinding({ severity, title: 'Drift on alias/payments' }));

    // Assess
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: {
        type: 'plain_text',
        text: `${emoji} ${severity.toUpperCase()} · Drift on alias/payments`,
        emoji: true,
      },
    });
    expect(SEVERITY_EMOJI[severity]).toBe(emoji);
  });

  it('shows the key (manifest name, aliases, ARN), account/region, mode, action taken, kind and desired file', () => {
    // Act
    const message = renderSlackMessage(driftFinding());

    // Assess
    expect(fields(message)).toEqual([
      '*Key*\nmanifest entry `payments-data`\n`alias/payments`\n`arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab`',
      '*Account / region*\n`111122223333` / `eu-west-1`',
      '*Mode*\nalert (report only)',
      '*Action taken*\n:bell: alerted (nothing was changed)',
      '*Finding*\n`drift` · :rotating_light: critical',
      '*Trigger*\nevent',
      '*Desired document*\n`policies/payments-data.json`',
    ]);
  });

  it.each([
    ['none', 'none (nothing was changed)'],
    ['alerted', ':bell: alerted (nothing was changed)'],
    ['remediated', ':wrench: remediated (desired policy re-applied and confirmed)'],
    ['failed', ':x: failed (see below)'],
  ] as const)('labels the action taken %s', (action, label) => {
    // Act
    const message = renderSlackMessage(driftFinding({ action }));

    // Assess
    expect(fields(message)).toContain(`*Action taken*\n${label}`);
  });

  it('shows who did it: ARN, source IP, user agent, event time and event ID', () => {
    // Act
    const actor = sectionStartingWith(renderSlackMessage(driftFinding()), '*Actor*');

    // Assess
    expect(actor.split('\n')).toEqual([
      '*Actor*',
      '• ARN: `arn:aws:sts::111122223333:assumed-role/Developer/mallory`',
      '• Identity type: `AssumedRole`',
      '• Source IP: `203.0.113.7`',
      '• User agent: `aws-cli/2.17.0 md/awscrt#0.20.11`',
      '• Event: `PutKeyPolicy` at `2026-05-04T10:11:12Z`',
      '• Event ID: `e1b2c3d4-1111-2222-3333-444455556666`',
    ]);
  });

  it("says when the actor is the guard's own role, and when there is no actor (audit)", () => {
    // Act
    const guard = renderSlackMessage(
      driftFinding({ actor: { arn: 'arn:aws:sts::1:assumed-role/guard/x', isGuard: true } }),
    );
    const audit = renderSlackMessage(driftFinding({ actor: undefined, trigger: 'audit' }));

    // Assess
    expect(sectionStartingWith(guard, '*Actor*')).toContain("_(the guard's own role)_");
    expect(sectionStartingWith(audit, '*Actor*')).toBe(
      '*Actor*\n_none: found by the audit, not by an event_',
    );
  });

  it('shows the access view first, most severe first, with * and cross-account called out', () => {
    // Act
    const message = renderSlackMessage(driftFinding());
    const texts = sectionTexts(message);
    const access = sectionStartingWith(message, '*Who gained or lost access*');

    // Assess
    expect(texts.findIndex((text) => text.startsWith('*Who gained or lost access*'))).toBeLessThan(
      texts.findIndex((text) => text.startsWith('*Statement changes*')),
    );
    expect(access.split('\n')).toEqual([
      '*Who gained or lost access*',
      '• :rotating_light: `*` :warning: *ANYONE* (principal `*`)',
      '      *gained:* `kms:Decrypt`, `kms:DescribeKey`',
      '      :warning: no condition restricts the gained access',
      '• :red_circle: `AWS:arn:aws:iam::444455556666:root` :globe_with_meridians: *cross-account*',
      '      *gained:* `kms:Encrypt`',
      '      still restricted by: `StringEquals kms:viaservice=[s3.eu-west-1.amazonaws.com]`',
      '• :large_orange_circle: `AWS:arn:aws:iam::111122223333:role/Auditor`',
      '      *lost:* `kms:GetKeyPolicy`',
    ]);
  });

  it('lists statement changes with Sid, index, added/removed principals, actions and conditions, and notes', () => {
    // Act
    const statements = sectionStartingWith(renderSlackMessage(driftFinding()), '*Statement changes*');

    // Assess
    expect(statements.split('\n')).toEqual([
      '*Statement changes*',
      '• :rotating_light: *added* Allow statement Sid `TemporaryDebug` (live #2): Allow statement adds principal * for kms:Decrypt, kms:DescribeKey',
      '      + principals: `*`',
      '      + actions: `kms:decrypt`, `kms:describekey`',
      '• :red_circle: *changed* Allow statement Sid `AllowS3` (live #1, desired #1): Allow statement removes a condition',
      '      − conditions: `StringEquals aws:sourceaccount=[111122223333]`',
      '      _note:_ same effective actions as of 2026-09-26',
    ]);
  });

  it.each([
    [
      'document changes',
      driftFinding({
        diff: {
          severity: 'low',
          statements: [],
          access: [],
          orphanedPrincipals: [],
          documentChanges: [{ element: 'Version', severity: 'low', summary: 'Version missing in live' }],
        },
      }),
      '*Document changes*\n• :large_yellow_circle: Version missing in live',
    ],
    [
      'orphaned principals',
      driftFinding({
        kind: 'orphaned-principal',
        diff: {
          severity: 'high',
          statements: [],
          access: [],
          orphanedPrincipals: [
            {
              principal: 'AROAEXAMPLE123',
              where: 'live',
              path: '$.Statement[1].Principal.AWS',
              message: 'role deleted',
            },
          ],
        },
      }),
      '*Orphaned principals* (IAM role or user deleted)\n• `AROAEXAMPLE123` in live at `$.Statement[1].Principal.AWS`: role deleted',
    ],
    [
      'validation findings',
      driftFinding({
        validation: {
          live: [
            {
              code: 'KMS010',
              level: 'error',
              path: '$.Statement[0].Action',
              message: 'unknown action kms:Decrpyt',
            },
          ],
          desired: [{ code: 'KMS020', level: 'warning', path: '$.Statement[1]', message: 'lockout risk' }],
        },
      }),
      '*Validation*\n• :x: live `KMS010` at `$.Statement[0].Action`: unknown action kms:Decrpyt\n• :warning: desired `KMS020` at `$.Statement[1]`: lockout risk',
    ],
    [
      'cosmetic differences',
      driftFinding({ cosmetic: [{ kind: 'sid', message: 'Sid Old renamed to New' }] }),
      '*Cosmetic differences* (not drift)\n• Sid Old renamed to New',
    ],
    [
      'what the guard did',
      driftFinding(),
      '*What the guard did*\n• Mode is alert: nothing was changed.\n• To restore: kms-guard apply --key payments-data',
    ],
    [
      'what the guard did, without details',
      driftFinding({ details: [], action: 'remediated' }),
      '*What the guard did*\n• :wrench: remediated (desired policy re-applied and confirmed)',
    ],
  ])('renders %s', (_name, finding, expected) => {
    // Act
    const texts = sectionTexts(renderSlackMessage(finding));

    // Assess
    expect(texts).toContain(expected);
  });

  it('includes a fallback text for notifications', () => {
    // Act
    const message = renderSlackMessage(driftFinding());

    // Assess
    expect(message.text).toBe(
      ':rotating_light: CRITICAL kms-policy-guard: Key policy drift on alias/payments: anyone can now decrypt — key alias/payments (111122223333 eu-west-1), action taken: alerted',
    );
  });

  it('marks every mrkdwn text verbatim so Slack does not auto-link or auto-mention', () => {
    // Act
    const message = renderSlackMessage(driftFinding());
    const textObjects = message.blocks.flatMap((block) => {
      if (block.type === 'section') return [...(block.text ? [block.text] : []), ...(block.fields ?? [])];
      if (block.type === 'context') return block.elements;
      return [];
    });

    // Assess
    expect(textObjects.length).toBeGreaterThan(5);
    for (const textObject of textObjects)
      expect(textObject).toMatchObject({ type: 'mrkdwn', verbatim: true });
  });

  it.each([
    [
      'a commercial-partition key',
      {},
      'https://eu-west-1.console.aws.amazon.com/kms/home?region=eu-west-1#/kms/keys/1234abcd-12ab-34cd-56ef-1234567890ab',
    ],
    [
      'a multi-Region key',
      { keyId: `mrk-${'a'.repeat(32)}` },
      `https://eu-west-1.console.aws.amazon.com/kms/home?region=eu-west-1#/kms/keys/mrk-${'a'.repeat(32)}`,
    ],
    [
      'an aws-cn key',
      { keyArn: 'arn:aws-cn:kms:cn-north-1:111122223333:key/x', region: 'cn-north-1' },
      undefined,
    ],
    ['a hostile region', { region: 'eu-west-1.evil.example/#' }, undefined],
    ['a hostile key ID', { keyId: '../../evil' }, undefined],
  ])('links to the console only for well-formed identifiers: %s', (_name, overrides, expected) => {
    // Act
    const url = consoleUrl(driftFinding(overrides));
    const message = renderSlackMessage(driftFinding(overrides));

    // Assess
    expect(url).toBe(expected);
    expect(message.blocks.some((block) => block.type === 'actions')).toBe(expected !== undefined);
  });

  it('cuts a long title to the 150-character header limit with a visible marker', () => {
    // Act
    const text = header(renderSlackMessage(driftFinding({ title: 'Drift '.repeat(100) })));

    // Assess
    expect(text.length).toBeLessThanOrEqual(150);
    expect(text.endsWith(TRUNCATION_MARKER)).toBe(true);
  });

  it('shows at most 25 actions per list and says how many more there are', () => {
    // Prepare
    const gained = Array.from({ length: 30 }, (_, index) => `kms:Action${index}`);
    const finding = driftFinding({
      diff: {
        severity: 'high',
        statements: [],
        orphanedPrincipals: [],
        access: [
          {
            principal: '*',
            gained,
            lost: [],
            conditions: [],
            anyone: true,
            crossAccount: false,
            severity: 'high',
          },
        ],
      },
    });

    // Act
    const access = sectionStartingWith(renderSlackMessage(finding), '*Who gained or lost access*');

    // Assess
    expect(access).toContain('`kms:Action24` _… and 5 more_');
    expect(access).not.toContain('`kms:Action25`');
  });

  it('stays within 50 blocks and 3000 characters per section for a huge diff, saying what was left out', () => {
    // Prepare
    const access: AccessChange[] = Array.from({ length: 400 }, (_, index) => ({
      principal: `AWS:arn:aws:iam::${String(index).padStart(12, '0')}:role/${'r'.repeat(60)}`,
      gained: Array.from({ length: 40 }, (_unused, action) => `kms:Action${action}${'X'.repeat(60)}`),
      lost: [],
      conditions: [],
      anyone: false,
      crossAccount: true,
      severity: 'high',
    }));
    const finding = driftFinding({
      diff: {
        severity: 'high',
        access,
        statements: driftFinding().diff?.statements ?? [],
        orphanedPrincipals: [],
      },
      details: Array.from({ length: 200 }, (_, index) => `detail ${index} ${'d'.repeat(500)}`),
    });

    // Act
    const message = renderSlackMessage(finding);
    const texts = mrkdwnTexts(message);

    // Assess
    expect(limitViolations(message)).toEqual([]);
    expect(message.blocks.length).toBeGreaterThan(45);
    expect(texts.some((text) => /… truncated: \d+ more lines not shown/.test(text))).toBe(true);
    // A single over-long line (40 long action names) is cut with the marker, not dropped.
    expect(texts.some((text) => text.includes(`\`kms:Action1${'X'.repeat(60)}\``))).toBe(true);
    expect(texts.some((text) => /` … truncated\n/.test(text))).toBe(true);
    // Every group still shows its heading: nothing is crowded out entirely.
    for (const heading of ['*Who gained or lost access*', '*Statement changes*', '*What the guard did*']) {
      expect(texts.some((text) => text.startsWith(heading))).toBe(true);
    }
    expect(message.blocks.at(-2)?.type).toBe('context');
  });
});

describe('renderUnreadableFindingMessage', () => {
  it('shows why, the SNS message ID, the attributes and an excerpt, within a header and fallback text', () => {
    // Act
    const message = renderUnreadableFindingMessage({
      reason: 'not-json: the SNS message is not JSON',
      snsMessageId: 'msg-1',
      subject: 'KMS drift',
      attributes: { severity: 'critical', keyId: 'k-1', action: 'alerted' },
      excerpt: 'oops {',
    });

    // Assess
    expect(message.text).toBe(
      ':warning: kms-policy-guard: unreadable finding (severity critical): not-json: the SNS message is not JSON',
    );
    expect(header(message)).toBe(':warning: Unreadable kms-policy-guard finding');
    expect(fields(message)).toEqual([
      '*SNS message ID*\n`msg-1`',
      '*Subject*\n`KMS drift`',
      '*severity*\n`critical`',
      '*keyId*\n`k-1`',
      '*action*\n`alerted`',
    ]);
    expect(sectionTexts(message)).toContain('*Message excerpt*\n```oops {```');
  });
});

describe('renderAlarmMessage', () => {
  it('shows the alarm name, state change, account/region, time, description and reason', () => {
    // Act
    const message = renderAlarmMessage({
      AlarmName: 'kms-policy-guard-prod-dlq-depth',
      AlarmDescription: 'KMS events were dead-lettered; check them by hand and re-run kms-guard audit.',
      AWSAccountId: '111122223333',
      NewStateValue: 'ALARM',
      OldStateValue: 'OK',
      NewStateReason: 'Threshold Crossed: 1 datapoint [2.0] was greater than the threshold (0.0).',
      StateChangeTime: '2026-05-04T10:20:00.000+0000',
      Region: 'EU (Ireland)',
    });

    // Assess
    expect(header(message)).toBe(':rotating_light: ALARM: kms-policy-guard-prod-dlq-depth');
    expect(fields(message)).toEqual([
      '*Alarm*\n`kms-policy-guard-prod-dlq-depth`',
      '*State*\nOK → *ALARM*',
      '*Account / region*\n`111122223333` / EU (Ireland)',
      '*Changed at*\n`2026-05-04T10:20:00.000+0000`',
    ]);
    expect(sectionTexts(message)).toContain(
      '*What it means*\nKMS events were dead-lettered; check them by hand and re-run kms-guard audit.\n*Why it fired*\nThreshold Crossed: 1 datapoint [2.0] was greater than the threshold (0.0).',
    );
    expect(limitViolations(message)).toEqual([]);
  });
});

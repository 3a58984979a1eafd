import { join } from 'node:path';
import { renderApplyText } from '../../../src/cli/commands/apply';
import { createStyle, terminalSafe } from '../../../src/cli/output';
import { renderAuditTable } from '../../../src/cli/report/table';
import { driftFinding } from '../alerts/slack-fixtures';
import { runCli, tempFiles } from './helpers';
import { auditReport, finding } from './html-fixtures';

/** A Sid that would print a fake "Applied" line and reverse the text after it. */
const FORGED = 'x\n\u2714 Applied: nothing to see\u202e';

describe('terminal-safe CLI output', () => {
  it.each([
    ['clear screen', '\u001b[2J', '\\u001b[2J'],
    ['window title (OSC)', '\u001b]0;owned\u0007', '\\u001b]0;owned\\u0007'],
    ['NUL and backspace', 'a\u0000b\u0008', 'a\\u0000b\\u0008'],
    ['C1 CSI and DEL', 'x\u009by\u007f', 'x\\u009by\\u007f'],
    ['a lone carriage return (overwrites the line)', 'ok\rEVIL', 'ok\\u000dEVIL'],
  ])('escapes %s', (_name, input, expected) => {
    expect(terminalSafe(input)).toBe(expected);
  });

  it('keeps tab, newline, carriage return, Latin-1 text and the colour sequences the CLI adds', () => {
    const text = '\u001b[31m[CRITICAL]\u001b[39m Café\tok\r\n';
    expect(terminalSafe(text)).toBe(text);
  });

  it('never prints a control character from a policy, in text or JSON, and the JSON still parses', async () => {
    // Prepare: an Effect that would clear the terminal.
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: '\u001b[2J\u0000', Principal: '*', Action: 'kms:Decrypt', Resource: '*' }],
    };
    const dir = tempFiles({ 'evil.json': JSON.stringify(policy) });
    // Act
    const text = await runCli(['validate', join(dir, 'evil.json')]);
    const json = await runCli(['validate', '--json', join(dir, 'evil.json')]);
    // Assess
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('KMS106');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
    expect(text.stdout).not.toMatch(/[\u0000\u001b]/);
    expect(text.stdout).toContain('\\u001b[2J\\u0000');
    const parsed = JSON.parse(json.stdout) as { files: { findings: { code: string }[] }[] };
    expect(parsed.files[0]?.findings.map((finding) => finding.code)).toContain('KMS106');
  });

  it('shows a value with a line break and a bidi override on its own line, escaped, in apply and audit text', () => {
    // Prepare
    const hostile = driftFinding({ details: [`Sid ${FORGED}`], livePolicy: JSON.stringify({ Sid: FORGED }) });
    const statements = hostile.diff?.statements ?? [];
    for (const change of statements) change.summary = `Allow statement "${FORGED}" added`;
    const report = auditReport([
      {
        keyArn: hostile.keyArn,
        keyId: hostile.keyId,
        aliases: [FORGED],
        name: FORGED,
        mode: 'alert',
        result: 'drift',
        finding: finding(hostile.keyId, {
          diff: { ...hostile.diff, access: [], statements, severity: 'high', orphanedPrincipals: [] },
        }),
      },
    ]);
    const outcome = {
      status: 'applied' as const,
      keyArn: hostile.keyArn,
      keyId: hostile.keyId,
      finding: hostile,
    };

    // Act
    const texts = [
      renderApplyText(outcome, createStyle(false)),
      renderAuditTable(report, createStyle(false)),
    ];

    // Assess
    for (const text of texts) {
      expect(text).not.toMatch(/[\u202e]|^\u2714 Applied: nothing/mu);
      expect(text).toContain('x\\u000A\u2714 Applied: nothing to see\\u202E');
    }
  });
});

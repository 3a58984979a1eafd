/**
 * The `npm start` demo, run in-process with its own moto server (the audit is account-wide and the
 * aliases are fixed names, so it cannot share the integration suite's server): the story it tells
 * must be what really happened on the local AWS, and nothing may be left running afterwards.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { ORG, ORG_TAMPER } from '../../dev/demo/org';
import { type DemoReport, runDemo } from '../../dev/demo/run';
import { ALERTED_KEY, FOREIGN_ACCOUNT_ID, MISTAGGED_KEY, REMEDIATED_KEY } from '../../dev/demo/scenario';
import { MotoServerError } from '../../dev/moto-server';
import type { CliIo } from '../../src/cli/output';

interface CapturedIo extends CliIo {
  out: string[];
  err: string[];
}

function captureIo(env: Record<string, string | undefined>, stdoutIsTTY: boolean): CapturedIo {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (text) => {
      out.push(text);
    },
    stderr: (text) => {
      err.push(text);
    },
    env,
    stdoutIsTTY,
  };
}

/** Linux: command lines of running moto servers listening on `port` (empty when none). */
function motoProcessesOnPort(port: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let commandLine: string;
    try {
      commandLine = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
    } catch {
      continue; // the process ended while we looked
    }
    if (commandLine.includes('moto_server') && commandLine.includes(`-p ${port}`)) found.push(commandLine);
  }
  return found;
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

const keyStatus = (report: DemoReport, name: string) => report.keys.find((key) => key.name === name);

describe('npm start demo', () => {
  // A terminal, but NO_COLOR set: the output must still be plain.
  const io = captureIo({ NO_COLOR: '1' }, true);
  const endpointBefore = process.env.AWS_ENDPOINT_URL;
  let report: DemoReport;
  let output: string;

  beforeAll(async () => {
    report = await runDemo(io);
    output = io.out.join('');
  }, 120_000);

  it('tells the whole story without a failed expectation', () => {
    // Assess
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.startedMoto).toBe(true);
    expect(output).toContain('every step behaved as described');
  });

  it('restores the remediate-mode key and reports what it overwrote', () => {
    // Assess
    const remediated = report.events.find((event) =>
      event.label.startsWith(`PutKeyPolicy on ${REMEDIATED_KEY}`),
    );
    expect(remediated?.summary.finding?.kind).toBe('remediated');
    expect(keyStatus(report, REMEDIATED_KEY)?.liveEqualsDesired).toBe(true);
    const email = report.emails.find((sent) => sent.kind === 'remediated');
    expect(email?.keyName).toBe(REMEDIATED_KEY);
    expect(email?.emailText).toContain('THE OVERWRITTEN LIVE POLICY');
    expect(email?.emailText).toContain('Temporary access for the migration');
    expect(report.ledgerEntries).toHaveLength(1);
    expect(report.ledgerEntries[0]?.overwrittenPolicy).toContain('Temporary access for the migration');
  });

  it('leaves the alert-mode key as tampered, and reports it from the event and from the audit', () => {
    // Assess
    const status = keyStatus(report, ALERTED_KEY);
    expect(status?.liveEqualsDesired).toBe(false);
    expect(status?.livePolicy).toContain(`arn:aws:iam::${FOREIGN_ACCOUNT_ID}:root`);
    const reports = report.emails.filter((sent) => sent.keyName === ALERTED_KEY && sent.kind === 'drift');
    expect(reports.map((sent) => sent.action)).toEqual(['alerted', 'alerted']);
    expect(report.audit.keys.find((key) => key.name === ALERTED_KEY)?.result).toBe('drift');
  });

  it("ends the guard's own follow-up event as a no-op", () => {
    // Assess
    const followUp = report.events.find((event) => event.label.includes('by the guard'));
    expect(followUp?.summary.status).toBe('in-sync');
    expect(followUp?.summary.finding).toBeUndefined();
    expect(report.emails.filter((sent) => sent.kind === 'remediated')).toHaveLength(1);
  });

  it('keeps the re-tagged key bound: a critical binding-changed finding in real time, still enforced by the audit', () => {
    // Assess
    const mistagged = keyStatus(report, MISTAGGED_KEY);
    expect(mistagged?.managedBy).toBe(MISTAGGED_KEY);
    expect(mistagged?.boundBy).toBe(`tag kms-policy-guard=${MISTAGGED_KEY}`);
    const retag = report.events.find((event) => event.label.startsWith('TagResource'));
    expect(retag?.summary.finding).toMatchObject({ kind: 'binding-changed', severity: 'critical' });
    const audited = report.audit.keys.find((key) => key.keyId === mistagged?.keyId);
    expect(audited).toMatchObject({ name: MISTAGGED_KEY });
    expect(audited?.findings.map((finding) => finding.kind)).toContain('binding-changed');
    expect(
      report.emails.some(
        (sent) =>
          sent.kind === 'binding-changed' && sent.keyId === mistagged?.keyId && sent.severity === 'critical',
      ),
    ).toBe(true);
    expect(
      report.emails.some((sent) => sent.kind === 'unmanaged-key' && sent.keyId === mistagged?.keyId),
    ).toBe(false);
  });

  it('prints the e-mails, the audit summary table and the live-vs-desired status, without colour under NO_COLOR', () => {
    // Assess
    expect(report.emails.length).toBeGreaterThanOrEqual(5);
    expect(report.emails.at(-1)?.kind).toBe('audit-summary');
    for (const heading of ['Your inbox', 'Audit summary', 'Live policy vs desired policy, now']) {
      expect(output).toContain(heading);
    }
    expect(output).toMatch(new RegExp(`${MISTAGGED_KEY}\\s+alias/app-logs\\s+alert\\s+drift\\s+CRITICAL`));
    expect(output).toMatch(new RegExp(`${MISTAGGED_KEY}\\s+\\S+\\s+in sync\\s+watched \\(bound by tag`));
    expect(output).toMatch(new RegExp(`${ALERTED_KEY}\\s+\\S+\\s+DIFFERENT\\s+watched`));
    expect(output).toContain('drift rule kms-policy-guard-drift: ENABLED');
    expect(output.includes(String.fromCharCode(27))).toBe(false);
  });

  it('restores the key widened in a member account through that account’s spoke role, after the event crossed to the hub bus; the alert names the account and Region', () => {
    // Assess
    const { org } = report;
    expect(org.delivered).toBe(2);
    expect(org.memberDrift.summary?.finding).toMatchObject({ kind: 'remediated', action: 'remediated' });
    expect(org.memberKeyRestored).toBe(true);
    expect(org.assumedRoles).toContainEqual({
      roleArn: `arn:aws:iam::${ORG_TAMPER.accountId}:role/${ORG.spokeRoleName}`,
      externalId: ORG.externalId,
    });
    expect(org.memberDrift.notification?.finding).toMatchObject({
      account: ORG_TAMPER.accountId,
      region: ORG_TAMPER.region,
    });
    const email = org.sent.find((sent) => sent.findingId === org.memberDrift.summary?.finding?.id);
    expect(email?.emailText).toMatch(
      new RegExp(`Account:\\s+${ORG_TAMPER.accountId}\\s+Region: ${ORG_TAMPER.region}`),
    );
  });

  it('rejects an event from an account outside the organization list with a finding, and neither assumes a role there nor writes', () => {
    // Assess
    const { outsider, assumedRoles } = report.org;
    expect(outsider.summary).toMatchObject({ status: 'rejected', reason: 'account-not-guarded' });
    expect(outsider.notification?.finding).toMatchObject({
      kind: 'account-not-guarded',
      account: ORG.outsider,
    });
    expect(outsider.keyUntouched).toBe(true);
    expect(assumedRoles.map((call) => call.roleArn).filter((arn) => arn.includes(ORG.outsider))).toEqual([]);
  });

  it('fans the organization audit out over every account × Region on SQS with one AssumeRole per member account, and publishes one summary that counts every unit', () => {
    // Assess
    const { audit, hubAccountId, memberAccounts, regions } = report.org;
    const expected = [hubAccountId, ...memberAccounts].flatMap((account) =>
      regions.map((region) => `${account}/${region}:checked`),
    );
    expect(expected).toHaveLength(6);
    expect(audit.units).toBe(6);
    expect(audit.rows.map((row) => `${row.accountId}/${row.region}:${row.status}`).sort()).toEqual(
      expected.sort(),
    );
    expect(report.org.assumedRoles.map((call) => call.roleArn).sort()).toEqual(
      memberAccounts.map((account) => `arn:aws:iam::${account}:role/${ORG.spokeRoleName}`).sort(),
    );
    expect(audit.summaries).toHaveLength(1);
    expect(audit.summaries[0]?.finding.details[0]).toContain(
      '6 units (accounts × Regions), 6 reported, 0 not reported',
    );
    expect(audit.summaries[0]?.finding.details[1]).toMatch(/^Keys: 4 checked, 4 in sync, 0 drift/);
    expect(output).toContain('The organization audit fans out on SQS: 3 accounts × 2 Regions');
  });

  it('stops its moto server and puts the environment back', async () => {
    // Assess
    const port = new URL(report.endpoint).port;
    expect(await answers(report.endpoint)).toBe(false);
    expect(motoProcessesOnPort(port)).toEqual([]);
    expect(process.env.AWS_ENDPOINT_URL).toBe(endpointBefore);
    expect(output).toContain('moto stopped.');
  });
});

describe('npm start demo without moto', () => {
  it('fails with the install hint and starts nothing', async () => {
    // Prepare
    const savedPath = process.env.PATH;
    process.env.PATH = '/nonexistent';
    const io = captureIo({}, false);

    // Act
    const run = runDemo(io).finally(() => {
      process.env.PATH = savedPath;
    });

    // Assess
    await expect(run).rejects.toThrow(MotoServerError);
    await expect(run).rejects.toThrow('pip install "moto[server]"');
  });
});

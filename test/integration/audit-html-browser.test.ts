/**
 * `kms-guard audit --format html` as an auditor sees it: a moto audit (one key in sync, one drifted
 * by a widened principal, one the manifest does not manage) written to a file and opened in Debian's
 * headless Chromium through playwright-core (no browser download). One browser for the whole file.
 *
 * A second report, from a key whose live policy carries markup in its Sid, principal and condition
 * value, is opened in the same browser: it must show the markup as text, run nothing, load nothing.
 *
 * The keys live in Regions no other integration test creates KMS keys in, so the unmanaged-key
 * listing sees only this file's keys although the moto server is shared.
 *
 * The screenshot goes to a temporary directory; UPDATE_SCREENSHOT=1 writes it over
 * docs/images/audit-report.png (the README's and docs/cli.md's), so ordinary runs leave the work tree clean.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateAliasCommand, CreateKeyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { run } from '../../src/cli/main';
import { capturingIo } from '../../src/cli/output';
import { loadManifest, renderDesiredPolicy } from '../../src/manifest';
import { MOTO_ACCOUNT_ID, motoClientConfig, motoEndpoint } from './moto-env';

const CHROMIUM = '/usr/bin/chromium';
const REGION = 'eu-north-1';
const REPO = join(__dirname, '..', '..');
const README_SCREENSHOT = join(REPO, 'docs', 'images', 'audit-report.png');
const VALUES = { partition: 'aws', region: REGION, accountId: MOTO_ACCOUNT_ID };
const WIDENED_SID = 'Allow use of the key by the exporter and the analytics account';
/** Where the hostile key lives: its own Region, so it is in neither report's other rows. */
const HOSTILE_REGION = 'eu-south-2';
const HOSTILE_SID = `</td><script>document.title='pwned'</script>`;
const HOSTILE_PRINCIPAL = 'arn:aws:iam::999988887777:role/"onmouseover="alert(1)';
const HOSTILE_CONDITION = '<img src=x onerror=alert(2)>\u202Egnp.exe';

function requireChromium(): void {
  if (existsSync(CHROMIUM)) return;
  throw new Error(
    `${CHROMIUM} is missing: the HTML report's browser test needs Debian's Chromium. Install it with ` +
      '`sudo apt-get update && sudo apt-get install -y chromium` (.ci/run does this when it is missing).',
  );
}

/** A repository like the shipped one in `dir`: policies/manifest.yaml and the policies its entries name. */
function writeRepository(dir: string, entries: { name: string; mode: string; policy: string }[]): string {
  mkdirSync(join(dir, 'policies'));
  for (const { policy } of entries) {
    writeFileSync(join(dir, 'policies', policy), readFileSync(join(REPO, 'policies', policy)));
  }
  const manifest = [
    'unmanagedKeys: report',
    'allowedAccounts: ["444455556666"]',
    'adminPrincipals: ["arn:{{Partition}}:iam::{{AccountId}}:role/KMSAdminRole"]',
    'keys:',
    ...entries.flatMap(({ name, mode, policy }) => [
      `  - name: ${name}`,
      `    match: { alias: alias/${name} }`,
      `    mode: ${mode}`,
      `    policy: ${policy}`,
    ]),
  ].join('\n');
  const path = join(dir, 'policies', 'manifest.yaml');
  writeFileSync(path, manifest);
  return path;
}

/** The desired document with the exporter statement's principals widened to anyone. */
function widened(policy: string): string {
  const document = JSON.parse(policy) as { Statement: { Sid?: string; Principal?: unknown }[] };
  for (const statement of document.Statement) {
    if (statement.Sid === WIDENED_SID) statement.Principal = { AWS: '*' };
  }
  return JSON.stringify(document, null, 2);
}

/** The desired document plus a statement whose Sid, principal and condition value are attacks. */
function hostile(policy: string): string {
  const document = JSON.parse(policy) as { Statement: unknown[] };
  document.Statement.push({
    Sid: HOSTILE_SID,
    Effect: 'Allow',
    Principal: { AWS: HOSTILE_PRINCIPAL },
    Action: 'kms:Decrypt',
    Resource: '*',
    Condition: { StringEquals: { 'aws:PrincipalTag/team': HOSTILE_CONDITION } },
  });
  return JSON.stringify(document, null, 2);
}

interface HtmlAudit {
  code: number;
  stdout: string;
  stderr: string;
  url: string;
}

/** `kms-guard audit --format html` run from the repository `dir`, as a person would, written to dir/report.html. */
async function auditToFile(dir: string, region: string, extra: string[] = []): Promise<HtmlAudit> {
  const { io, captured } = capturingIo({ env: {}, stdoutIsTTY: false, stderrIsTTY: false });
  const argv = ['audit', '--format', 'html', '--endpoint-url', motoEndpoint(), '--region', region, ...extra];
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const code = await run(argv, io);
    const file = join(dir, 'report.html');
    writeFileSync(file, captured.stdout);
    return { code, ...captured, url: pathToFileURL(file).href };
  } finally {
    process.chdir(cwd);
  }
}

/** What a page did besides showing the report: requests, console errors, uncaught errors and dialogs. */
interface PageLog {
  requests: string[];
  consoleErrors: string[];
  pageErrors: string[];
  dialogs: string[];
}

async function openLogged(context: BrowserContext, url: string): Promise<{ page: Page; log: PageLog }> {
  const log: PageLog = { requests: [], consoleErrors: [], pageErrors: [], dialogs: [] };
  const page = await context.newPage();
  page.on('request', (request) => log.requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') log.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => log.pageErrors.push(error.message));
  page.on('dialog', (dialog) => {
    log.dialogs.push(dialog.message());
    return dialog.dismiss();
  });
  await page.goto(url, { waitUntil: 'load' });
  return { page, log };
}

async function createKey(kms: KMSClient, policy: string, alias: string): Promise<string> {
  const created = await kms.send(new CreateKeyCommand({ Policy: policy, Description: 'audit-html' }));
  const keyId = created.KeyMetadata?.KeyId;
  if (!keyId) throw new Error('moto returned no key ID');
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: keyId }));
  return keyId;
}

/** The text as rendered, as a person reads it (CSS applied, hidden parts left out). */
function seen(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: what a person sees is the point
  return locator.innerText();
}

async function cellTexts(page: Page, column: number): Promise<string[]> {
  return page.locator(`#keys tbody tr td:nth-child(${column})`).allInnerTexts();
}

describe('kms-guard audit --format html in headless Chromium', () => {
  const kms = new KMSClient({ ...motoClientConfig(), region: REGION });
  const hostileKms = new KMSClient({ ...motoClientConfig(), region: HOSTILE_REGION });
  const keyIds: Record<string, string> = {};
  /** Every request the browser context made, routed: only the two report files are let through. */
  const routed: string[] = [];
  let audit: HtmlAudit;
  let hostileAudit: HtmlAudit;
  let browser: Browser | undefined;
  let page: Page;
  let log: PageLog;

  beforeAll(async () => {
    requireChromium();
    // The main report: payments-data in sync, shared-with-analytics widened, and an unmanaged key.
    const dir = mkdtempSync(join(tmpdir(), 'kms-guard-audit-html-'));
    const manifest = loadManifest(
      writeRepository(dir, [
        { name: 'payments-data', mode: 'remediate', policy: 'payments-data.json' },
        { name: 'shared-with-analytics', mode: 'alert', policy: 'shared-with-analytics.json' },
      ]),
    );
    let inSyncPolicy = '';
    for (const entry of manifest.keys) {
      const desired = renderDesiredPolicy(entry, VALUES);
      if (entry.name === 'payments-data') inSyncPolicy = desired;
      keyIds[entry.name] = await createKey(kms, desired, entry.match.alias ?? '');
      if (entry.name === 'shared-with-analytics') {
        const live = widened(desired);
        await kms.send(
          new PutKeyPolicyCommand({ KeyId: keyIds[entry.name], PolicyName: 'default', Policy: live }),
        );
      }
    }
    // A key someone created by hand: no manifest entry matches it.
    keyIds.scratch = await createKey(kms, inSyncPolicy, 'alias/scratch');
    audit = await auditToFile(dir, REGION);

    // The attack: a key whose live policy carries markup in its Sid, principal and condition value.
    const hostileDir = mkdtempSync(join(tmpdir(), 'kms-guard-audit-html-hostile-'));
    const [entry] = loadManifest(
      writeRepository(hostileDir, [{ name: 'hostile', mode: 'alert', policy: 'payments-data.json' }]),
    ).keys;
    if (!entry) throw new Error('the hostile manifest has no entry');
    const desired = renderDesiredPolicy(entry, { ...VALUES, region: HOSTILE_REGION });
    const keyId = await createKey(hostileKms, desired, 'alias/hostile');
    await hostileKms.send(
      new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: 'default', Policy: hostile(desired) }),
    );
    hostileAudit = await auditToFile(hostileDir, HOSTILE_REGION, ['--no-unmanaged']);

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    // A new context is a fresh profile (Playwright gives every launch its own temporary user-data dir).
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const reports = [audit.url, hostileAudit.url];
    await context.route('**/*', (route) => {
      routed.push(route.request().url());
      return reports.includes(route.request().url()) ? route.continue() : route.abort();
    });
    ({ page, log } = await openLogged(context, audit.url));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    kms.destroy();
    hostileKms.destroy();
  });

  it('exits 1 for the drift, as the other formats do, and prints nothing on stderr', () => {
    // Assess
    expect(audit.stderr).toBe('');
    expect(audit.code).toBe(1);
    expect(audit.stdout.startsWith('<!DOCTYPE html>')).toBe(true);
  });

  it('shows the counts of the run: 3 checked, 1 in sync, 1 drift, 0 failed, 1 unmanaged, 0 not checked', async () => {
    // Act
    const count = (name: string) => seen(page.locator(`[data-count="${name}"] .n`));

    // Assess
    expect(await seen(page.locator('h1'))).toBe('KMS key policy audit');
    expect(await seen(page.locator('.verdict'))).toBe('1 key drifted.');
    expect(
      await Promise.all(['checked', 'in-sync', 'drift', 'failed', 'unmanaged', 'not-checked'].map(count)),
    ).toEqual(['3', '1', '1', '0', '1', '0']);
    await expect(page.locator('svg.chart').isVisible()).resolves.toBe(true);
    expect(await page.locator('svg.chart desc').textContent()).toContain('Drift: 1 (1 critical)');
  });

  it("shows the drifted key's row first, with its account, Region, entry, mode, status and severity", async () => {
    // Act
    const firstRow = await page.locator('#keys tbody tr').first().locator('td').allInnerTexts();

    // Assess
    expect(firstRow.slice(0, 7)).toEqual([
      MOTO_ACCOUNT_ID,
      REGION,
      `${keyIds['shared-with-analytics']}\nalias/shared-with-analytics`,
      'shared-with-analytics',
      'alert',
      'Drift',
      'critical',
    ]);
    expect(await page.locator('#keys tbody tr').count()).toBe(3);
  });

  it('shows who gained what and the widened principal in the side-by-side diff of the drifted key', async () => {
    // Prepare
    const section = page.locator('section.key-detail');

    // Act
    await page.locator('#keys tbody tr').first().getByRole('link', { name: 'Details' }).click();

    // Assess
    expect(await section.count()).toBe(1);
    await expect(section.isVisible()).resolves.toBe(true);
    const access = await section.locator('table.access tbody tr').allInnerTexts();
    expect(access.find((row) => row.startsWith('*'))).toMatch(/anyone[\s\S]*kms:Decrypt/);
    const added = await section.locator('div.diff td.ins').allInnerTexts();
    const removed = await section.locator('div.diff td.del').allInnerTexts();
    expect(added.map((text) => text.trim())).toContain('"AWS": "*"');
    expect(removed.join('\n')).toContain('arn:aws:iam::444455556666:root');
    expect(await seen(section.locator('div.diff thead'))).toMatch(
      /Desired \(Git: policies\/shared-with-analytics\.json\)\s+Live \(AWS\)/,
    );
  });

  it('saves a screenshot of the report', async () => {
    // Prepare
    await page.evaluate('window.scrollTo(0, 0)');
    const target = process.env.UPDATE_SCREENSHOT
      ? README_SCREENSHOT
      : join(mkdtempSync(join(tmpdir(), 'kms-guard-shot-')), 'audit-report.png');

    // Act
    const png = await page.screenshot({ path: target, fullPage: true });

    // Assess
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(existsSync(target)).toBe(true);
  });

  it('sorts the keys by the clicked column, and reverses on a second press from the keyboard', async () => {
    // Prepare
    const entryHeader = page.locator('#keys thead th').nth(3);

    // Act
    await entryHeader.getByRole('button').click();
    const ascending = await cellTexts(page, 4);
    await entryHeader.getByRole('button').press('Enter');
    const descending = await cellTexts(page, 4);

    // Assess
    expect(ascending).toEqual(['payments-data', 'shared-with-analytics', '—']);
    expect(descending).toEqual(['shared-with-analytics', 'payments-data', '—']);
    expect(await entryHeader.getAttribute('aria-sort')).toBe('descending');
    expect(await seen(page.locator('#sort-status'))).toBe('Sorted by Entry, descending.');
  });

  it('loads nothing but the file itself and logs no error (the CSP let the one script run)', () => {
    // Assess
    expect(log.requests).toEqual([audit.url]);
    expect(routed).toEqual([audit.url]);
    expect(log.consoleErrors).toEqual([]);
    expect(log.pageErrors).toEqual([]);
  });

  it('shows markup from a live policy (Sid, principal, condition value) as text: nothing runs, nothing loads', async () => {
    // Prepare
    const context = page.context();

    // Act
    const hostilePage = await openLogged(context, hostileAudit.url);
    const detail = await seen(hostilePage.page.locator('section.key-detail'));

    // Assess
    expect(hostileAudit.code).toBe(1);
    expect(detail).toContain(HOSTILE_SID);
    expect(detail).toContain(HOSTILE_PRINCIPAL);
    expect(detail).toContain('<img src=x onerror=alert(2)>\\u202Egnp.exe');
    await hostilePage.page.locator('section.key-detail td', { hasText: 'onmouseover' }).first().hover();
    expect(await hostilePage.page.locator('script').count()).toBe(1);
    expect(await hostilePage.page.locator('img').count()).toBe(0);
    expect(await hostilePage.page.title()).not.toBe('pwned');
    expect(hostilePage.log).toEqual({
      requests: [hostileAudit.url],
      consoleErrors: [],
      pageErrors: [],
      dialogs: [],
    });
    expect(routed).toEqual([audit.url, hostileAudit.url]);
  });
});

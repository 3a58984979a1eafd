/**
 * `kms-guard audit --format html` as an auditor sees it: a moto audit (one key in sync, one drifted
 * by a widened principal, one the manifest does not manage) written to a file and opened in Debian's
 * headless Chromium through playwright-core (no browser download). One browser for the whole file.
 *
 * The keys live in a Region no other integration test creates KMS keys in, so the unmanaged-key
 * listing sees only this file's keys although the moto server is shared.
 *
 * The screenshot goes to a temporary directory; UPDATE_SCREENSHOT=1 writes it over
 * docs/images/audit-report.png (the README's), so ordinary runs leave the work tree clean.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateAliasCommand, CreateKeyCommand, KMSClient, PutKeyPolicyCommand } from '@aws-sdk/client-kms';
import { type Browser, chromium, type Locator, type Page } from 'playwright-core';
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

function requireChromium(): void {
  if (existsSync(CHROMIUM)) return;
  throw new Error(
    `${CHROMIUM} is missing: the HTML report's browser test needs Debian's Chromium. Install it with ` +
      '`sudo apt-get update && sudo apt-get install -y chromium` (.ci/run does this when it is missing).',
  );
}

/** A repository like the shipped one in `dir`: policies/manifest.yaml and the two policies it names. */
function writeManifest(dir: string): string {
  mkdirSync(join(dir, 'policies'));
  for (const file of ['payments-data.json', 'shared-with-analytics.json']) {
    writeFileSync(join(dir, 'policies', file), readFileSync(join(REPO, 'policies', file)));
  }
  const manifest = [
    'unmanagedKeys: report',
    'allowedAccounts: ["444455556666"]',
    'adminPrincipals: ["arn:{{Partition}}:iam::{{AccountId}}:role/KMSAdminRole"]',
    'keys:',
    '  - name: payments-data',
    '    match: { alias: alias/payments-data }',
    '    mode: remediate',
    '    policy: payments-data.json',
    '  - name: shared-with-analytics',
    '    match: { alias: alias/shared-with-analytics }',
    '    mode: alert',
    '    policy: shared-with-analytics.json',
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
  const keyIds: Record<string, string> = {};
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const requests: string[] = [];
  const routed: string[] = [];
  let reportUrl = '';
  let audit = { code: -1, stdout: '', stderr: '' };
  let browser: Browser | undefined;
  let page: Page;

  beforeAll(async () => {
    requireChromium();
    const dir = mkdtempSync(join(tmpdir(), 'kms-guard-audit-html-'));
    const manifest = loadManifest(writeManifest(dir));
    let inSyncPolicy = '';
    for (const entry of manifest.keys) {
      const desired = renderDesiredPolicy(entry, VALUES);
      if (entry.name === 'payments-data') inSyncPolicy = desired;
      const live = entry.name === 'shared-with-analytics' ? widened(desired) : desired;
      keyIds[entry.name] = await createKey(kms, desired, entry.match.alias ?? '');
      if (live !== desired) {
        await kms.send(
          new PutKeyPolicyCommand({ KeyId: keyIds[entry.name], PolicyName: 'default', Policy: live }),
        );
      }
    }
    // A key someone created by hand: no manifest entry matches it.
    keyIds.scratch = await createKey(kms, inSyncPolicy, 'alias/scratch');

    const { io, captured } = capturingIo({ env: {}, stdoutIsTTY: false, stderrIsTTY: false });
    const argv = ['audit', '--format', 'html', '--endpoint-url', motoEndpoint(), '--region', REGION];
    // Run from the temporary repository, as a person would, so policy files read policies/….json.
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      audit = { code: await run(argv, io), ...captured };
    } finally {
      process.chdir(cwd);
    }
    const file = join(dir, 'report.html');
    writeFileSync(file, audit.stdout);
    reportUrl = pathToFileURL(file).href;

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
    await context.route('**/*', (route) => {
      routed.push(route.request().url());
      return route.request().url() === reportUrl ? route.continue() : route.abort();
    });
    page = await context.newPage();
    page.on('request', (request) => requests.push(request.url()));
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(reportUrl, { waitUntil: 'load' });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    kms.destroy();
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
    expect(requests).toEqual([reportUrl]);
    expect(routed).toEqual([reportUrl]);
    expect(consoleErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});

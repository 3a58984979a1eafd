/**
 * `kms-guard audit` (the CLI, in-process: manifest load, auditKeys, --json rendering) against a local
 * moto server with 1,000 keys and, behind a flag, 10,000 keys. Every key is managed (matched by a tag)
 * and in sync, so the audit does its full work per key: ListResourceTags + GetKeyPolicy + compare.
 * Target: the 10k audit takes at most 11x the 1k audit (linear: no per-key cost grows with the count).
 *
 * Usage: npm run bench -- audit                     (1,000 keys)
 *        npm run bench -- audit --audit-10k         (also 10,000 keys; or BENCH_AUDIT_10K=1)
 * Not for CI: creating 10,000 keys in moto alone takes minutes.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { startMoto } from '../dev/moto-server';
import { WORLD_PLACEHOLDERS, WORLD_REGION, worldClientConfig } from '../dev/world';
import { run as runCli } from '../src/cli/main';
import { capturingIo } from '../src/cli/output';
import type { AuditJson } from '../src/cli/report/audit-json';
import { runPool } from '../src/guard/concurrency';
import { loadManifest, renderDesiredPolicy } from '../src/manifest';
import { printAlignedTable } from './text-table';

const TARGET_RATIO = 11;
const CREATE_CONCURRENCY = 32;
const AUDIT_CONCURRENCY = ['8', '32'];
const REGION = WORLD_REGION;

function wantsTenThousand(): boolean {
  return process.argv.includes('--audit-10k') || process.env.BENCH_AUDIT_10K === '1';
}

/** A manifest with one entry: every key tagged kms-policy-guard=<tag> gets app-logs.json, alert mode. */
function writeManifest(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kms-guard-bench-audit-'));
  copyFileSync(join(__dirname, '..', 'policies', 'app-logs.json'), join(dir, 'app-logs.json'));
  const path = join(dir, 'manifest.yaml');
  writeFileSync(
    path,
    [
      'unmanagedKeys: ignore',
      'keys:',
      '  - name: bench-keys',
      `    match: { tag: { key: kms-policy-guard, value: ${tag} } }`,
      '    mode: alert',
      '    policy: app-logs.json',
    ].join('\n'),
  );
  return path;
}

async function createKeys(kms: KMSClient, count: number, policy: string, tag: string): Promise<number> {
  const started = performance.now();
  const indexes = Array.from({ length: count }, (_, index) => index);
  let failed = 0;
  await runPool(indexes, CREATE_CONCURRENCY, async () => {
    try {
      await kms.send(
        new CreateKeyCommand({ Policy: policy, Tags: [{ TagKey: 'kms-policy-guard', TagValue: tag }] }),
      );
    } catch {
      failed += 1;
    }
  });
  if (failed > 0) throw new Error(`${failed} CreateKey calls failed`);
  return performance.now() - started;
}

interface AuditRun {
  keys: number;
  concurrency: string;
  wallMs: number;
  inSync: number;
}

async function timeAudit(endpoint: string, manifest: string, concurrency: string): Promise<AuditRun> {
  const { io, captured } = capturingIo({
    env: { AWS_REGION: REGION },
    stdoutIsTTY: false,
    stderrIsTTY: false,
  });
  const argv = [
    'audit',
    '--endpoint-url',
    endpoint,
    '--manifest',
    manifest,
    '--json',
    '--concurrency',
    concurrency,
  ];
  const started = performance.now();
  const code = await runCli(argv, io);
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`kms-guard audit exited ${code}: ${captured.stderr.trim()}`);
  const json = JSON.parse(captured.stdout) as AuditJson;
  return { keys: json.summary.checked, concurrency, wallMs, inSync: json.summary.inSync };
}

export async function run(): Promise<void> {
  // moto wants credentials in the usual places; these never leave the loopback interface.
  process.env.AWS_ACCESS_KEY_ID = 'testing';
  process.env.AWS_SECRET_ACCESS_KEY = 'testing';
  delete process.env.AWS_PROFILE;
  const moto = await startMoto();
  const kms = new KMSClient({ ...worldClientConfig(moto.endpoint, REGION), maxAttempts: 5 });
  try {
    const tag = `bench-audit-${randomBytes(4).toString('hex')}`;
    const manifestPath = writeManifest(tag);
    const entry = loadManifest(manifestPath).keys[0];
    if (!entry) throw new Error('bench manifest has no entry');
    const policy = renderDesiredPolicy(entry, WORLD_PLACEHOLDERS);

    const sizes = wantsTenThousand() ? [1_000, 10_000] : [1_000];
    const runs: AuditRun[] = [];
    let existing = 0;
    for (const size of sizes) {
      const createMs = await createKeys(kms, size - existing, policy, tag);
      console.log(
        `created ${size - existing} keys in ${(createMs / 1000).toFixed(1)} s (moto, ${CREATE_CONCURRENCY} in parallel)`,
      );
      existing = size;
      for (const concurrency of AUDIT_CONCURRENCY) {
        const result = await timeAudit(moto.endpoint, manifestPath, concurrency);
        if (result.inSync !== size) throw new Error(`expected ${size} keys in sync, got ${result.inSync}`);
        runs.push(result);
      }
    }

    const header = ['keys', 'concurrency', 'wall time (s)', 'keys/s'];
    const rows = runs.map((item) => [
      item.keys.toLocaleString('en-US'),
      item.concurrency,
      (item.wallMs / 1000).toFixed(2),
      (item.keys / (item.wallMs / 1000)).toFixed(0),
    ]);
    printAlignedTable(header, rows);
    for (const concurrency of AUDIT_CONCURRENCY) {
      const small = runs.find((item) => item.keys === 1_000 && item.concurrency === concurrency);
      const large = runs.find((item) => item.keys === 10_000 && item.concurrency === concurrency);
      if (!small || !large) continue;
      const ratio = large.wallMs / small.wallMs;
      console.log(
        `10k/1k wall-time ratio at concurrency ${concurrency}: ${ratio.toFixed(2)} (target <= ${TARGET_RATIO}: ${ratio <= TARGET_RATIO ? 'met' : 'NOT met'})`,
      );
    }
    if (!wantsTenThousand())
      console.log('(10,000 keys: npm run bench -- audit --audit-10k, or BENCH_AUDIT_10K=1)');
    console.log(
      'Each key: ListResourceTags + GetKeyPolicy + semantic compare; plus one ListAliases, one paginated ListKeys and one DescribeKey per run.',
    );
  } finally {
    kms.destroy();
    await moto.stop();
  }
}

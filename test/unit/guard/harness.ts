/**
 * Shared set-up for the guard's unit tests: the fixture manifest, desired and drifted documents,
 * KMS/SNS clients mocked with aws-sdk-client-mock behind the real adapters, a recording logger, a
 * clock whose sleeps return at once, and helpers to read back what SNS was asked to publish.
 */

import path from 'node:path';
import {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  KMSClient,
  ListAliasesCommand,
  ListGrantsCommand,
  ListResourceTagsCommand,
  PutKeyPolicyCommand,
} from '@aws-sdk/client-kms';
import { PublishCommand, type PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { buildGuard } from '../../../src/app/guard-deps';
import type { Finding } from '../../../src/core/finding';
import type { GuardMode } from '../../../src/core/key';
import type { CachingKeyStore } from '../../../src/guard/caching-store';
import type { CheckKeyDeps } from '../../../src/guard/check-key';
import type { GuardLogger, LogAttributes } from '../../../src/guard/logger';
import { InMemoryRemediationLedger } from '../../../src/guard/memory-ledger';
import type { Clock } from '../../../src/guard/ports';
import { loadManifest, placeholderValuesFromArn, renderDesiredPolicy } from '../../../src/manifest';
import type { LoadedManifest, ManagedKey } from '../../../src/manifest/types';
import { withCrossAccountDecrypt } from '../support/drift';

export const FIXTURES = path.join(__dirname, 'fixtures');
export const EVENTS = path.join(__dirname, '..', '..', 'events');
export const REPO_ROOT = path.join(__dirname, '..', '..', '..');
export const KEY_ID = '1234abcd-12ab-34cd-56ef-1234567890ab';
export const KEY_ARN = `arn:aws:kms:us-west-2:111122223333:key/${KEY_ID}`;
export const OTHER_KEY_ID = '0987dcba-09ba-76dc-65fe-0987654321ba';
export const OTHER_KEY_ARN = `arn:aws:kms:us-west-2:111122223333:key/${OTHER_KEY_ID}`;
export const TOPIC_ARN = 'arn:aws:sns:us-west-2:111122223333:kms-policy-guard-findings';
export const GUARD_ROLE_ARN = 'arn:aws:iam::111122223333:role/kms-policy-guard-us-west-2';
export const NOW = new Date('2026-03-02T10:00:00.000Z');

export function fixtureManifest(mode?: GuardMode, changes: Partial<LoadedManifest> = {}): LoadedManifest {
  const manifest = loadManifest(path.join(FIXTURES, 'manifest.yaml'));
  const keys = mode === undefined ? manifest.keys : manifest.keys.map((key) => ({ ...key, mode }));
  return { ...manifest, keys, ...changes };
}

export function managedKey(manifest: LoadedManifest, name: string): ManagedKey {
  const key = manifest.keys.find((entry) => entry.name === name);
  if (!key) throw new Error(`no key ${name} in the fixture manifest`);
  return key;
}

/** The fixture's desired document for the test key, placeholders filled (as KMS would return it once applied). */
export function desiredPolicyText(name = 'payments-data', keyArn = KEY_ARN): string {
  return renderDesiredPolicy(managedKey(fixtureManifest(), name), placeholderValuesFromArn(keyArn));
}

/** The desired document as KMS shows it after a PutKeyPolicy: reformatted, same meaning. */
export function desiredPolicyAsKmsReturnsIt(name = 'payments-data', keyArn = KEY_ARN): string {
  return JSON.stringify(JSON.parse(desiredPolicyText(name, keyArn)), null, 2);
}

/** Someone added a cross-account principal with decrypt rights: drift of high severity. */
export function driftedPolicyText(keyArn = KEY_ARN): string {
  return withCrossAccountDecrypt(desiredPolicyText('payments-data', keyArn));
}

/** The desired document without its DynamoDB use statement: drift that takes access away, gives none. */
export function narrowedPolicyText(keyArn = KEY_ARN): string {
  const document = JSON.parse(desiredPolicyText('payments-data', keyArn)) as {
    Statement: { Sid?: string }[];
  };
  document.Statement = document.Statement.filter(
    (statement) => statement.Sid !== 'Allow use of the key through DynamoDB',
  );
  return JSON.stringify(document);
}

export interface LogLine {
  level: keyof GuardLogger;
  message: string;
  attributes: LogAttributes;
}

export class RecordingLogger implements GuardLogger {
  readonly lines: LogLine[] = [];

  debug(message: string, ...attributes: LogAttributes[]): void {
    this.lines.push({ level: 'debug', message, attributes: Object.assign({}, ...attributes) });
  }
  info(message: string, ...attributes: LogAttributes[]): void {
    this.lines.push({ level: 'info', message, attributes: Object.assign({}, ...attributes) });
  }
  warn(message: string, ...attributes: LogAttributes[]): void {
    this.lines.push({ level: 'warn', message, attributes: Object.assign({}, ...attributes) });
  }
  error(message: string, ...attributes: LogAttributes[]): void {
    this.lines.push({ level: 'error', message, attributes: Object.assign({}, ...attributes) });
  }

  messages(): string[] {
    return this.lines.map((line) => line.message);
  }
}

export class InstantClock implements Clock {
  readonly sleeps: number[] = [];
  constructor(private at: Date = NOW) {}
  now(): Date {
    return this.at;
  }
  /** Moves the clock forward (cache expiry); sleeping does not. */
  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms);
  }
}

export const kmsMock = mockClient(KMSClient);
export const snsMock = mockClient(SNSClient);

export interface Harness {
  deps: CheckKeyDeps;
  logger: RecordingLogger;
  clock: InstantClock;
  ledger: InMemoryRemediationLedger;
  store: CachingKeyStore;
}

/** Fresh adapters over the (reset) mocks, built by the composition root; a new store per test also means
 * fresh alias/tag caches, bindings, intents and outbox. */
export function makeHarness(manifest: LoadedManifest = fixtureManifest()): Harness {
  const logger = new RecordingLogger();
  const clock = new InstantClock();
  const ledger = new InMemoryRemediationLedger(manifest.flapping);
  const { deps } = buildGuard({
    manifest,
    aws: { region: 'us-west-2' },
    logger,
    repoRoot: REPO_ROOT,
    topicArn: TOPIC_ARN,
    ledger,
    clock,
    guardPrincipalArn: GUARD_ROLE_ARN,
    stabilization: { attempts: 5, delayMs: 100, requiredStableReads: 2, maxDelayMs: 1000 },
  });
  return { deps, logger, clock, ledger, store: deps.store };
}

/** Earlier re-applies of the desired policy to KEY_ARN, `minutesAgo` before the harness clock's now. */
export async function recordEarlierReapplies(harness: Harness, minutesAgo: number[]): Promise<void> {
  for (const minutes of minutesAgo) {
    await harness.ledger.recordReapply(
      KEY_ARN,
      'older',
      new Date(harness.deps.clock.now().getTime() - minutes * 60_000),
    );
  }
}

/** Mocks reset to a healthy account: every key Enabled and customer managed (DescribeKey answers for the
 * key asked about, in KEY_ARN's account and Region), no grants, and SNS accepting every Publish. */
export function resetMocks(): void {
  kmsMock.reset();
  snsMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'message-1' });
  kmsMock.on(DescribeKeyCommand).callsFake((input: { KeyId?: string }) => {
    const keyId = (input.KeyId ?? KEY_ID).slice((input.KeyId ?? KEY_ID).lastIndexOf('/') + 1);
    return describeKeyResponse({ KeyId: keyId, Arn: KEY_ARN.replace(KEY_ID, keyId) });
  });
  kmsMock.on(ListGrantsCommand).resolves({ Grants: [] });
}

export function publishedInputs(): PublishCommandInput[] {
  return snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input);
}

/** The findings SNS was asked to publish (the `default` part of each JSON message). */
export function publishedFindings(): Finding[] {
  return publishedInputs().map((input) => {
    const structure = JSON.parse(input.Message ?? '{}') as { default: string };
    return JSON.parse(structure.default) as Finding;
  });
}

export function publishedEmails(): string[] {
  return publishedInputs().map((input) => (JSON.parse(input.Message ?? '{}') as { email: string }).email);
}

export function onlyFinding(): Finding {
  const findings = publishedFindings();
  if (findings.length !== 1)
    throw new Error(`expected exactly one published finding, got ${findings.length}`);
  return findings[0] as Finding;
}

/** AWS calls made so far, by operation (`GetKeyPolicy: 1, Publish: 1`). */
export function awsCalls(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of [...kmsMock.calls(), ...snsMock.calls()]) {
    const name = (call.args[0] as object).constructor.name.replace(/Command$/, '');
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** An SDK-shaped service exception (name, $fault, $metadata) as the clients throw them. */
export function awsError(
  name: string,
  message: string,
  fault: 'client' | 'server' = 'client',
  status = 400,
): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status, requestId: 'request-1', attempts: 1 },
  });
}

/** The fixture manifest in `mode` with another desired document for payments-data (to build invalid ones). */
export function manifestWithDesired(mode: GuardMode, policyTemplate: string): LoadedManifest {
  const manifest = fixtureManifest(mode);
  return {
    ...manifest,
    keys: manifest.keys.map((key) => (key.name === 'payments-data' ? { ...key, policyTemplate } : key)),
  };
}

/**
 * A write that takes: GetKeyPolicy answers each of `readsBeforeRestored` once (the check's read, then
 * any stale reads after the write), the desired document after that; DescribeKey and PutKeyPolicy succeed.
 */
/**
 * KMS as the guard sees it around a restore: GetKeyPolicy answers `live` until PutKeyPolicy, then `live`
 * again for `staleReadsAfterWrite` reads (eventual consistency), then the desired document.
 */
export function kmsRestoresDesiredAfter(live: string, staleReadsAfterWrite = 0): void {
  let written = false;
  let stale = staleReadsAfterWrite;
  kmsMock.on(GetKeyPolicyCommand).callsFake(() => {
    if (!written) return { Policy: live };
    if (stale > 0) {
      stale -= 1;
      return { Policy: live };
    }
    return { Policy: desiredPolicyAsKmsReturnsIt() };
  });
  kmsMock.on(DescribeKeyCommand).resolves(describeKeyResponse());
  kmsMock.on(PutKeyPolicyCommand).callsFake(() => {
    written = true;
    return {};
  });
}

export function describeKeyResponse(overrides: Record<string, unknown> = {}) {
  return {
    KeyMetadata: {
      KeyId: KEY_ID,
      Arn: KEY_ARN,
      AWSAccountId: '111122223333',
      KeyState: 'Enabled' as const,
      Enabled: true,
      KeyManager: 'CUSTOMER' as const,
      MultiRegion: false,
      ...overrides,
    },
  };
}

export {
  DescribeKeyCommand,
  GetKeyPolicyCommand,
  ListAliasesCommand,
  ListResourceTagsCommand,
  PublishCommand,
  PutKeyPolicyCommand,
};

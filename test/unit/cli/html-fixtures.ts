/**
 * Audit reports for the HTML report's unit tests, and a tiny HTML checker: the sequence of tags a
 * page has (it throws on a `<` that starts no well-formed tag and on an `&` that starts no entity).
 */

import type { Finding } from '../../../src/core/finding';
import type { AuditedKey, AuditReport, NotCheckedKey } from '../../../src/guard/audit-keys';

export const ACCOUNT = '111122223333';
export const OTHER_ACCOUNT = '444455556666';
export const REGION = 'eu-west-1';
export const OTHER_REGION = 'ap-southeast-2';

export const keyArn = (keyId: string, account = ACCOUNT, region = REGION): string =>
  `arn:aws:kms:${region}:${account}:key/${keyId}`;

export const DESIRED_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'Enable IAM policies',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: 'kms:*',
      Resource: '*',
    },
    {
      Sid: 'Use only',
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/app` },
      Action: ['kms:Decrypt'],
      Resource: '*',
    },
  ],
});

/** The desired policy with the app statement's principal widened to `principal`. */
export function widenedPolicy(principal = '*', sid = 'Use only'): string {
  const document = JSON.parse(DESIRED_POLICY) as { Statement: Record<string, unknown>[] };
  const statement = document.Statement[1] ?? {};
  statement.Sid = sid;
  statement.Principal = { AWS: principal };
  return JSON.stringify(document);
}

export function finding(keyId: string, overrides: Partial<Finding> = {}): Finding {
  return {
    id: `cli-run:${keyId}:drift`,
    kind: 'drift',
    severity: 'critical',
    title: '[CRITICAL] Key policy drift: payments',
    keyArn: keyArn(keyId),
    keyId,
    aliases: ['alias/payments'],
    keyName: 'payments',
    policyFile: 'policies/payments.json',
    region: REGION,
    account: ACCOUNT,
    mode: 'alert',
    action: 'none',
    trigger: 'cli',
    diff: {
      statements: [
        {
          kind: 'changed',
          severity: 'critical',
          sid: 'Use only',
          effect: 'Allow',
          summary: 'Allow statement "Use only" changed: adds principal *',
          notes: [],
        },
      ],
      access: [
        {
          principal: '*',
          gained: ['kms:decrypt'],
          lost: [],
          conditions: [],
          anyone: true,
          crossAccount: false,
          severity: 'critical',
        },
        {
          principal: `AWS:arn:aws:iam::${ACCOUNT}:role/app`,
          gained: [],
          lost: ['kms:decrypt'],
          conditions: [],
          anyone: false,
          crossAccount: false,
          severity: 'low',
        },
      ],
      orphanedPrincipals: [],
      severity: 'critical',
    },
    desiredPolicy: DESIRED_POLICY,
    livePolicy: widenedPolicy(),
    details: ['Alert mode: the guard changed nothing.'],
    time: '2026-11-26T03:00:00.000Z',
    ...overrides,
  };
}

/** An audited key as the fixtures write it: `findings` defaults to the one `finding`. */
export type FixtureKey = Omit<AuditedKey, 'findings'> & { findings?: AuditedKey['findings'] };

export function auditReport(
  fixtureKeys: FixtureKey[],
  notChecked: NotCheckedKey[] = [],
  overrides: Partial<AuditReport> = {},
): AuditReport {
  const keys: AuditedKey[] = fixtureKeys.map((key) => ({
    ...key,
    findings: key.findings ?? (key.finding ? [key.finding] : []),
  }));
  const count = (result: AuditedKey['result']) => keys.filter((key) => key.result === result).length;
  return {
    runId: 'cli-2026-11-26T03:00:00.000Z',
    startedAt: '2026-11-26T03:00:00.000Z',
    durationMs: 42,
    complete: notChecked.length === 0,
    summary: {
      checked: keys.length,
      inSync: count('in-sync'),
      drift: count('drift') + count('remediated'),
      failed: count('failed'),
      notChecked: notChecked.length,
      unmanaged: count('unmanaged'),
    },
    keys,
    notChecked,
    awsManagedSkipped: 0,
    problems: [],
    notes: [],
    findings: keys.flatMap((key) => (key.finding ? [key.finding] : [])),
    location: { partition: 'aws', region: REGION, accountId: ACCOUNT },
    ...overrides,
  };
}

export const DRIFTED = '00000000-0000-0000-0000-00000000d1f7';
export const IN_SYNC = '00000000-0000-0000-0000-0000000005ec';
export const UNMANAGED = '00000000-0000-0000-0000-00000000a11e';
export const ELSEWHERE = '00000000-0000-0000-0000-0000000e15e0';
export const MISSED = '00000000-0000-0000-0000-00000000b1a1';

/** One key of each kind: drifted, in sync, unmanaged, drifted in another account and Region, not checked. */
export function sampleReport(): AuditReport {
  const elsewhere = finding(ELSEWHERE, {
    keyArn: keyArn(ELSEWHERE, OTHER_ACCOUNT, OTHER_REGION),
    account: OTHER_ACCOUNT,
    region: OTHER_REGION,
    keyName: 'analytics',
    aliases: ['alias/analytics'],
    severity: 'high',
  });
  return auditReport(
    [
      {
        keyArn: keyArn(DRIFTED),
        keyId: DRIFTED,
        aliases: ['alias/payments'],
        name: 'payments',
        mode: 'alert',
        result: 'drift',
        finding: finding(DRIFTED),
      },
      {
        keyArn: keyArn(ELSEWHERE, OTHER_ACCOUNT, OTHER_REGION),
        keyId: ELSEWHERE,
        aliases: ['alias/analytics'],
        name: 'analytics',
        mode: 'remediate',
        result: 'drift',
        finding: elsewhere,
      },
      {
        keyArn: keyArn(IN_SYNC),
        keyId: IN_SYNC,
        aliases: [],
        name: 'logs',
        mode: 'alert',
        result: 'in-sync',
      },
      {
        keyArn: keyArn(UNMANAGED),
        keyId: UNMANAGED,
        aliases: ['alias/scratch'],
        result: 'unmanaged',
        finding: finding(UNMANAGED, {
          kind: 'unmanaged-key',
          severity: 'low',
          title: '[LOW] Unmanaged key',
          diff: undefined,
          desiredPolicy: undefined,
        }),
      },
    ],
    [
      {
        keyRef: keyArn(MISSED),
        keyId: MISSED,
        name: 'backups',
        reason: 'ThrottlingException: Rate exceeded',
      },
    ],
  );
}

const TAG =
  /<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z][a-zA-Z0-9-]*(?:="[^"<>]*")?)*)\s*>|<!DOCTYPE html>/y;
const ENTITY = /&(?:amp|lt|gt|quot|#39|#\d+|#x[0-9a-fA-F]+);/y;

function checkEntities(text: string, offset: number): void {
  for (let at = text.indexOf('&'); at !== -1; at = text.indexOf('&', at + 1)) {
    ENTITY.lastIndex = at;
    if (!ENTITY.test(text)) {
      throw new Error(
        `an "&" that starts no entity at ${offset + at}: ${JSON.stringify(text.slice(at, at + 40))}`,
      );
    }
  }
}

/**
 * The tags of `html` in order (`td`, `/td`, …), skipping the raw text of <script> and <style>. Throws
 * on a `<` that does not start a well-formed tag with double-quoted attributes, and on a bare `&`.
 */
export function tagSequence(html: string): string[] {
  const tags: string[] = [];
  let at = 0;
  while (at < html.length) {
    const open = html.indexOf('<', at);
    const textEnd = open === -1 ? html.length : open;
    checkEntities(html.slice(at, textEnd), at);
    if (open === -1) break;
    TAG.lastIndex = open;
    const match = TAG.exec(html);
    if (!match) {
      throw new Error(`a "<" that starts no tag at ${open}: ${JSON.stringify(html.slice(open, open + 40))}`);
    }
    const [whole, slash = '', name = '!doctype', attributes = ''] = match;
    checkEntities(attributes, open);
    const tag = `${slash}${name.toLowerCase()}`;
    tags.push(tag);
    at = open + whole.length;
    if (tag === 'script' || tag === 'style') {
      const close = html.indexOf(`</${tag}>`, at);
      if (close === -1) throw new Error(`<${tag}> is never closed`);
      at = close;
    }
  }
  return tags;
}

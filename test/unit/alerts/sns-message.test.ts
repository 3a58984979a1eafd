/** Findings as SNS messages: subject rules, JSON structure, readable email text, the 256 KiB limit. */
import fc from 'fast-check';
import { buildSnsPublishInput, SNS_MESSAGE_MAX_BYTES, snsSubject } from '../../../src/alerts/sns-message';
import type { Finding } from '../../../src/core/finding';
import { comparePolicies } from '../../../src/policy/compare';
import { desiredPolicyText, driftedPolicyText, KEY_ARN, KEY_ID, TOPIC_ARN } from '../guard/harness';

function remediatedFinding(overrides: Partial<Finding> = {}): Finding {
  const desired = desiredPolicyText();
  const live = driftedPolicyText();
  const comparison = comparePolicies(desired, live);
  return {
    id: `c217db1f-903f-4a2f-8f88-9580182d6313:${KEY_ID}:remediated`,
    kind: 'remediated',
    severity: comparison.diff.severity,
    title: '[HIGH] Key policy restored: payments-data by user/Alice',
    keyArn: KEY_ARN,
    keyId: KEY_ID,
    aliases: ['alias/payments-data'],
    keyName: 'payments-data',
    policyFile: 'policies/payments-data.json',
    region: 'us-west-2',
    account: '111122223333',
    mode: 'remediate',
    action: 'remediated',
    trigger: 'event',
    actor: {
      arn: 'arn:aws:iam::111122223333:user/Alice',
      type: 'IAMUser',
      sourceIPAddress: '192.0.2.0',
      userAgent: 'aws-cli/2.15.0 Python/3.11.6',
      eventTime: '2022-09-01T20:06:16Z',
      eventID: 'c217db1f-903f-4a2f-8f88-9580182d6313',
      eventName: 'PutKeyPolicy',
      isGuard: false,
    },
    diff: comparison.diff,
    cosmetic: comparison.cosmetic,
    validation: { desired: [], live: [] },
    livePolicy: live,
    desiredPolicy: desired,
    details: ['The guard restored the desired policy from policies/payments-data.json.'],
    time: '2026-03-02T10:00:00.000Z',
    ...overrides,
  };
}

function parts(input: { Message?: string }): { json: Record<string, unknown>; email: string } {
  const structure = JSON.parse(input.Message ?? '{}') as { default: string; email: string };
  return { json: JSON.parse(structure.default) as Record<string, unknown>, email: structure.email };
}

describe('snsSubject', () => {
  it.each([
    ['a short title', '[HIGH] Key policy drift: payments-data', '[HIGH] Key policy drift: payments-data'],
    ['line breaks and tabs', '[HIGH] drift\non\tkey\r\nx', '[HIGH] drift on key x'],
    ['non-ASCII', '[LOW] Schlüssel — drift', '[LOW] Schl?ssel ? drift'],
    ['only control characters', '\n\t\u0007', 'KMS key policy guard finding'],
  ])('keeps %s SNS-safe', (_situation, title, subject) => {
    expect(snsSubject(title)).toBe(subject);
  });

  it('cuts long titles below 100 characters with an ellipsis', () => {
    const subject = snsSubject(`[CRITICAL] Key policy drift: ${'very-long-key-name-'.repeat(10)}`);
    expect(subject).toHaveLength(99);
    expect(subject.endsWith('...')).toBe(true);
  });

  it('always yields 1–99 printable ASCII characters without a leading space, for any title', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 150 }), (title) => {
        const subject = snsSubject(title);
        expect(subject.length).toBeGreaterThan(0);
        expect(subject.length).toBeLessThan(100);
        expect(subject).toMatch(/^[\x21-\x7e][\x20-\x7e]*$/);
      }),
    );
  });
});

describe('buildSnsPublishInput', () => {
  it('sends the finding JSON by default and readable text by email, with filter attributes', () => {
    // Prepare
    const finding = remediatedFinding();

    // Act
    const { input, truncated } = buildSnsPublishInput(finding, TOPIC_ARN);

    // Assess
    expect(truncated).toEqual([]);
    expect(input).toMatchObject({
      TopicArn: TOPIC_ARN,
      MessageStructure: 'json',
      Subject: '[HIGH] Key policy restored: payments-data by user/Alice',
      MessageAttributes: {
        severity: { DataType: 'String', StringValue: finding.severity },
        keyId: { DataType: 'String', StringValue: KEY_ID },
        action: { DataType: 'String', StringValue: 'remediated' },
      },
    });
    expect(parts(input).json).toEqual(JSON.parse(JSON.stringify(finding)));
  });

  it('writes an email that says what changed, who, when, from where, what the guard did and how to restore', () => {
    // Act
    const { email } = parts(buildSnsPublishInput(remediatedFinding(), TOPIC_ARN).input);

    // Assess
    expect(email).toContain('Changed by: arn:aws:iam::111122223333:user/Alice (IAMUser)');
    expect(email).toContain('When:       2022-09-01T20:06:16Z');
    expect(email).toContain('From:       192.0.2.0');
    expect(email).toContain('User agent: aws-cli/2.15.0 Python/3.11.6');
    expect(email).toMatch(/WHAT CHANGED\n-+\nPolicy drift, severity/);
    expect(email).toContain('Who gained or lost access:');
    expect(email).toContain('999988887777');
    expect(email).toContain('Guard did:  restored the desired key policy and confirmed it');
    expect(email).toContain(
      `aws kms put-key-policy --key-id ${KEY_ARN} --policy-name default \\\n      --policy file://desired-policy.json --region us-west-2`,
    );
    expect(email).toContain(
      "-e 's/{{AccountId}}/111122223333/g' policies/payments-data.json > desired-policy.json",
    );
    expect(email).toContain('THE OVERWRITTEN LIVE POLICY');
    const indented = driftedPolicyText()
      .split('\n')
      .map((line) => `    ${line}`)
      .join('\n');
    expect(email).toContain(`the JSON message.]\n${indented}\n[End of document]\n`);
  });

  it('stays under 256 KiB for the largest documents KMS allows, keeping the overwritten document verbatim', () => {
    // Prepare: two 32 KiB documents and a diff of hundreds of statements
    const bigStatements = Array.from({ length: 260 }, (_, index) => ({
      Sid: `Statement${index}`,
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::999988887777:role/team-${index}` },
      Action: ['kms:Decrypt', 'kms:Encrypt'],
      Resource: '*',
    }));
    const live = JSON.stringify({ Version: '2012-10-17', Statement: bigStatements }, null, 1).slice(
      0,
      32_768,
    );
    const livePolicy = JSON.stringify(
      { Version: '2012-10-17', Statement: bigStatements.slice(0, 200) },
      null,
      1,
    );
    const comparison = comparePolicies(desiredPolicyText(), livePolicy);
    const finding = remediatedFinding({
      livePolicy,
      desiredPolicy: live,
      diff: comparison.diff,
      details: Array.from({ length: 200 }, (_, index) => `detail line ${index}`),
    });

    // Act
    const message = buildSnsPublishInput(finding, TOPIC_ARN);

    // Assess
    expect(message.bytes).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
    expect(Buffer.byteLength(message.input.Message ?? '')).toBeLessThan(SNS_MESSAGE_MAX_BYTES);
    const { json, email } = parts(message.input);
    expect(json.livePolicy).toBe(livePolicy);
    expect(message.truncated.length).toBeGreaterThan(0);
    expect(json.truncated).toEqual(message.truncated);
    expect(email).toContain('[This message was shortened to fit SNS');
  });

  it('says where the overwritten document is kept when even it cannot fit', () => {
    // Prepare: a document far beyond anything KMS returns, to force the last step
    const finding = remediatedFinding({ livePolicy: 'x'.repeat(300_000) });

    // Act
    const message = buildSnsPublishInput(finding, TOPIC_ARN);

    // Assess
    expect(message.bytes).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
    const { json } = parts(message.input);
    expect(json.livePolicy).toBeUndefined();
    expect(json.livePolicyOmitted).toMatch(/remediation ledger .* finding_truncated/);
  });

  it('fits any finding under the limit', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40_000 }),
        fc.array(fc.string({ maxLength: 2_000 }), { maxLength: 200 }),
        fc.string({ maxLength: 300 }),
        (livePolicy, details, title) => {
          const message = buildSnsPublishInput(remediatedFinding({ livePolicy, details, title }), TOPIC_ARN);
          expect(message.bytes).toBeLessThanOrEqual(SNS_MESSAGE_MAX_BYTES);
          expect(parts(message.input).json.livePolicy).toBe(livePolicy);
        },
      ),
      { numRuns: 30 },
    );
  });
});

import type { SlackBlock, SlackMessage } from '../../../src/alerts/slack';
import type { Finding } from '../../../src/core/finding';

/** A realistic drift finding: anyone gained kms:Decrypt through an added statement, a cross-account grant. */
export function driftFinding(overrides: Partial<Finding> = {}): Finding {
  return {
    id: 'e1b2c3d4-1111-2222-3333-444455556666:1234abcd-12ab-34cd-56ef-1234567890ab:drift',
    kind: 'drift',
    severity: 'critical',
    title: 'Key policy drift on alias/payments: anyone can now decrypt',
    keyArn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    keyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    aliases: ['alias/payments'],
    keyName: 'payments-data',
    policyFile: 'policies/payments-data.json',
    region: 'eu-west-1',
    account: '111122223333',
    mode: 'alert',
    action: 'alerted',
    trigger: 'event',
    actor: {
      arn: 'arn:aws:sts::111122223333:assumed-role/Developer/mallory',
      type: 'AssumedRole',
      sourceIPAddress: '203.0.113.7',
      userAgent: 'aws-cli/2.17.0 md/awscrt#0.20.11',
      eventTime: '2026-05-04T10:11:12Z',
      eventID: 'e1b2c3d4-1111-2222-3333-444455556666',
      eventName: 'PutKeyPolicy',
    },
    diff: {
      severity: 'critical',
      orphanedPrincipals: [],
      access: [
        {
          principal: 'AWS:arn:aws:iam::444455556666:root',
          gained: ['kms:Encrypt'],
          lost: [],
          conditions: ['StringEquals kms:viaservice=[s3.eu-west-1.amazonaws.com]'],
          anyone: false,
          crossAccount: true,
          severity: 'high',
        },
        {
          principal: '*',
          gained: ['kms:Decrypt', 'kms:DescribeKey'],
          lost: [],
          conditions: [],
          anyone: true,
          crossAccount: false,
          severity: 'critical',
        },
        {
          principal: 'AWS:arn:aws:iam::111122223333:role/Auditor',
          gained: [],
          lost: ['kms:GetKeyPolicy'],
          conditions: [],
          anyone: false,
          crossAccount: false,
          severity: 'medium',
        },
      ],
      statements: [
        {
          kind: 'added',
          severity: 'critical',
          liveIndex: 2,
          sid: 'TemporaryDebug',
          effect: 'Allow',
          summary: 'Allow statement adds principal * for kms:Decrypt, kms:DescribeKey',
          principals: { added: ['*'], removed: [] },
          actions: { added: ['kms:decrypt', 'kms:describekey'], removed: [] },
          notes: [],
        },
        {
          kind: 'changed',
          severity: 'high',
          liveIndex: 1,
          desiredIndex: 1,
          sid: 'AllowS3',
          effect: 'Allow',
          summary: 'Allow statement removes a condition',
          conditions: {
            added: [],
            removed: [{ operator: 'StringEquals', key: 'aws:sourceaccount', values: ['111122223333'] }],
          },
          notes: ['same effective actions as of 2026-09-26'],
        },
      ],
    },
    details: ['Mode is alert: nothing was changed.', 'To restore: kms-guard apply --key payments-data'],
    time: '2026-05-04T10:11:14Z',
    ...overrides,
  };
}

/** Every text a Slack client parses as mrkdwn: the fallback `text` and every mrkdwn text object. */
export function mrkdwnTexts(message: SlackMessage): string[] {
  const texts = [message.text];
  for (const block of message.blocks) {
    if (block.type === 'section') {
      if (block.text) texts.push(block.text.text);
      for (const field of block.fields ?? []) texts.push(field.text);
    }
    if (block.type === 'context') texts.push(...block.elements.map((element) => element.text));
  }
  return texts;
}

/** Every plain_text text (header, button labels). */
export function plainTexts(message: SlackMessage): string[] {
  const texts: string[] = [];
  for (const block of message.blocks) {
    if (block.type === 'header') texts.push(block.text.text);
    if (block.type === 'actions') texts.push(...block.elements.map((element) => element.text.text));
  }
  return texts;
}

export function sectionTexts(message: SlackMessage): string[] {
  return message.blocks.flatMap((block: SlackBlock) =>
    block.type === 'section' && block.text ? [block.text.text] : [],
  );
}

/** Every Slack limit we promise to stay within; returns the violations (empty when the message is valid). */
export function limitViolations(message: SlackMessage): string[] {
  const violations: string[] = [];
  if (message.blocks.length > 50) violations.push(`${message.blocks.length} blocks`);
  if (message.text.length > 3000) violations.push(`fallback text ${message.text.length}`);
  for (const block of message.blocks) {
    if (block.type === 'header' && block.text.text.length > 150) violations.push('header text');
    if (block.type === 'section') {
      if (block.text && (block.text.text.length > 3000 || block.text.text.length < 1))
        violations.push('section');
      if ((block.fields?.length ?? 0) > 10) violations.push('field count');
      for (const field of block.fields ?? []) {
        if (field.text.length > 2000 || field.text.length < 1) violations.push('field');
      }
    }
    if (block.type === 'context') {
      if (block.elements.length > 10) violations.push('context elements');
      for (const element of block.elements) if (element.text.length > 3000) violations.push('context text');
    }
    if (block.type === 'actions') {
      for (const button of block.elements) {
        if (button.text.text.length > 75) violations.push('button text');
        if (button.url.length > 3000) violations.push('button url');
      }
    }
  }
  return violations;
}

/**
 * Who a finding's title and SNS subject name (issue 13): the principal by type and name, for an
 * assumed role `role/<RoleName> (session <name>)`, never the caller-chosen session name alone. Each row
 * is a CloudTrail `userIdentity` shape put into the real PutKeyPolicy event, classified as the drift
 * handler does, and checked by checkKey over mocked KMS and SNS.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GetKeyPolicyCommand } from '@aws-sdk/client-kms';
import { SNS_SUBJECT_MAX_CHARS } from '../../../src/alerts/sns-message';
import { checkKey } from '../../../src/guard/check-key';
import { classifyKmsEvent } from '../../../src/guard/event';
import {
  driftedPolicyText,
  EVENTS,
  fixtureManifest,
  GUARD_ROLE_ARN,
  KEY_ARN,
  kmsMock,
  makeHarness,
  onlyFinding,
  publishedInputs,
  resetMocks,
} from './harness';

const ACCOUNT = '111122223333';
const TRICKS = `alice) by role/SecurityAudit (session bob\n\u202e\u200b${'x'.repeat(100)}`;

const IDENTITIES: [string, Record<string, unknown>, string][] = [
  [
    'an IAM user (with a path)',
    {
      type: 'IAMUser',
      principalId: 'AIDAEXAMPLE',
      arn: `arn:aws:iam::${ACCOUNT}:user/ops/alice`,
      accountId: ACCOUNT,
      userName: 'alice',
    },
    'user/alice',
  ],
  [
    'an assumed role with its session issuer',
    {
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLE:alice',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/alice`,
      accountId: ACCOUNT,
      sessionContext: {
        sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/ops/Admin` },
      },
    },
    'role/Admin (session alice)',
  ],
  [
    'the account root',
    { type: 'Root', principalId: ACCOUNT, arn: `arn:aws:iam::${ACCOUNT}:root`, accountId: ACCOUNT },
    'root',
  ],
  [
    'a federated user',
    {
      type: 'FederatedUser',
      principalId: `${ACCOUNT}:bob`,
      arn: `arn:aws:sts::${ACCOUNT}:federated-user/bob`,
      accountId: ACCOUNT,
    },
    'federated-user/bob',
  ],
  ['an AWS service', { type: 'AWSService', invokedBy: 'kms.amazonaws.com' }, 'service kms.amazonaws.com'],
  [
    'a session name posing as another role',
    {
      type: 'AssumedRole',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Developer/SecurityAdmin`,
      sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/Developer` } },
    },
    'role/Developer (session SecurityAdmin)',
  ],
  [
    'a session name full of tricks (a forged event)',
    { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/${TRICKS}` },
    'role/Admin (session alice\\u0029\\u0020by\\u0020role\\u002FSecurityAudit\\u0020\\u0028s...)',
  ],
  ['an ARN that is no ARN (a forged event)', { type: 'IAMUser', arn: 'alice' }, 'invalid-arn/alice'],
];

function eventWith(userIdentity: Record<string, unknown>): unknown {
  const event = JSON.parse(readFileSync(path.join(EVENTS, 'put-key-policy.json'), 'utf8')) as {
    detail: Record<string, unknown>;
  };
  event.detail.userIdentity = userIdentity;
  return event;
}

beforeEach(() => {
  resetMocks();
});

describe('the actor a finding names', () => {
  it.each(IDENTITIES)('names %s by type and name', async (_case, userIdentity, name) => {
    // Prepare
    const classified = classifyKmsEvent(eventWith(userIdentity), {
      region: 'us-west-2',
      guardRoleArn: GUARD_ROLE_ARN,
    });
    if (classified.outcome !== 'check') throw new Error(`event not checked: ${classified.outcome}`);
    const { deps } = makeHarness(fixtureManifest('alert'));
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

    // Act
    await checkKey(deps, {
      keyRef: KEY_ARN,
      trigger: 'event',
      actor: classified.actor,
      eventId: classified.eventId,
    });

    // Assess
    const title = `[CRITICAL] Key policy drift: payments-data by ${name}`;
    expect(onlyFinding().title).toBe(title);
    const subject = publishedInputs()[0]?.Subject ?? '';
    expect(subject).toBe(title.length <= SNS_SUBJECT_MAX_CHARS ? title : `${title.slice(0, 96)}...`);
    expect(subject).toMatch(/^[\x20-\x7e]{1,99}$/);
  });
});

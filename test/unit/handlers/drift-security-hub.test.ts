/**
 * The drift handler with Security Hub (docs/architecture.md#security-hub): findings reach Security Hub in
 * the invocation that made them, a Security Hub that is off costs nothing, one that is not enabled is
 * reported once and never fails an event, and a transient failure fails it (Lambda retries).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import {
  BatchImportFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import type { Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { GuardWiring } from '../../../src/app/guard-deps';
import type { Finding } from '../../../src/core/finding';
import type { GuardMode } from '../../../src/core/key';
import { RetryableAwsError } from '../../../src/guard/errors';
import {
  awsError,
  driftedPolicyText,
  EVENTS,
  GetKeyPolicyCommand,
  KEY_ARN,
  kmsMock,
  publishedFindings,
  resetMocks,
} from '../guard/harness';
import { driftHandlerOverMocks } from './drift-harness';

const securityHub = mockClient(SecurityHubClient);

const CONTEXT = {
  functionName: 'kms-policy-guard-dev-drift',
  invokedFunctionArn: 'arn:aws:lambda:us-west-2:111122223333:function:kms-policy-guard-dev-drift',
  awsRequestId: 'request-1',
  getRemainingTimeInMillis: () => 30_000,
} as Context;

const PUT_KEY_POLICY = JSON.parse(readFileSync(path.join(EVENTS, 'put-key-policy.json'), 'utf8')) as {
  detail: { eventTime: string; eventID: string };
};

/** The same CloudTrail record with another event ID (a second change). */
function anotherEvent(eventID: string): unknown {
  return { ...PUT_KEY_POLICY, detail: { ...PUT_KEY_POLICY.detail, eventID } };
}

function setup(mode: GuardMode, options: { securityHub?: GuardWiring['securityHub'] } = {}) {
  const logger = new Logger({ serviceName: 'kms-policy-guard' });
  const logs: string[] = [];
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    jest.spyOn(logger, level).mockImplementation((message, ..._extra) => {
      logs.push(typeof message === 'string' ? message : message.message);
    });
  }
  const { handler, guard } = driftHandlerOverMocks(mode, logger, options);
  return { handler, logs, destroy: () => guard.destroy() };
}

beforeEach(() => {
  resetMocks();
  securityHub.reset();
  securityHub
    .on(BatchImportFindingsCommand)
    .resolves({ SuccessCount: 1, FailedCount: 0, FailedFindings: [] });
  securityHub.on(GetFindingsCommand).resolves({ Findings: [] });
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('drift handler and Security Hub', () => {
  it('makes no Security Hub call when the switch is off (the default)', async () => {
    // Prepare
    const { handler, destroy } = setup('alert');
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

    // Act
    const summary = await handler(PUT_KEY_POLICY, CONTEXT);

    // Assess
    expect(summary.status).toBe('published');
    expect(securityHub.calls()).toHaveLength(0);
    destroy();
  });

  it('imports the drift finding into Security Hub in the invocation that published it', async () => {
    // Prepare
    const { handler, destroy } = setup('alert', { securityHub: {} });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });

    // Act
    await handler(PUT_KEY_POLICY, CONTEXT);

    // Assess
    const calls = securityHub.commandCalls(BatchImportFindingsCommand);
    expect(calls).toHaveLength(1);
    expect(
      calls[0]?.args[0].input.Findings?.map((finding) => [finding.Id, finding.Compliance?.Status]),
    ).toEqual([[`kms-policy-guard/${KEY_ARN}/key-policy`, 'FAILED']]);
    // The other subjects the check found fine: one read of what is open, nothing open to close.
    expect(securityHub.commandCalls(GetFindingsCommand)).toHaveLength(1);
    destroy();
  });

  it('reports a Security Hub that is not enabled with one guard-degraded finding over two events, and returns normally', async () => {
    // Prepare
    const { handler, destroy } = setup('alert', { securityHub: {} });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });
    securityHub
      .on(BatchImportFindingsCommand)
      .rejects(
        awsError(
          'InvalidAccessException',
          'Account 111122223333 is not subscribed to AWS Security Hub',
          'client',
          401,
        ),
      );
    securityHub
      .on(GetFindingsCommand)
      .rejects(
        awsError(
          'InvalidAccessException',
          'Account 111122223333 is not subscribed to AWS Security Hub',
          'client',
          401,
        ),
      );

    // Act
    const first = await handler(PUT_KEY_POLICY, CONTEXT);
    const second = await handler(anotherEvent('second-event'), CONTEXT);

    // Assess
    expect([first.status, second.status]).toEqual(['published', 'published']);
    const degraded = publishedFindings().filter((finding: Finding) => finding.kind === 'guard-degraded');
    expect(degraded).toHaveLength(1);
    expect(degraded[0]).toMatchObject({
      severity: 'high',
      keyId: '*',
      account: '111122223333',
      region: 'us-west-2',
      title: '[HIGH] Guard degraded: AWS Security Hub does not accept findings in 111122223333 us-west-2',
    });
    expect(degraded[0]?.details.join('\n')).toContain(
      'aws securityhub enable-security-hub --region us-west-2',
    );
    destroy();
  });

  it('fails the invocation when Security Hub is still throttling after the SDK retried (Lambda retries the event)', async () => {
    // Prepare
    const { handler, destroy } = setup('alert', { securityHub: {} });
    kmsMock.on(GetKeyPolicyCommand).resolves({ Policy: driftedPolicyText() });
    securityHub
      .on(BatchImportFindingsCommand)
      .rejects(awsError('ThrottlingException', 'Rate exceeded', 'client', 400));

    // Act
    const invocation = handler(PUT_KEY_POLICY, CONTEXT);

    // Assess
    await expect(invocation).rejects.toBeInstanceOf(RetryableAwsError);
    expect(publishedFindings().map((finding) => finding.kind)).toEqual(['drift']);
    destroy();
  });
});

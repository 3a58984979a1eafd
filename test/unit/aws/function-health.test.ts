import { GetFunctionConcurrencyCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { LambdaConcurrencyHealth } from '../../../src/aws/function-health';

const lambda = mockClient(LambdaClient);
const FUNCTIONS = [
  'kms-policy-guard-dev-drift',
  'kms-policy-guard-dev-audit',
  'kms-policy-guard-dev-notify-slack',
];

function awsError(name: string, message: string, status: number): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  });
}

function source(): LambdaConcurrencyHealth {
  return new LambdaConcurrencyHealth(new LambdaClient({ maxAttempts: 1 }), FUNCTIONS);
}

describe('LambdaConcurrencyHealth', () => {
  beforeEach(() => {
    lambda.reset();
    lambda.on(GetFunctionConcurrencyCommand).resolves({ ReservedConcurrentExecutions: 5 });
  });

  it('passes functions with a reserved concurrency above 0 or none, one GetFunctionConcurrency each', async () => {
    // Prepare
    lambda.on(GetFunctionConcurrencyCommand, { FunctionName: FUNCTIONS[2] }).resolves({});

    // Act
    const checks = await source().checks();

    // Assess
    expect(checks).toEqual(FUNCTIONS.map((name) => ({ check: `reserved concurrency of ${name}`, ok: true })));
    expect(lambda.commandCalls(GetFunctionConcurrencyCommand).map((call) => call.args[0].input)).toEqual(
      FUNCTIONS.map((FunctionName) => ({ FunctionName })),
    );
  });

  it('names a function throttled to death (reserved concurrency 0) and how to undo it', async () => {
    // Prepare
    lambda
      .on(GetFunctionConcurrencyCommand, { FunctionName: 'kms-policy-guard-dev-drift' })
      .resolves({ ReservedConcurrentExecutions: 0 });

    // Act
    const checks = await source().checks();

    // Assess
    expect(checks.filter((check) => !check.ok)).toEqual([
      {
        check: 'reserved concurrency of kms-policy-guard-dev-drift',
        ok: false,
        problem:
          'the function kms-policy-guard-dev-drift has a reserved concurrency of 0: every invocation is throttled, it never runs',
        fix: 'Redeploy the stack (serverless deploy), which restores its reserved concurrency, or: aws lambda delete-function-concurrency --function-name kms-policy-guard-dev-drift',
      },
    ]);
    expect(lambda.commandCalls(GetFunctionConcurrencyCommand)).toHaveLength(3);
  });

  it('names a deleted function', async () => {
    // Prepare
    lambda
      .on(GetFunctionConcurrencyCommand, { FunctionName: 'kms-policy-guard-dev-notify-slack' })
      .rejects(awsError('ResourceNotFoundException', 'Function not found', 404));

    // Act
    const checks = await source().checks();

    // Assess
    expect(checks.filter((check) => !check.ok)).toEqual([
      {
        check: 'reserved concurrency of kms-policy-guard-dev-notify-slack',
        ok: false,
        problem: 'the function kms-policy-guard-dev-notify-slack does not exist',
        fix: 'Redeploy the stack (serverless deploy), which recreates it.',
      },
    ]);
  });

  it.each([
    [
      'throttled',
      awsError('TooManyRequestsException', 'Rate exceeded', 429),
      'failed after retries: Rate exceeded (TooManyRequestsException)',
    ],
    [
      'denied',
      awsError('AccessDeniedException', 'not authorized to perform: lambda:GetFunctionConcurrency', 403),
      'failed: not authorized to perform: lambda:GetFunctionConcurrency (AccessDeniedException)',
    ],
  ])(
    'reports a function whose concurrency could not be read (%s) as a failed check, never as passed',
    async (_what, error, said) => {
      // Prepare
      lambda.on(GetFunctionConcurrencyCommand, { FunctionName: 'kms-policy-guard-dev-audit' }).rejects(error);

      // Act
      const checks = await source().checks();

      // Assess
      const failed = checks.filter((check) => !check.ok);
      expect(failed).toHaveLength(1);
      expect(failed[0]?.check).toBe('reserved concurrency of kms-policy-guard-dev-audit');
      expect(failed[0]?.problem).toBe(`could not be checked: GetFunctionConcurrency ${said}`);
      expect(failed[0]?.fix).toContain('read-only permission');
    },
  );
});

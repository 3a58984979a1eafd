/**
 * The Lambda share of the guard's health (docs/architecture.md#guard-health): a function whose reserved
 * concurrency is 0 is throttled on every invocation (it never runs), and a deleted function runs nothing.
 * One GetFunctionConcurrency per function (drift, audit, notify-slack) per audit; no reservation at all
 * is healthy (the function shares the account's pool).
 */
import { GetFunctionConcurrencyCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { type HealthCheck, type HealthCheckSource, uncheckable } from '../guard/health';
import { AWS_RETRY_CONFIG, type AwsClientSettings } from './client-settings';
import { sdkErrorShape, toAwsError } from './errors';

export class LambdaConcurrencyHealth implements HealthCheckSource {
  readonly name = 'reserved concurrency';

  constructor(
    private readonly client: LambdaClient,
    private readonly functionNames: readonly string[],
  ) {}

  /** A source with its own Lambda client (one per container). */
  static create(settings: AwsClientSettings, functionNames: readonly string[]): LambdaConcurrencyHealth {
    return new LambdaConcurrencyHealth(new LambdaClient({ ...AWS_RETRY_CONFIG, ...settings }), functionNames);
  }

  destroy(): void {
    this.client.destroy();
  }

  async checks(): Promise<HealthCheck[]> {
    return Promise.all(this.functionNames.map((name) => this.checkFunction(name)));
  }

  private async checkFunction(functionName: string): Promise<HealthCheck> {
    const check = `reserved concurrency of ${functionName}`;
    let reserved: number | undefined;
    try {
      const answer = await this.client.send(
        new GetFunctionConcurrencyCommand({ FunctionName: functionName }),
      );
      reserved = answer.ReservedConcurrentExecutions;
    } catch (error) {
      if (sdkErrorShape(error).name === 'ResourceNotFoundException') {
        return {
          check,
          ok: false,
          problem: `the function ${functionName} does not exist`,
          fix: 'Redeploy the stack (serverless deploy), which recreates it.',
        };
      }
      return uncheckable(check, toAwsError(error, 'GetFunctionConcurrency'));
    }
    if (reserved !== 0) return { check, ok: true };
    return {
      check,
      ok: false,
      problem: `the function ${functionName} has a reserved concurrency of 0: every invocation is throttled, it never runs`,
      fix: `Redeploy the stack (serverless deploy), which restores its reserved concurrency, or: aws lambda delete-function-concurrency --function-name ${functionName}`,
    };
  }
}

/** Where a Lambda function runs, read from its own ARN (the invocation context): never from an event. */
import type { Context } from 'aws-lambda';
import type { KeyLocation } from '../core/key-arn';

const LAMBDA_ARN = /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:/;

/** The partition, Region and account of the invoked function; undefined without a function ARN (tests, tools). */
export function functionLocation(
  context: Pick<Context, 'invokedFunctionArn'> | undefined,
): KeyLocation | undefined {
  const [, partition, region, accountId] = LAMBDA_ARN.exec(context?.invokedFunctionArn ?? '') ?? [];
  return partition && region && accountId ? { partition, region, accountId } : undefined;
}

/**
 * The fault matrix's wire: scripted HTTP answers under the REAL SDK clients, so the SDK's own retry middleware
 * (src/aws/clients.ts AWS_RETRY_CONFIG: adaptive, 5 attempts) runs and every attempt is counted. The tests that
 * use it run on Jest's fake timers; `settle` advances them through the SDK's backoff sleeps.
 */
import { Readable } from 'node:stream';

export interface HttpAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** A scripted answer, or a network failure (`ECONNRESET`) the request handler throws. */
export type WireAnswer = HttpAnswer | { network: string };

export const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };

interface WireRequest {
  headers: Record<string, string>;
  body?: unknown;
}

function respond(answer: HttpAnswer, contentType: string) {
  const errorType = typeof answer.body.__type === 'string' ? { 'x-amzn-errortype': answer.body.__type } : {};
  return {
    response: {
      statusCode: answer.status,
      reason: '',
      headers: { 'content-type': contentType, ...errorType },
      body: Readable.from([Buffer.from(JSON.stringify(answer.body))]),
    },
  };
}

/** Answers the n-th request with answers[n] (the last one repeated); records each request's target. */
export function scriptedHandler(answers: HttpAnswer[], contentType: string) {
  const requests: string[] = [];
  return {
    requests,
    handle: async (request: WireRequest) => {
      requests.push(request.headers['x-amz-target'] ?? String(request.body ?? ''));
      const answer = answers[Math.min(requests.length - 1, answers.length - 1)] ?? { status: 500, body: {} };
      return respond(answer, contentType);
    },
  };
}

/**
 * Answers each request by its operation (the `x-amz-target` after the dot: `GetKeyPolicy`, `GetItem`) and
 * counts the attempts of every operation.
 */
export function routedHandler(contentType: string, answer: (operation: string) => WireAnswer) {
  const requests: string[] = [];
  return {
    requests,
    attempts: (operation: string): number => requests.filter((name) => name === operation).length,
    handle: async (request: WireRequest) => {
      const target = request.headers['x-amz-target'] ?? '';
      const operation = target.slice(target.lastIndexOf('.') + 1);
      requests.push(operation);
      const scripted = answer(operation);
      if ('network' in scripted) {
        throw Object.assign(new Error(`socket hang up (${scripted.network})`), { code: scripted.network });
      }
      return respond(scripted, contentType);
    },
  };
}

/** Settles a promise while advancing the fake clock through the SDK's backoff sleeps. */
export async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown; slept: number }> {
  let done = false;
  let slept = 0;
  const settled = promise.then(
    (value) => ({ value }),
    (error: unknown) => ({ error }),
  );
  void settled.then(() => {
    done = true;
  });
  for (let step = 0; step < 2_000 && !done; step += 1) {
    await jest.advanceTimersByTimeAsync(50);
    slept += 50;
  }
  return { ...(await settled), slept };
}

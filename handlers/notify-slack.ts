/**
 * The Slack notifier Lambda's entry file: the handler is built once per container from the environment.
 * Everything else lives in src/app/slack-handler.ts.
 */
import '../src/app/zod-jitless';
import { initSlackHandler } from '../src/app/slack-handler';

export const handler = initSlackHandler(process.env);

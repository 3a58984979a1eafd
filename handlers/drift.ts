/**
 * The drift Lambda's entry file: the handler is built once per container from the environment (awaited: the
 * bundle is an ES module, and Lambda waits for its top-level await before the first event).
 * Everything else lives in src/app/drift-handler.ts.
 */
import '../src/app/zod-jitless';
import { initDriftHandler } from '../src/app/drift-handler';

export const handler = await initDriftHandler(process.env);

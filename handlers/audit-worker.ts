/**
 * The audit worker Lambda's entry file: the handler is built once per container from the environment (awaited:
 * the bundle is an ES module, and Lambda waits for its top-level await before the first event).
 * Everything else lives in src/app/audit-worker-handler.ts.
 */
import '../src/app/zod-jitless';
import { initAuditWorkerHandler } from '../src/app/audit-worker-handler';

export const handler = await initAuditWorkerHandler(process.env);

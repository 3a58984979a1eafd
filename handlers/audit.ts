/**
 * The audit Lambda's entry file: the handler is built once per container from the environment (awaited: the
 * bundle is an ES module, and Lambda waits for its top-level await before the first event).
 * Everything else lives in src/app/audit-handler.ts.
 */
import '../src/app/zod-jitless';
import { initAuditHandler } from '../src/app/audit-handler';

export const handler = await initAuditHandler(process.env);

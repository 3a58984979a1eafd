/**
 * The audit worker Lambda's entry file: the handler is built once per container from the environment.
 * Everything else lives in src/app/audit-worker-handler.ts.
 */
import { initAuditWorkerHandler } from '../src/app/audit-worker-handler';

export const handler = initAuditWorkerHandler(process.env);

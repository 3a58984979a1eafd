/**
 * The audit Lambda's entry file: the handler is built once per container from the environment.
 * Everything else lives in src/app/audit-handler.ts.
 */
import { initAuditHandler } from '../src/app/audit-handler';

export const handler = initAuditHandler(process.env);

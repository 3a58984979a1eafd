/**
 * The drift Lambda's entry file: the handler is built once per container from the environment.
 * Everything else lives in src/app/drift-handler.ts.
 */
import { initDriftHandler } from '../src/app/drift-handler';

export const handler = initDriftHandler(process.env);

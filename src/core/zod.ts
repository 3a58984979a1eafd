/**
 * zod for the whole of src/: its tree-shakable API (`zod/mini`), with English messages. Every module that
 * declares a schema imports zod from here, never `zod` itself: the classic API builds each schema with some
 * forty methods of its own and cannot be tree-shaken, ~98 KB in every Lambda bundle's cold start against 27-34 KB
 * for what src/ uses of this one (docs/architecture.md#what-loads-when; npm run bench -- lambda). The messages are
 * the classic API's (the same checks, the same English locale), which `zod/mini` does not set by itself.
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';

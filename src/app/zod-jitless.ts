/**
 * The Lambda functions' zod setting (handlers/*.ts import this module): no JIT. zod 4 compiles, on each object
 * schema's first parse, a parser of its own with `new Function`; a function parses its environment and a few
 * events per container, so that compilation costs more at init and on the first event than it ever saves
 * (docs/architecture.md#what-loads-when). The tests, the CLI and the demo keep zod's default.
 */
import * as z from '../core/zod';

z.config({ jitless: true });

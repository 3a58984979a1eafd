import fc from 'fast-check';

// The SDK warns once per process that releases from 2027 need Node 22. Lambda runs nodejs22.x; the
// warning concerns only the local Node 20 test runtime, and repeated in every worker it buries the
// test output, so the tests turn it off (the README states the Node versions).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// Property and fuzz tests draw new cases on every local run (that is how they find bugs), but CI
// replays one fixed seed so a landing never depends on luck. FUZZ_SEED=<n> replays any seed a
// failure printed.
const seed = process.env.FUZZ_SEED ?? (process.env.CI ? '20261126' : undefined);
if (seed !== undefined) fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: Number(seed) });

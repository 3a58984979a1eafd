// The SDK warns once per process that releases from 2027 need Node 22. Lambda runs nodejs22.x; the
// warning concerns only the local Node 20 test runtime, and repeated in every worker it buries the
// test output, so the tests turn it off (the README states the Node versions).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

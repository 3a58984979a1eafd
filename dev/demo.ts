/**
 * `npm start`: the end-to-end demo on a local AWS (moto). See dev/demo/run.ts for the story.
 * Exit codes: 0 the demo ran and every step behaved as described; 1 a step failed or the story did not
 * hold; 130/143 interrupted (moto is stopped first in every case).
 */
import { processIo } from '../src/cli/output';
import { runDemo } from './demo/run';
import { MOTO_INSTALL_HINT, type MotoServer, MotoServerError } from './moto-server';

async function main(): Promise<number> {
  const io = processIo();
  // The SDK warns on Node 20 about a Node 22 requirement in 2027: not the demo's business on this engine range.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  let moto: MotoServer | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    io.stderr(`\n${signal}: stopping moto and exiting.\n`);
    const code = signal === 'SIGINT' ? 130 : 143;
    void (moto?.stop() ?? Promise.resolve()).finally(() => process.exit(code));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const report = await runDemo(io, {
      onMotoStarted: (server) => {
        moto = server;
      },
    });
    return report.ok ? 0 : 1;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr(`\ndemo failed: ${message}\n`);
    if (error instanceof MotoServerError && !message.includes(MOTO_INSTALL_HINT)) {
      io.stderr(`(moto is needed for the demo: ${MOTO_INSTALL_HINT})\n`);
    }
    if (error instanceof Error && error.cause instanceof Error && !message.includes(error.cause.message)) {
      io.stderr(`cause: ${error.cause.message}\n`);
    }
    return 1;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

void main().then((code) => {
  process.exitCode = code;
});

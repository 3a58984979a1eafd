/**
 * Starts and stops a local moto server (AWS emulation) on a free loopback port. Used by the Jest
 * integration setup, `npm start` and the benchmarks. Nothing here ever talks to a non-loopback address.
 *
 * No orphans: moto is launched through a tiny Python shim that asks Linux to SIGTERM it when this
 * process dies (PR_SET_PDEATHSIG survives exec), so even a crashed or SIGKILLed parent leaves nothing
 * behind; on a normal exit or SIGINT/SIGTERM we also kill it ourselves (also covers non-Linux systems).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';

export const MOTO_INSTALL_HINT = 'pip install "moto[server]"';
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_LINES = 20;

export class MotoServerError extends Error {
  override readonly name = 'MotoServerError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export interface MotoServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  /** SIGTERM, then SIGKILL after a grace period; resolves once the process has exited. */
  stop(): Promise<void>;
}

/** Sets PR_SET_PDEATHSIG (Linux: value 1) so the kernel SIGTERMs moto when our process dies, then execs moto. */
const LAUNCHER = `
import ctypes, os, signal, sys
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
except Exception:
    pass
if os.getppid() != int(sys.argv[1]):
    sys.exit(0)
try:
    os.execvp(sys.argv[2], sys.argv[2:])
except FileNotFoundError:
    sys.stderr.write("moto_server: command not found\\n")
    sys.exit(127)
`;

/** The first executable `name` on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** A port that was free a moment ago (listen on 127.0.0.1:0, read it, close). */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() =>
        port === undefined ? reject(new MotoServerError('could not determine a free port')) : resolve(port),
      );
    });
  });
}

async function answersHttp(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Kills the child when this process exits or is told to stop, so a test run never leaves moto behind. */
function killOnParentExit(child: ChildProcess): () => void {
  const killNow = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const onSignal = (signal: NodeJS.Signals) => {
    killNow();
    // Keep the default behaviour (terminate) unless someone else handles the signal.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  process.once('exit', killNow);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return () => {
    process.removeListener('exit', killNow);
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
}

export async function startMoto(options: { timeoutMs?: number } = {}): Promise<MotoServer> {
  const timeoutMs = options.timeoutMs ?? READY_TIMEOUT_MS;
  const motoBinary = findOnPath('moto_server');
  if (!motoBinary) {
    throw new MotoServerError(`moto_server not found on PATH; install it with: ${MOTO_INSTALL_HINT}`);
  }
  const python = findOnPath('python3') ?? findOnPath('python');
  const port = await findFreePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const motoArgs = [motoBinary, '-H', '127.0.0.1', '-p', String(port)];
  const child = python
    ? spawn(python, ['-c', LAUNCHER, String(process.pid), ...motoArgs], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(motoBinary, motoArgs.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });

  const output: string[] = [];
  const keepTail = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    output.splice(0, Math.max(0, output.length - STDERR_TAIL_LINES));
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  let spawnError: unknown;
  child.once('error', (error) => {
    spawnError = error;
  });
  const removeExitHooks = killOnParentExit(child);

  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await waitForExit(child);
      clearTimeout(timer);
    }
    removeExitHooks();
  };

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) break;
    if (await answersHttp(`${endpoint}/moto-api/`)) return { endpoint, port, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  await stop();
  const tail = output.length > 0 ? `\n${output.join('\n')}` : '';
  const errno = (spawnError as NodeJS.ErrnoException | undefined)?.code;
  if (errno === 'ENOENT' || child.exitCode === 127 || /command not found/.test(tail)) {
    throw new MotoServerError(
      `moto_server could not be started; install it with: ${MOTO_INSTALL_HINT}${tail}`,
      {
        cause: spawnError,
      },
    );
  }
  if (child.exitCode !== null || spawnError !== undefined) {
    throw new MotoServerError(
      `moto_server exited before answering on ${endpoint} (exit code ${child.exitCode})${tail}`,
      {
        cause: spawnError,
      },
    );
  }
  throw new MotoServerError(
    `moto_server did not answer on ${endpoint}/moto-api/ within ${timeoutMs} ms${tail}`,
  );
}

/** Forgets every resource in moto (POST /moto-api/reset): a clean account between tests or demo runs. */
export async function resetMoto(endpoint: string): Promise<void> {
  const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
  await response.arrayBuffer();
  if (!response.ok) throw new MotoServerError(`moto reset failed: HTTP ${response.status}`);
}

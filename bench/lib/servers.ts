import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = join(import.meta.dirname, '../..');
/** The project's pinned Node, which runs the `.ts` sources directly. */
export const NODE = join(ROOT, 'node_modules/.bin/node');

export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** SIGTERM, then SIGKILL after 10 s; resolves when the process has exited. */
  stop(): Promise<void>;
}

export interface ServerSpec {
  readonly name: string;
  /** Script relative to the project root, e.g. 'src/main.ts'. */
  readonly script: string;
  readonly args?: string[];
  /** Options of node itself, before the script (e.g. `--inspect=127.0.0.1:9229`). */
  readonly nodeArgs?: string[];
  readonly env: Record<string, string>;
  /** Path that answers 200 once the server takes traffic. */
  readonly readyPath: string;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Starts a server in its own process (as in production: the load generator must not share its event
 * loop) on a free port, and waits until `readyPath` answers 200.
 */
export async function startServer(spec: ServerSpec): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(NODE, [...(spec.nodeArgs ?? []), join(ROOT, spec.script), ...(spec.args ?? [])], {
    cwd: ROOT,
    // METRICS_PORT=0: several app servers run at once, and the internal listener's default is fixed.
    env: { ...process.env, METRICS_PORT: '0', ...spec.env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-8000);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  exited.then(() => running.delete(child));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    const code = await Promise.race([exited, sleep(100).then(() => undefined)]);
    if (code !== undefined)
      throw new Error(`${spec.name} server exited (${code}) before it was ready:\n${stderr}`);
    const ok = await fetch(url + spec.readyPath).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${spec.name} server not ready after 120 s:\n${stderr}`);
    }
  }
  return {
    name: spec.name,
    url,
    pid: child.pid ?? 0,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

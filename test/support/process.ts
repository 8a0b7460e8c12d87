import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export { isProcessRunning } from '../../src/platform/db/embedded.ts';

/** The project's pinned Node, which runs the `.ts` sources directly. */
export const NODE = join(import.meta.dirname, '../../node_modules/.bin/node');

/** The embedded server's postmaster pid, or 0 when it left no postmaster.pid (stopped cleanly). */
export async function postmasterPid(dataDir: string): Promise<number> {
  const text = await readFile(join(dataDir, 'pg', 'postmaster.pid'), 'utf8').catch(() => '');
  return Number(text.split('\n')[0]) || 0;
}

/** Spawns `command args` capturing its output; `exited` resolves with the exit code. */
export function spawnCapture(
  command: string,
  args: string[] = [],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; detached?: boolean } = {},
) {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, out: () => stdout, err: () => stderr };
}

/** Spawns `node file args` on the pinned Node, capturing its output. */
export function spawnNode(
  file: string,
  args: string[] = [],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
) {
  return spawnCapture(NODE, [file, ...args], options);
}

/**
 * The URL `innkeep start` prints once it is ready ("Innkeep is ready at …"), read from the output of
 * `proc`; rejects if it exits first.
 */
export function readyUrl(proc: ReturnType<typeof spawnCapture>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /Innkeep is ready at (http:\/\/\S+)/.exec(proc.out());
      if (match) {
        clearInterval(timer);
        resolve(match[1]!);
      }
    }, 50);
    void proc.exited.then((code) => {
      clearInterval(timer);
      reject(new Error(`innkeep start exited early with ${code}: ${proc.err()}`));
    });
  });
}

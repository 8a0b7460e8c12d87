import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Returns the secret stored under `name` in `<dir>/secrets.json` (mode 0600), generating and
 * persisting a random one on first use, so tokens survive restarts of a single-node install.
 * Several processes on different hosts must share an explicitly configured secret instead.
 *
 * @example
 * const secret = loadOrCreateSecret('./.innkeep', 'jwt'); // 64 random bytes, base64url
 */
export function loadOrCreateSecret(dir: string, name: string): string {
  const file = join(dir, 'secrets.json');
  const read = (): Record<string, string> => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new Error(`cannot read ${file}`, { cause: err });
    }
  };
  const secrets = read();
  const existing = secrets[name];
  if (typeof existing === 'string' && existing.length >= 32) return existing;
  mkdirSync(dir, { recursive: true });
  const fresh = { ...secrets, [name]: randomBytes(64).toString('base64url') };
  if (Object.keys(secrets).length === 0) {
    // First writer wins: two processes starting together on one data directory agree on one secret.
    try {
      writeFileSync(file, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const winner = read()[name];
      if (typeof winner === 'string' && winner.length >= 32) return winner;
    }
    return read()[name] ?? (fresh[name] as string);
  }
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return fresh[name] as string;
}

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
  const read = (): Record<string, string> | undefined => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`cannot read ${file}`, { cause: err });
    }
    // Never overwrite a file we do not understand: it may hold secrets someone still needs.
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new Error(`cannot read ${file}: expected a JSON object`);
    }
    return parsed as Record<string, string>;
  };
  const usable = (value: unknown): value is string => typeof value === 'string' && value.length >= 32;

  let secrets = read();
  if (usable(secrets?.[name])) return secrets[name];
  mkdirSync(dir, { recursive: true });
  if (secrets === undefined) {
    // First writer wins: two processes starting together on one data directory agree on one secret.
    const fresh = { [name]: randomBytes(64).toString('base64url') };
    try {
      writeFileSync(file, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      return fresh[name] as string;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    secrets = read() ?? {};
    if (usable(secrets[name])) return secrets[name];
  }
  // The file exists without this key (or with a weak one): add it, keeping the other keys.
  const next = { ...secrets, [name]: randomBytes(64).toString('base64url') };
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return next[name] as string;
}

import { randomBytes } from 'node:crypto';
import Type from 'typebox';
import Value from 'typebox/value';
import { AuthRepository } from '../app/auth/auth-repository.ts';
import { Email, Password } from '../app/auth/auth-schema.ts';
import { MIGRATIONS_DIR } from '../app/build-app.ts';
import type { Config } from '../platform/config/index.ts';
import { openDatabase, runMigrations } from '../platform/db/index.ts';
import { hashPassword } from '../platform/security/index.ts';
import { cliLogger } from './logger.ts';

export interface CreateAdminArgs {
  readonly email?: string | undefined;
  readonly name?: string | undefined;
  readonly password?: string | undefined;
  readonly passwordStdin?: boolean | undefined;
}

export interface CreateAdminInput {
  readonly email: string;
  readonly name: string | undefined;
  /** Undefined: keep an existing account's password, or generate one for a new account. */
  readonly password: string | undefined;
}

const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const DEFAULT_NAME = 'Administrator';

/**
 * Validates `users create-admin` arguments (and reads the password from stdin when asked) before anything
 * touches the database. Returns the input, or the message of a usage error (exit code 2). Messages never
 * contain the password.
 */
export async function createAdminInput(
  args: CreateAdminArgs,
  stdin: NodeJS.ReadableStream = process.stdin,
): Promise<CreateAdminInput | string> {
  const email = args.email?.trim() ?? '';
  if (!email) return 'users create-admin needs --email <address>';
  if (!Value.Check(Email, email)) return `--email: "${email}" is not a valid e-mail address`;
  const name = args.name?.trim();
  if (args.name !== undefined && !Value.Check(Name, name)) return '--name must be 1 to 100 characters';
  if (args.password !== undefined && args.passwordStdin)
    return 'give either --password or --password-stdin, not both';
  let password = args.password;
  if (args.passwordStdin) password = (await readAll(stdin)).replace(/\r?\n$/, '');
  if (password !== undefined && !Value.Check(Password, password))
    return 'the password must be 8 to 128 characters';
  return { email, name, password };
}

/**
 * `innkeep users create-admin`: creates an admin account, or promotes an existing one. An existing account
 * keeps its password unless one is given (then its sessions are signed out). A new account without a
 * password gets a generated one, printed once on stdout; the password is never logged.
 */
export async function createAdminCommand(config: Config, input: CreateAdminInput): Promise<number> {
  const logger = cliLogger(config);
  const db = await openDatabase(config.db, logger);
  try {
    await runMigrations(db.pool, MIGRATIONS_DIR, logger);
    const existing = await db.read((pool) => new AuthRepository(pool).findUserByEmail(input.email));
    const generated = !existing && input.password === undefined ? randomPassword() : undefined;
    const password = input.password ?? generated;
    const passwordHash = password === undefined ? undefined : await hashPassword(password);
    const { user, signedOut } = await db.transaction(async (client) => {
      const repo = new AuthRepository(client);
      const user = await repo.upsertAdmin(input.email, input.name ?? DEFAULT_NAME, passwordHash);
      const signedOut = !user.created && passwordHash ? await repo.revokeUserTokens(user.id) : 0;
      return { user, signedOut };
    });

    if (user.created) {
      console.log(`Created admin #${user.id} ${user.email} (${user.name})`);
    } else {
      const was = existing?.role === 'admin' ? 'was already an admin' : 'promoted to admin';
      const pw = passwordHash
        ? `password replaced, ${signedOut} session(s) signed out`
        : 'password unchanged';
      console.log(`Account #${user.id} ${user.email} ${was}; ${pw}`);
    }
    if (generated) {
      console.log(`Generated password (shown once, store it now): ${generated}`);
    }
    return 0;
  } finally {
    await db.close();
  }
}

/** 144 random bits, URL-safe: 24 characters. */
function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

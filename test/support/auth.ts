import type { App } from '../../src/app/build-app.ts';

export interface TestUser {
  readonly id: number;
  readonly email: string;
  readonly password: string;
  readonly accessToken: string;
  readonly refreshToken: string;
  /** `{ authorization: 'Bearer ...' }` for app.inject. */
  readonly headers: Record<string, string>;
}

let counter = 0;

/** Registers a fresh user through the API (unique e-mail per call). */
export async function registerUser(app: App, name = 'Test User'): Promise<TestUser> {
  counter += 1;
  const email = `user-${process.pid}-${Date.now()}-${counter}@example.test`;
  const password = 'correct horse battery';
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/register',
    payload: { email, password, name },
  });
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`);
  const body = res.json() as { user: { id: number }; accessToken: string; refreshToken: string };
  return {
    id: body.user.id,
    email,
    password,
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    headers: { authorization: `Bearer ${body.accessToken}` },
  };
}

/** A user promoted to admin in SQL, then logged in again so the token carries the role. */
export async function registerAdmin(app: App): Promise<TestUser> {
  const user = await registerUser(app, 'Test Admin');
  await app.innkeep.db.pool.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.id]);
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/login',
    payload: { email: user.email, password: user.password },
  });
  if (res.statusCode !== 200) throw new Error(`admin login failed: ${res.statusCode} ${res.body}`);
  const body = res.json() as { accessToken: string; refreshToken: string };
  return {
    ...user,
    accessToken: body.accessToken,
    refreshToken: body.refreshToken,
    headers: { authorization: `Bearer ${body.accessToken}` },
  };
}

import assert from 'node:assert/strict';
import { createHash, createHmac, scryptSync } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DUMMY_PASSWORD_HASH,
  hashPassword,
  JwtSigner,
  loadOrCreateSecret,
  verifyPassword,
} from '../../src/platform/security/index.ts';

const SECRET = 'a'.repeat(32);
const OTHER_SECRET = 'b'.repeat(32);
const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

function b64(value: unknown): string {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
}

/** A token built by hand: any header, any payload, signed with `secret` (or unsigned). */
function handMade(header: unknown, payload: unknown, secret?: string): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const signature = secret ? createHmac('sha256', secret).update(input).digest('base64url') : '';
  return `${input}.${signature}`;
}

describe('JwtSigner', () => {
  const jwt = new JwtSigner(SECRET, { issuer: 'innkeep' });

  it('when a token is signed, then verify returns its claims with iat, exp and iss', () => {
    const token = jwt.sign({ sub: '42', role: 'admin' }, 900, NOW);
    const result = jwt.verify(token, NOW + 1000);
    assert.ok(result.ok, JSON.stringify(result));
    assert.equal(result.claims.sub, '42');
    assert.equal(result.claims.role, 'admin');
    assert.equal(result.claims.iat, NOW / 1000);
    assert.equal(result.claims.exp, NOW / 1000 + 900);
    assert.equal(result.claims.iss, 'innkeep');
    assert.equal(token.split('.').length, 3);
  });

  it('when the payload is changed after signing, then verify rejects the signature', () => {
    const [header, payload, signature] = jwt.sign({ sub: '42', role: 'user' }, 900, NOW).split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const forged = `${header}.${b64({ ...claims, role: 'admin' })}.${signature}`;
    assert.deepEqual(jwt.verify(forged, NOW), { ok: false, reason: 'signature' });
  });

  it('when the signature is truncated or altered, then verify rejects it', () => {
    const token = jwt.sign({ sub: '42' }, 900, NOW);
    assert.equal(jwt.verify(token.slice(0, -1), NOW).ok, false);
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    assert.equal(jwt.verify(`${token.slice(0, -2)}${last}${token.at(-1)}`, NOW).ok, false);
  });

  it('when the token was signed with another secret, then verify rejects the signature', () => {
    const other = new JwtSigner(OTHER_SECRET, { issuer: 'innkeep' });
    assert.deepEqual(jwt.verify(other.sign({ sub: '42' }, 900, NOW), NOW), {
      ok: false,
      reason: 'signature',
    });
  });

  it('when a token expires, then it is accepted within the clock tolerance and rejected after it', () => {
    const strict = new JwtSigner(SECRET, { issuer: 'innkeep', clockToleranceS: 5 });
    const token = strict.sign({ sub: '1' }, 60, NOW);
    const exp = NOW + 60_000;
    assert.equal(strict.verify(token, exp - 1000).ok, true, 'before exp');
    assert.equal(strict.verify(token, exp + 4000).ok, true, 'inside the 5 s tolerance');
    assert.deepEqual(strict.verify(token, exp + 5000), { ok: false, reason: 'expired' });
    assert.deepEqual(strict.verify(token, exp + 3_600_000), { ok: false, reason: 'expired' });
    const noTolerance = new JwtSigner(SECRET, { issuer: 'innkeep', clockToleranceS: 0 });
    assert.deepEqual(noTolerance.verify(token, exp), { ok: false, reason: 'expired' });
  });

  it('when the issuer differs or is missing, then verify rejects it', () => {
    const other = new JwtSigner(SECRET, { issuer: 'someone-else' });
    assert.deepEqual(jwt.verify(other.sign({ sub: '1' }, 60, NOW), NOW), { ok: false, reason: 'issuer' });
    const none = new JwtSigner(SECRET);
    assert.deepEqual(jwt.verify(none.sign({ sub: '1' }, 60, NOW), NOW), { ok: false, reason: 'issuer' });
  });

  it('when a claim tries to override iat, exp or iss, then the signer’s values win', () => {
    const token = jwt.sign({ sub: '1', exp: 9_999_999_999, iss: 'evil', iat: 0 }, 60, NOW);
    const result = jwt.verify(token, NOW);
    assert.ok(result.ok);
    assert.equal(result.claims.exp, NOW / 1000 + 60);
    assert.equal(result.claims.iss, 'innkeep');
  });

  it('when the header says alg none or HS512, then verify rejects the token as malformed', () => {
    const claims = { sub: '1', iat: NOW / 1000, exp: NOW / 1000 + 60, iss: 'innkeep' };
    assert.deepEqual(jwt.verify(handMade({ alg: 'none', typ: 'JWT' }, claims), NOW), {
      ok: false,
      reason: 'malformed',
    });
    assert.deepEqual(jwt.verify(handMade({ alg: 'HS512', typ: 'JWT' }, claims, SECRET), NOW), {
      ok: false,
      reason: 'malformed',
    });
  });

  it('when a correctly signed payload is not a claims object, then verify says malformed (never throws)', () => {
    const header = { alg: 'HS256', typ: 'JWT' };
    for (const payload of ['null', '42', '"text"', '[]', 'not json', { exp: NOW / 1000 + 60 }]) {
      assert.deepEqual(jwt.verify(handMade(header, payload, SECRET), NOW), {
        ok: false,
        reason: 'malformed',
      });
    }
    const noIssuerCheck = new JwtSigner(SECRET);
    assert.deepEqual(noIssuerCheck.verify(handMade(header, 'null', SECRET), NOW), {
      ok: false,
      reason: 'malformed',
    });
  });

  it('when the token is not three segments, then verify says malformed', () => {
    for (const token of ['', 'abc', 'a.b', 'a.b.c.d', jwt.sign({ sub: '1' }, 60, NOW).replace('.', '')]) {
      assert.equal(jwt.verify(token, NOW).ok, false, token);
    }
  });

  it('when the secret is shorter than 32 bytes, then the constructor throws', () => {
    assert.throws(() => new JwtSigner('x'.repeat(31)), /at least 32 bytes/);
    assert.doesNotThrow(() => new JwtSigner('x'.repeat(32)));
  });
});

/** The seed's format (src/app/seed/seed.ts passwordHash): scrypt$16384$8$1$salt$hash with a 16-byte salt. */
function seedStyleHash(password: string, seed: number): string {
  const salt = createHash('sha256').update(`innkeep-seed:${seed}:${password}`).digest().subarray(0, 16);
  const hash = scryptSync(password, salt, 64, { N: 16384, r: 8, p: 1 });
  return `scrypt$16384$8$1$${salt.toString('base64')}$${hash.toString('base64')}`;
}

describe('hashPassword / verifyPassword', () => {
  it('when a password is hashed, then the same password verifies and the hash does not contain it', async () => {
    const stored = await hashPassword('correct horse battery');
    assert.match(stored, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/);
    assert.ok(!stored.includes('correct horse'));
    assert.equal(await verifyPassword('correct horse battery', stored), true);
  });

  it('when the same password is hashed twice, then the salts differ', async () => {
    const [a, b] = await Promise.all([hashPassword('same password'), hashPassword('same password')]);
    assert.notEqual(a, b);
  });

  it('when the password is wrong, then verify returns false', async () => {
    const stored = await hashPassword('correct horse battery');
    assert.equal(await verifyPassword('correct horse batterY', stored), false);
    assert.equal(await verifyPassword('', stored), false);
  });

  it('when the password has non-ASCII characters, then it round-trips', async () => {
    const stored = await hashPassword('pässwörd-日本語-🔑');
    assert.equal(await verifyPassword('pässwörd-日本語-🔑', stored), true);
    assert.equal(await verifyPassword('passwort-日本語-🔑', stored), false);
  });

  it('when the stored hash is malformed, then verify returns false instead of throwing', async () => {
    const good = await hashPassword('secret-password');
    const [, , , , salt, key] = good.split('$');
    const malformed = [
      '',
      'plaintext',
      'bcrypt$2b$10$abc',
      `scrypt$16384$8$1$${salt}`,
      `scrypt$16384$8$1$${salt}$${key}$extra`,
      `argon2$16384$8$1$${salt}$${key}`,
      `scrypt$abc$8$1$${salt}$${key}`,
      `scrypt$0$8$1$${salt}$${key}`,
      `scrypt$-16384$8$1$${salt}$${key}`,
      `scrypt$16383$8$1$${salt}$${key}`, // not a power of two: scrypt itself would throw
      `scrypt$1.5$8$1$${salt}$${key}`,
      `scrypt$16384$0$1$${salt}$${key}`,
      `scrypt$16384$8$1.5$${salt}$${key}`,
      `scrypt$4194304$8$1$${salt}$${key}`, // beyond the accepted cost
      `scrypt$16384$8$1$${salt}$${key?.slice(0, 20)}`, // key too short
      `scrypt$16384$8$1$${salt}$`,
    ];
    for (const stored of malformed) {
      assert.equal(await verifyPassword('secret-password', stored), false, stored);
    }
  });

  it('when the hash uses higher cost parameters (N=2^17, OWASP), then it still verifies', async () => {
    const salt = Buffer.alloc(16, 7);
    const key = scryptSync('costly password', salt, 64, {
      N: 131_072,
      r: 8,
      p: 1,
      maxmem: 256 * 1024 * 1024,
    });
    const stored = `scrypt$131072$8$1$${salt.toString('base64')}$${key.toString('base64')}`;
    assert.equal(await verifyPassword('costly password', stored), true);
    assert.equal(await verifyPassword('cheap password', stored), false);
  });

  it('when a hash comes from the demo seed (scrypt$16384$8$1$salt$hash), then its password verifies', async () => {
    const demo = seedStyleHash('innkeep-demo', 42);
    const admin = seedStyleHash('innkeep-admin', 42);
    assert.equal(await verifyPassword('innkeep-demo', demo), true);
    assert.equal(await verifyPassword('innkeep-admin', admin), true);
    assert.equal(await verifyPassword('innkeep-admin', demo), false);
  });

  it('when checking against the dummy hash, then it is well-formed (so it costs a real scrypt) and matches nothing', async () => {
    const parts = DUMMY_PASSWORD_HASH.split('$');
    assert.equal(parts.length, 6);
    assert.deepEqual(parts.slice(0, 4), ['scrypt', '16384', '8', '1']);
    assert.equal(Buffer.from(parts[4]!, 'base64').length, 16);
    assert.equal(Buffer.from(parts[5]!, 'base64').length, 64);
    assert.equal(await verifyPassword('', DUMMY_PASSWORD_HASH), false);
    assert.equal(await verifyPassword('innkeep-demo', DUMMY_PASSWORD_HASH), false);
  });
});

describe('loadOrCreateSecret', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'innkeep-secrets-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('when no file exists, then it creates secrets.json with mode 0600 and returns the same value twice', async () => {
    const sub = join(dir, 'fresh', 'nested');
    const first = loadOrCreateSecret(sub, 'jwt');
    assert.ok(first.length >= 32);
    assert.match(first, /^[A-Za-z0-9_-]+$/);
    const file = join(sub, 'secrets.json');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal(loadOrCreateSecret(sub, 'jwt'), first);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { jwt: first });
  });

  it('when the file holds other keys, then a new key is added and the others are kept', async () => {
    const sub = join(dir, 'others');
    const jwt = loadOrCreateSecret(sub, 'jwt');
    const cookie = loadOrCreateSecret(sub, 'cookie');
    assert.notEqual(cookie, jwt);
    const file = join(sub, 'secrets.json');
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { jwt, cookie });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.equal(loadOrCreateSecret(sub, 'jwt'), jwt);
    assert.equal(loadOrCreateSecret(sub, 'cookie'), cookie);
  });

  it('when the stored value is too short, then it is replaced by a strong one that persists', async () => {
    const sub = join(dir, 'short');
    await rm(sub, { recursive: true, force: true });
    loadOrCreateSecret(sub, 'other');
    const file = join(sub, 'secrets.json');
    const before = JSON.parse(await readFile(file, 'utf8'));
    await writeFile(file, JSON.stringify({ ...before, jwt: 'short' }));
    const fresh = loadOrCreateSecret(sub, 'jwt');
    assert.ok(fresh.length >= 32);
    assert.equal(loadOrCreateSecret(sub, 'jwt'), fresh);
    assert.deepEqual(JSON.parse(await readFile(file, 'utf8')), { ...before, jwt: fresh });
  });

  it('when the file exists but is an empty object, then the new secret is persisted (same value twice)', async () => {
    const sub = join(dir, 'empty');
    await mkdir(sub, { recursive: true });
    await writeFile(join(sub, 'secrets.json'), '{}\n', { mode: 0o600 });
    const first = loadOrCreateSecret(sub, 'jwt');
    assert.equal(loadOrCreateSecret(sub, 'jwt'), first);
    assert.deepEqual(JSON.parse(await readFile(join(sub, 'secrets.json'), 'utf8')), { jwt: first });
  });

  it('when the file is not a JSON object, then it throws instead of overwriting it', async () => {
    const sub = join(dir, 'corrupt');
    loadOrCreateSecret(sub, 'jwt');
    const file = join(sub, 'secrets.json');
    for (const text of ['not json', 'null', '[]', '"text"']) {
      await writeFile(file, text);
      assert.throws(() => loadOrCreateSecret(sub, 'jwt'), /cannot read/);
      assert.equal(await readFile(file, 'utf8'), text);
    }
  });
});

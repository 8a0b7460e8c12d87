export type { JwtClaims, JwtVerifyResult } from './jwt.ts';
export { JwtSigner } from './jwt.ts';
export { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from './password.ts';
export { loadOrCreateSecret } from './secrets.ts';

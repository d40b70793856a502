import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { parseClaims, type Claims } from './claims.ts';
import type { Algorithm, LoadedKey } from './keys.ts';

/** What a new token grants; see Claims for the path rules. */
export interface TokenRequest {
  root: string;
  put?: string | string[];
  get?: string | string[];
  cluster?: boolean;
  /** Absolute expiry in unix seconds; omitted = the token never expires. */
  expiresAt?: number;
}

/** Signs a moq-token compatible JWT. Throws if the request grants nothing (such a token is useless). */
export async function mintToken(key: LoadedKey, request: TokenRequest, nowMs: number = Date.now()): Promise<string> {
  const claims: Claims = { root: request.root };
  if (request.put !== undefined) claims.put = request.put;
  if (request.get !== undefined) claims.get = request.get;
  if (request.cluster) claims.cluster = true;
  claims.iat = Math.floor(nowMs / 1000);
  if (request.expiresAt !== undefined) claims.exp = request.expiresAt;
  parseClaims(claims);
  const header = key.kid === undefined ? { alg: key.alg, typ: 'JWT' } : { alg: key.alg, typ: 'JWT', kid: key.kid };
  return new SignJWT({ ...claims }).setProtectedHeader(header).sign(key.key);
}

/**
 * A new private signing key as a JWK. HS256 is a 32-byte shared secret (give the same file to
 * every node); ES256 is a P-256 pair whose public half alone suffices to verify.
 * key_ops is set as moq-token expects it in its key files.
 */
export async function generateKey(alg: Algorithm, kid?: string): Promise<JWK> {
  const named = (jwk: JWK): JWK => (kid === undefined ? jwk : { ...jwk, kid });
  if (alg === 'HS256') {
    return named({ kty: 'oct', alg, k: randomBytes(32).toString('base64url'), key_ops: ['sign', 'verify'] });
  }
  const { privateKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return named({ ...jwk, alg, key_ops: ['sign', 'verify'] });
}

import { importJWK, type JWK } from 'jose';
import { decodeBase64, KeyLoadError, readKeySource, type KeyMaterial, type KeySource } from './key-source.ts';

/** Signature algorithms we accept. A fixed list keeps `none` and HS/ES key confusion out. */
export type Algorithm = 'HS256' | 'ES256';
export const ALGORITHMS: readonly Algorithm[] = ['HS256', 'ES256'];

/** RFC 7518 §3.2: an HS256 key must be at least as long as the hash output. */
const MIN_SECRET_BYTES = 32;

/** A key ready for jose: bytes for HS256, a CryptoKey for ES256 (public to verify, private to sign). */
export interface LoadedKey {
  alg: Algorithm;
  kid?: string;
  key: CryptoKey | Uint8Array;
}

/**
 * The keys a gateway verifies tokens with. We pick candidates ourselves rather than through
 * jose's createLocalJWKSet because that refuses symmetric (HS256) keys, moq-token's default.
 */
export class KeyRing {
  constructor(readonly keys: readonly LoadedKey[]) {}

  /**
   * Keys that may have signed a token with this header. A `kid` selects the keys carrying it;
   * keys without a kid stay candidates, so a bare secret still verifies tokens that name one.
   */
  candidates(header: { alg?: string; kid?: string }): LoadedKey[] {
    const sameAlg = this.keys.filter((key) => key.alg === header.alg);
    if (header.kid === undefined) return sameAlg;
    const named = sameAlg.filter((key) => key.kid === header.kid);
    return named.length > 0 ? named : sameAlg.filter((key) => key.kid === undefined);
  }
}

/** Loads every verification key from the configured sources (see KeySource); private JWKs are reduced to public. */
export async function loadVerificationKeys(sources: KeySource | readonly KeySource[]): Promise<KeyRing> {
  const list = Array.isArray(sources) ? (sources as readonly KeySource[]) : [sources as KeySource];
  const keys: LoadedKey[] = [];
  for (const source of list) {
    const material = await readKeySource(source);
    if (material.kind === 'secret') keys.push(secretKey(material.bytes, material.origin));
    else for (const jwk of material.keys) keys.push(await importJwk(jwk, material.origin, 'verify'));
  }
  return new KeyRing(keys);
}

/** Loads the one key to mint tokens with. `kid` picks a key from a JWK Set, and names a bare secret. */
export async function loadSigningKey(source: KeySource, options: { alg?: Algorithm; kid?: string } = {}): Promise<LoadedKey> {
  const material = await readKeySource(source);
  const key = material.kind === 'secret' ? secretKey(material.bytes, material.origin, options.kid) : await importJwk(pickJwk(material, options.kid), material.origin, 'sign');
  if (options.alg && options.alg !== key.alg) {
    throw new KeyLoadError(
      material.kind === 'secret'
        ? `a shared secret can only sign HS256; for ${options.alg} use a private JWK file (make one with --generate-key --alg ${options.alg})`
        : `${material.origin}: key is for ${key.alg}, not ${options.alg}`,
    );
  }
  if (options.kid !== undefined) key.kid = options.kid;
  return key;
}

/** The public half of a JWK (unchanged for EC public keys), for handing to verifying nodes. */
export function publicJwk(jwk: JWK): JWK {
  if (jwk.kty === 'oct') throw new KeyLoadError('an HS256 key is a shared secret: it has no public half');
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, key_ops: _ops, ext: _ext, ...rest } = jwk;
  return rest;
}

function pickJwk(material: Extract<KeyMaterial, { kind: 'jwk' }>, kid: string | undefined): JWK {
  if (kid !== undefined) {
    const match = material.keys.filter((jwk) => jwk.kid === kid);
    if (match.length === 1) return match[0]!;
    // A lone key without a kid may be named on the command line.
    if (match.length === 0 && material.keys.length === 1 && material.keys[0]!.kid === undefined) return material.keys[0]!;
    throw new KeyLoadError(`${material.origin}: ${match.length === 0 ? 'no key has' : 'several keys have'} kid "${kid}"`);
  }
  const signing = material.keys.filter((jwk) => jwk.kty === 'oct' || jwk.d !== undefined);
  if (signing.length === 1) return signing[0]!;
  if (signing.length === 0) throw new KeyLoadError(`${material.origin}: no private key to sign with (a public JWK can only verify)`);
  throw new KeyLoadError(`${material.origin}: holds ${signing.length} private keys; pick one by kid`);
}

function secretKey(bytes: Uint8Array, origin: string, kid?: string): LoadedKey {
  if (bytes.byteLength < MIN_SECRET_BYTES) {
    throw new KeyLoadError(`${origin}: an HS256 secret needs at least ${MIN_SECRET_BYTES} bytes (got ${bytes.byteLength})`);
  }
  return kid === undefined ? { alg: 'HS256', key: bytes } : { alg: 'HS256', kid, key: bytes };
}

async function importJwk(jwk: JWK, origin: string, use: 'verify' | 'sign'): Promise<LoadedKey> {
  const where = jwk.kid === undefined ? origin : `${origin} (kid ${jwk.kid})`;
  if (jwk.use !== undefined && jwk.use !== 'sig') throw new KeyLoadError(`${where}: key is for "${jwk.use}", not signatures`);
  const alg = algorithmOf(jwk, where);
  const kid = typeof jwk.kid === 'string' ? jwk.kid : undefined;
  if (alg === 'HS256') {
    if (typeof jwk.k !== 'string') throw new KeyLoadError(`${where}: "oct" JWK has no "k"`);
    return { ...secretKey(decodeBase64(jwk.k, where), where), ...(kid === undefined ? {} : { kid }) };
  }
  if (use === 'sign' && typeof jwk.d !== 'string') throw new KeyLoadError(`${where}: public key cannot sign; use the private JWK`);
  // key_ops is not enforced: where a key is configured decides its role, and WebCrypto would
  // otherwise refuse a private JWK listing "verify". Verification always uses the public half.
  const bare: JWK = use === 'verify' ? publicJwk(jwk) : { ...jwk };
  delete bare.key_ops;
  delete bare.use;
  try {
    const key = await importJWK(bare, alg);
    if (key instanceof Uint8Array) throw new KeyLoadError(`${where}: expected an EC key`);
    return kid === undefined ? { alg, key } : { alg, kid, key };
  } catch (error) {
    if (error instanceof KeyLoadError) throw error;
    throw new KeyLoadError(`${where}: cannot import JWK: ${(error as Error).message}`);
  }
}

/** The JWK's `alg`, or the one its key type implies (moq-token and other tools often omit it). */
function algorithmOf(jwk: JWK, where: string): Algorithm {
  const implied = jwk.kty === 'oct' ? 'HS256' : jwk.kty === 'EC' && jwk.crv === 'P-256' ? 'ES256' : undefined;
  const alg = jwk.alg ?? implied;
  if (alg === undefined || !(ALGORITHMS as readonly string[]).includes(alg)) {
    throw new KeyLoadError(`${where}: unsupported key (alg ${jwk.alg ?? '-'}, kty ${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ''}); use HS256 ("oct") or ES256 (EC P-256)`);
  }
  if (alg !== implied) throw new KeyLoadError(`${where}: alg ${alg} does not fit kty ${jwk.kty}${jwk.crv ? ` ${jwk.crv}` : ''}`);
  return alg as Algorithm;
}

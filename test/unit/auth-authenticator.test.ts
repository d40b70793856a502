import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  AuthError,
  Authenticator,
  bearerFrom,
  expiryTimer,
  generateKey,
  KeyLoadError,
  loadSigningKey,
  loadVerificationKeys,
  mintToken,
  publicJwk,
  rtmpToken,
  splitCredential,
  tokenFrom,
  type AuthFailure,
} from '../../src/auth/index.ts';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const OTHER_SECRET = 'another-secret-that-is-also-long-enough-!!';
const dir = mkdtempSync(join(tmpdir(), 'moq-auth-'));
const nowSeconds = () => Math.floor(Date.now() / 1000);

async function rejection(promise: Promise<unknown>): Promise<AuthError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(AuthError);
    return error as AuthError;
  }
  throw new Error('expected an AuthError');
}

async function expectReason(promise: Promise<unknown>, reason: AuthFailure, text?: string): Promise<void> {
  const error = await rejection(promise);
  expect(error.reason).toBe(reason);
  if (text) expect(error.message).toContain(text);
}

async function hsAuthenticator(extra: Partial<ConstructorParameters<typeof Authenticator>[0]> = {}) {
  return new Authenticator({ enabled: true, keys: await loadVerificationKeys(SECRET), ...extra });
}

describe('Authenticator: tokens', () => {
  it('verifies a minted HS256 token and scopes it', async () => {
    const key = await loadSigningKey(SECRET);
    const token = await mintToken(key, { root: 'live', put: 'a', get: '', expiresAt: nowSeconds() + 3600 });
    const ctx = await (await hsAuthenticator()).verify(token);
    expect(ctx.anonymous).toBe(false);
    expect(ctx.open).toBe(false);
    expect(ctx.cluster).toBe(false);
    expect(ctx.claims?.root).toBe('live');
    expect(ctx.expiresAt).toBeGreaterThan(Date.now());
    expect(ctx.canPublish('live/a')).toBe(true);
    expect(ctx.canPublish('live/a/x')).toBe(true);
    expect(ctx.canPublish('live/b')).toBe(false);
    expect(ctx.canSubscribe('live/b')).toBe(true);
    expect(ctx.canSubscribe('other')).toBe(false);
    expect(ctx.publishPrefixes).toEqual(['live/a']);
    expect(ctx.subscribePrefixes).toEqual(['live']);
  });

  it('rejects an expired token with "expired"', async () => {
    const key = await loadSigningKey(SECRET);
    const token = await mintToken(key, { root: '', get: '', expiresAt: nowSeconds() - 10 });
    await expectReason((await hsAuthenticator()).verify(token), 'expired', 'expired');
  });

  it('honours clock tolerance and an injected clock', async () => {
    const key = await loadSigningKey(SECRET);
    const token = await mintToken(key, { root: '', get: '', expiresAt: nowSeconds() - 10 });
    await expect((await hsAuthenticator({ clockToleranceSeconds: 60 })).verify(token)).resolves.toBeDefined();
    await expect((await hsAuthenticator({ now: () => Date.now() - 60_000 })).verify(token)).resolves.toBeDefined();
  });

  it('rejects a token signed with another key as a bad signature', async () => {
    const token = await mintToken(await loadSigningKey(OTHER_SECRET), { root: '', get: '' });
    await expectReason((await hsAuthenticator()).verify(token), 'bad-signature', 'bad signature');
  });

  it('rejects a tampered payload', async () => {
    const token = await mintToken(await loadSigningKey(SECRET), { root: 'live', get: 'a' });
    const [head, , sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ root: '', put: '', get: '' })).toString('base64url');
    await expectReason((await hsAuthenticator()).verify(`${head}.${forged}.${sig}`), 'bad-signature');
  });

  it('rejects missing, malformed, unsigned and wrong-algorithm tokens', async () => {
    const auth = await hsAuthenticator();
    await expectReason(auth.verify(undefined), 'missing', 'missing token');
    await expectReason(auth.verify(''), 'missing');
    await expectReason(auth.verify('not-a-jwt'), 'malformed', 'malformed');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"put":""}').toString('base64url')}.`;
    await expectReason(auth.verify(none), 'malformed', 'algorithm');
    await expectReason(auth.verify('x'.repeat(10_000)), 'malformed', 'longer');
    // An ES256 header where only HS256 keys exist: no key to try.
    const { privateKey } = await import('jose').then((jose) => jose.generateKeyPair('ES256'));
    const es = await new SignJWT({ put: '' }).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    await expectReason(auth.verify(es), 'unknown-key', 'ES256');
  });

  it('rejects a validly signed token with bad claims as malformed', async () => {
    const secret = new TextEncoder().encode(SECRET);
    const auth = await hsAuthenticator();
    const noGrant = await new SignJWT({ root: 'x' }).setProtectedHeader({ alg: 'HS256' }).sign(secret);
    await expectReason(auth.verify(noGrant), 'malformed', 'neither');
    const badPut = await new SignJWT({ put: 42 }).setProtectedHeader({ alg: 'HS256' }).sign(secret);
    await expectReason(auth.verify(badPut), 'malformed', 'put');
    const future = await new SignJWT({ put: '' }).setProtectedHeader({ alg: 'HS256' }).setNotBefore(nowSeconds() + 600).sign(secret);
    await expectReason(auth.verify(future), 'not-yet-valid');
  });

  it('exposes the cluster claim', async () => {
    const token = await mintToken(await loadSigningKey(SECRET), { root: '', put: '', get: '', cluster: true });
    expect((await (await hsAuthenticator()).verify(token)).cluster).toBe(true);
  });

  it('signs and verifies ES256 with a JWK file; the public half alone verifies', async () => {
    const jwk = await generateKey('ES256', 'node-1');
    const privatePath = join(dir, 'es256.jwk');
    const publicPath = join(dir, 'es256.pub.json');
    writeFileSync(privatePath, JSON.stringify(jwk));
    writeFileSync(publicPath, JSON.stringify({ keys: [publicJwk(jwk)] }));
    const key = await loadSigningKey(privatePath, { alg: 'ES256' });
    expect(key.kid).toBe('node-1');
    const token = await mintToken(key, { root: 'live', put: 'cam' });
    for (const path of [privatePath, publicPath]) {
      const auth = new Authenticator({ enabled: true, keys: await loadVerificationKeys(path) });
      expect((await auth.verify(token)).canPublish('live/cam')).toBe(true);
    }
  });

  it('reads moq-token style base64url-encoded JWK files', async () => {
    const jwk = await generateKey('HS256');
    const path = join(dir, 'moq-token.jwk');
    writeFileSync(path, Buffer.from(JSON.stringify(jwk)).toString('base64url'));
    const token = await mintToken(await loadSigningKey(path), { root: '', get: 'x' });
    const auth = new Authenticator({ enabled: true, keys: await loadVerificationKeys(path) });
    expect((await auth.verify(token)).canSubscribe('x')).toBe(true);
  });

  it('honours kid: picks the named key, refuses an unknown kid', async () => {
    const a = await generateKey('HS256', 'a');
    const b = await generateKey('HS256', 'b');
    const ring = await loadVerificationKeys({ keys: [a, b] });
    const auth = new Authenticator({ enabled: true, keys: ring });
    const byB = await mintToken(await loadSigningKey({ keys: [a, b] }, { kid: 'b' }), { root: '', get: '' });
    expect((await auth.verify(byB)).canSubscribe('x')).toBe(true);
    const unknown = await new SignJWT({ get: '' }).setProtectedHeader({ alg: 'HS256', kid: 'zzz' }).sign(new Uint8Array(32));
    await expectReason(auth.verify(unknown), 'unknown-key', 'zzz');
    // A key without a kid still verifies tokens that name one.
    const bare = new Authenticator({ enabled: true, keys: await loadVerificationKeys(SECRET) });
    const named = await mintToken(await loadSigningKey(SECRET, { kid: 'k1' }), { root: '', get: '' });
    expect((await bare.verify(named)).anonymous).toBe(false);
  });

  it('accepts a base64url secret and several key sources at once', async () => {
    const bytes = Buffer.alloc(32, 7);
    const ring = await loadVerificationKeys([`base64url:${bytes.toString('base64url')}`, SECRET]);
    expect(ring.keys).toHaveLength(2);
    const auth = new Authenticator({ enabled: true, keys: ring });
    for (const source of [`base64url:${bytes.toString('base64url')}`, SECRET]) {
      const token = await mintToken(await loadSigningKey(source), { root: '', get: '' });
      await expect(auth.verify(token)).resolves.toBeDefined();
    }
  });

  it('refuses weak or unusable keys at load time', async () => {
    await expect(loadVerificationKeys('short')).rejects.toThrow(KeyLoadError);
    await expect(loadVerificationKeys(join(dir, 'missing.jwk'))).rejects.toThrow(/cannot read/);
    await expect(loadVerificationKeys({ kty: 'RSA', n: 'x', e: 'AQAB' })).rejects.toThrow(/unsupported/);
    await expect(loadSigningKey(SECRET, { alg: 'ES256' })).rejects.toThrow(/private JWK/);
    await expect(loadSigningKey(publicJwk(await generateKey('ES256')))).rejects.toThrow(/no private key/);
  });
});

describe('Authenticator: modes', () => {
  it('disabled mode allows everything, token or not', async () => {
    const auth = new Authenticator({ enabled: false });
    for (const token of [undefined, 'garbage']) {
      const ctx = await auth.verify(token);
      expect(ctx.open).toBe(true);
      expect(ctx.canPublish('any/path')).toBe(true);
      expect(ctx.canSubscribe('')).toBe(true);
    }
  });

  it('anonymous access to public prefixes only; tokens add to them', async () => {
    const auth = await hsAuthenticator({ publicPrefixes: { publish: ['anon'], subscribe: ['anon', 'public'] } });
    const anon = await auth.verify(undefined);
    expect(anon.anonymous).toBe(true);
    expect(anon.canPublish('anon/x')).toBe(true);
    expect(anon.canPublish('anonymous')).toBe(false);
    expect(anon.canPublish('live/x')).toBe(false);
    expect(anon.canSubscribe('public/show')).toBe(true);
    expect(anon.canSubscribe('live/x')).toBe(false);

    const token = await mintToken(await loadSigningKey(SECRET), { root: 'live', put: 'x' });
    const ctx = await auth.verify(token);
    expect(ctx.canPublish('live/x')).toBe(true);
    expect(ctx.canPublish('anon/y')).toBe(true);
    expect(ctx.canSubscribe('public/show')).toBe(true);
    // A bad token is refused even where anonymous access would do.
    await expectReason(auth.verify('bad'), 'malformed');
  });

  it('Authenticator.load reads key sources', async () => {
    const auth = await Authenticator.load({ enabled: true, keys: SECRET });
    const token = await mintToken(await loadSigningKey(SECRET), { root: '', get: '' });
    await expect(auth.verify(token)).resolves.toBeDefined();
  });
});

describe('Authenticator: RTMP and WHIP publishing', () => {
  const query = (text: string) => new URLSearchParams(text);

  it('a matching stream key publishes that path only; a wrong one is refused', async () => {
    const auth = await hsAuthenticator({ streamKeys: { 'live/demo': 'k3y' } });
    const ctx = await auth.authorizeRtmp('live/demo', query('key=k3y'));
    expect(ctx.canPublish('live/demo')).toBe(true);
    expect(ctx.canPublish('live/other')).toBe(false);
    await expectReason(auth.authorizeRtmp('live/demo', query('key=nope')), 'forbidden', 'wrong stream key');
    await expectReason(auth.authorizeRtmp('live/demo', query('')), 'missing', 'stream key');
    expect((await rejection(auth.authorizeRtmp('live/demo', query('key=nope')))).status).toBe(403);
  });

  it('stream keys guard their paths in open mode too, other paths stay open', async () => {
    const auth = new Authenticator({ enabled: false, streamKeys: { 'live/demo': 'k3y' } });
    await expectReason(auth.authorizeRtmp('live/demo', query('')), 'missing');
    await expect(auth.authorizeRtmp('live/demo', query('key=k3y'))).resolves.toBeDefined();
    await expect(auth.authorizeRtmp('live/free', query(''))).resolves.toBeDefined();
    // MoQ publishers cannot present a stream key, so they cannot take a guarded path.
    expect((await auth.verify(undefined)).canPublish('live/demo')).toBe(false);
  });

  it('a JWT in the RTMP query authorizes by its grants', async () => {
    const auth = await hsAuthenticator({ streamKeys: { 'live/demo': 'k3y' } });
    const token = await mintToken(await loadSigningKey(SECRET), { root: 'live', put: '' });
    await expect(auth.authorizeRtmp('live/demo', query(`jwt=${token}`))).resolves.toBeDefined();
    await expect(auth.authorizeRtmp('live/cam', query(`jwt=${token}`))).resolves.toBeDefined();
    await expectReason(auth.authorizeRtmp('other/cam', query(`jwt=${token}`)), 'forbidden', 'other/cam');
  });

  it('a WHIP bearer is either a JWT or a stream key', async () => {
    const auth = await hsAuthenticator({ streamKeys: { 'live/demo': 'k3y' } });
    const token = await mintToken(await loadSigningKey(SECRET), { root: 'live', put: 'demo' });
    expect(splitCredential('k3y')).toEqual({ key: 'k3y' });
    expect(splitCredential(token)).toEqual({ jwt: token });
    await expect(auth.authorizePublish('live/demo', splitCredential(bearerFrom({ authorization: 'Bearer k3y' })))).resolves.toBeDefined();
    await expect(auth.authorizePublish('live/demo', splitCredential(bearerFrom(new Headers({ Authorization: `bearer ${token}` }))))).resolves.toBeDefined();
  });
});

describe('credential helpers', () => {
  it('tokenFrom reads ?jwt= from URLs and strings', () => {
    expect(tokenFrom(new URL('https://h:4443/?jwt=abc'))).toBe('abc');
    expect(tokenFrom('/live?x=1&jwt=t.o.k')).toBe('t.o.k');
    expect(tokenFrom('https://h/')).toBeUndefined();
    expect(tokenFrom('https://h/?jwt=')).toBeUndefined();
  });

  it('bearerFrom reads Authorization: Bearer from Node and fetch headers', () => {
    expect(bearerFrom({ authorization: 'Bearer abc' })).toBe('abc');
    expect(bearerFrom({ Authorization: ['Bearer x'] })).toBe('x');
    expect(bearerFrom(new Headers({ authorization: 'BEARER y' }))).toBe('y');
    expect(bearerFrom({ authorization: 'Basic Zm9v' })).toBeUndefined();
    expect(bearerFrom({})).toBeUndefined();
  });

  it('rtmpToken reads jwt from the stream key query', () => {
    expect(rtmpToken(new URLSearchParams('jwt=abc&key=1'))).toBe('abc');
    expect(rtmpToken(new URLSearchParams('key=1'))).toBeUndefined();
  });
});

describe('expiryTimer', () => {
  afterEach(() => void vi.useRealTimers());

  it('fires when the token expires, never for tokens without exp, not after cancel', () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    expiryTimer({ expiresAt: Date.now() + 1000 }, () => fired.push('a'));
    const cancel = expiryTimer({ expiresAt: Date.now() + 1000 }, () => fired.push('b'));
    expiryTimer({}, () => fired.push('never'));
    cancel();
    vi.advanceTimersByTime(999);
    expect(fired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(fired).toEqual(['a']);
  });

  it('fires at once for an expired context and chains beyond the 24.8-day timer limit', () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    expiryTimer({ expiresAt: Date.now() - 5 }, () => fired.push('past'));
    expiryTimer({ expiresAt: Date.now() + 30 * 86_400_000 }, () => fired.push('month'));
    vi.advanceTimersByTime(0);
    expect(fired).toEqual(['past']);
    vi.advanceTimersByTime(29 * 86_400_000);
    expect(fired).toEqual(['past']);
    vi.advanceTimersByTime(86_400_000);
    expect(fired).toEqual(['past', 'month']);
  });
});

import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthError, Authenticator, canPublish, loadVerificationKeys, type Claims } from '../../src/auth/index.ts';

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** Signs any payload text, even claims jose would refuse to sign (exp: 1e400, exp: "soon"). */
function signHs256(payloadJson: string): string {
  const signingInput = `${b64({ alg: 'HS256', typ: 'JWT' })}.${Buffer.from(payloadJson).toString('base64url')}`;
  return `${signingInput}.${createHmac('sha256', SECRET).update(signingInput).digest('base64url')}`;
}

async function onlyAuthErrors(auth: Authenticator, token: string): Promise<void> {
  try {
    await auth.verify(token);
  } catch (error) {
    if (!(error instanceof AuthError)) throw error;
  }
}

describe('auth fuzz', () => {
  it('random strings as tokens only ever raise AuthError', async () => {
    const auth = new Authenticator({ enabled: true, keys: await loadVerificationKeys(SECRET), publicPrefixes: { subscribe: ['anon'] } });
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 300 }), async (token) => {
        await onlyAuthErrors(auth, token);
      }),
      { numRuns: 500 },
    );
  });

  it('JWT-shaped junk (random headers, payloads, signatures) only ever raises AuthError', async () => {
    const auth = new Authenticator({ enabled: true, keys: await loadVerificationKeys(SECRET) });
    const header = fc.oneof(fc.jsonValue(), fc.record({ alg: fc.constantFrom('HS256', 'ES256', 'none', 'RS256'), kid: fc.option(fc.jsonValue()) }));
    await fc.assert(
      fc.asyncProperty(header, fc.jsonValue(), fc.string({ maxLength: 90 }), async (h, p, sig) => {
        await onlyAuthErrors(auth, `${b64(h)}.${b64(p)}.${b64(sig)}`);
      }),
      { numRuns: 500 },
    );
  });

  it('correctly signed arbitrary payloads either verify or raise AuthError', async () => {
    const auth = new Authenticator({ enabled: true, keys: await loadVerificationKeys(SECRET) });
    const time = fc.oneof(fc.integer(), fc.double(), fc.string(), fc.constantFrom('1e400', '-1e400', '8.64e12', '-8.64e12', 'null', '[]'));
    const grant = fc.oneof(fc.string(), fc.array(fc.oneof(fc.string(), fc.integer())), fc.jsonValue());
    const payload = fc.record(
      { root: fc.oneof(fc.string(), fc.jsonValue()), put: grant, get: grant, cluster: fc.jsonValue(), exp: time, nbf: time, iat: time },
      { requiredKeys: [] },
    );
    // Times are spliced in as raw JSON text so out-of-range numbers reach the verifier unchanged.
    const toJson = (claims: Record<string, unknown>) =>
      `{${Object.entries(claims)
        .map(([name, value]) => `${JSON.stringify(name)}:${['exp', 'nbf', 'iat'].includes(name) && typeof value === 'string' && /^[-\d[n]/.test(value) ? value : JSON.stringify(value ?? null)}`)
        .join(',')}}`;
    await fc.assert(
      fc.asyncProperty(fc.oneof(payload.map(toJson), fc.jsonValue().map((v) => JSON.stringify(v) ?? 'null'), fc.string()), async (json) => {
        await onlyAuthErrors(auth, signHs256(json));
      }),
      { numRuns: 500 },
    );
    // The helper really does sign: a sane payload verifies.
    await expect(auth.verify(signHs256('{"get":""}'))).resolves.toBeDefined();
  });

  it('scope is segment-wise: a grant never covers a sibling whose name merely starts the same', () => {
    const segment = fc.stringMatching(/^[a-z0-9]{1,6}$/);
    fc.assert(
      fc.property(segment, segment, fc.array(segment, { maxLength: 3 }), (root, put, rest) => {
        const claims: Claims = { root, put };
        expect(canPublish(claims, [root, put, ...rest].join('/'))).toBe(true);
        expect(canPublish(claims, [root, `${put}x`, ...rest].join('/'))).toBe(false);
        expect(canPublish(claims, [`${root}x`, put].join('/'))).toBe(false);
      }),
    );
  });
});

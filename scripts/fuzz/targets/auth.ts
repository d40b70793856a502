/**
 * Authentication (src/auth): JWTs from `?jwt=` / `Authorization: Bearer` verified against
 * HS256 and ES256 keys, correctly signed tokens with arbitrary payloads (so claim validation is
 * reached), and the credential extraction from URLs, headers and RTMP query strings. AuthError
 * is the only error a refused credential may produce.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { AuthError, Authenticator, bearerFrom, generateKey, loadSigningKey, loadVerificationKeys, mintToken, splitCredential, tokenFrom } from '../../../src/auth/index.ts';
import { KeyRing } from '../../../src/auth/keys.ts';
import { ascii, latin1, text, utf8 } from '../bytes.ts';
import type { FuzzTarget } from '../harness.ts';

const SECRET = 'fuzz-secret-that-is-long-enough-for-hs256!';
const NOW_MS = Date.UTC(2026, 0, 1);
const NOW = NOW_MS / 1000;
const isAuthError = (error: unknown): boolean => error instanceof AuthError;

const b64 = (value: string): string => Buffer.from(value).toString('base64url');

/** HS256 over any header and payload text (even ones jose would refuse to sign). */
function signHs256(payloadJson: string, headerJson = '{"alg":"HS256","typ":"JWT"}'): string {
  const input = `${b64(headerJson)}.${b64(payloadJson)}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}

const CLAIMS = [
  `{"root":"live","put":"demo","get":"","iat":${NOW}}`,
  `{"root":"","get":["live","vod/x"],"exp":${NOW + 3600},"nbf":${NOW - 10}}`,
  `{"root":"live/","put":["a","b/c"],"cluster":true,"exp":${NOW + 60}}`,
  `{"root":"live","get":"","exp":${NOW - 1}}`,
  `{"root":"live","get":"","nbf":${NOW + 3600}}`,
  `{"root":"x","get":"","exp":1e400,"iat":"soon"}`,
  `{"get":"","sub":"user","iss":"moq","aud":["a"],"jti":"1","__proto__":{"put":""}}`,
];

/** Claims of every shape: right and wrong types, out-of-range times spliced in as raw JSON. */
const CLAIMS_JSON = (() => {
  const time = fc.oneof(fc.integer({ min: NOW - 10_000, max: NOW + 10_000 }), fc.double(), fc.string({ maxLength: 5 }), fc.constantFrom('1e400', '-1e400', '8.64e12', '-8.64e12', 'null', '[]', '1.5'));
  const grant = fc.oneof(fc.string({ maxLength: 12 }), fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.integer()), { maxLength: 3 }), fc.jsonValue());
  const payload = fc.record(
    { root: fc.oneof(fc.string({ maxLength: 12 }), fc.jsonValue()), put: grant, get: grant, cluster: fc.jsonValue(), exp: time, nbf: time, iat: time },
    { requiredKeys: [] },
  );
  const raw = (name: string, value: unknown): string =>
    ['exp', 'nbf', 'iat'].includes(name) && typeof value === 'string' && /^[-\d[n]/.test(value) ? value : (JSON.stringify(value) ?? 'null');
  return fc.oneof(
    { weight: 4, arbitrary: payload.map((claims) => text(`{${Object.entries(claims).map(([name, value]) => `${JSON.stringify(name)}:${raw(name, value)}`).join(',')}}`)) },
    fc.jsonValue().map((value) => text(JSON.stringify(value) ?? 'null')),
  );
})();

/** Token-shaped text: three base64url parts with JSON-ish headers. */
const TOKEN_SHAPED = fc
  .tuple(
    fc.oneof(fc.jsonValue(), fc.record({ alg: fc.constantFrom('HS256', 'ES256', 'none', 'RS256', 'hs256'), kid: fc.option(fc.oneof(fc.constantFrom('es-1', 'node-1'), fc.jsonValue())), typ: fc.option(fc.string()) })),
    fc.jsonValue(),
    fc.oneof(fc.string({ maxLength: 90 }), fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b).toString('base64url'))),
  )
  .map(([header, payload, signature]) => ascii(`${b64(JSON.stringify(header) ?? 'null')}.${b64(JSON.stringify(payload) ?? 'null')}.${signature}`));

const HS_TOKENS = [
  ...CLAIMS.map((claims) => signHs256(claims)),
  signHs256(CLAIMS[0]!, '{"alg":"HS256","kid":"node-1"}'),
  signHs256(CLAIMS[0]!, '{"alg":"none"}'),
  signHs256(CLAIMS[0]!, '{"alg":"ES256","kid":7}'),
  signHs256(CLAIMS[0]!, '{"alg":"HS256","crit":["b64"],"b64":false}'),
];

let authenticator: Authenticator | undefined;
let rtmpAuthenticator: Authenticator | undefined;

async function prepare(): Promise<{ tokens: string[] }> {
  const es = await generateKey('ES256', 'es-1');
  const keys = await loadVerificationKeys([SECRET, es]);
  const signing = await loadSigningKey(es);
  authenticator = new Authenticator({ enabled: true, keys, now: () => NOW_MS, publicPrefixes: { subscribe: ['public'] } });
  rtmpAuthenticator = new Authenticator({ enabled: true, keys: new KeyRing(keys.keys), now: () => NOW_MS, streamKeys: { 'live/demo': 'stream-key-1' } });
  const esTokens = [await mintToken(signing, { root: 'live', put: 'demo', expiresAt: NOW + 3600 }, NOW_MS), await mintToken(signing, { root: '', get: ['a', 'b'] }, NOW_MS)];
  return { tokens: [...HS_TOKENS, ...esTokens] };
}

async function useContext(token: string): Promise<void> {
  const ctx = await authenticator!.verify(token);
  ctx.canPublish('live/demo');
  ctx.canSubscribe('live/demo/video');
  ctx.canSubscribe('public/x');
}

const jwtTarget: FuzzTarget = {
  name: 'auth.jwt',
  seeds: [],
  generators: [TOKEN_SHAPED],
  allowed: isAuthError,
  async setup() {
    if (authenticator) return;
    const { tokens } = await prepare();
    this.seeds = tokens.map(ascii);
  },
  async run(bytes) {
    await useContext(latin1(bytes));
  },
};

export const authTargets: FuzzTarget[] = [
  jwtTarget,
  {
    // Correctly signed (HS256) tokens with the input as payload: reaches time and claim checks.
    name: 'auth.jwt-signed-claims',
    seeds: CLAIMS.map(text),
    generators: [CLAIMS_JSON],
    allowed: isAuthError,
    async setup() {
      await jwtTarget.setup!();
    },
    async run(bytes) {
      await useContext(signHs256(utf8(bytes)));
    },
  },
  {
    // A connection URL, an Authorization header and an RTMP publish query, newline-separated.
    name: 'auth.credentials',
    seeds: [
      ascii(`/moq/live?jwt=${HS_TOKENS[0]}\nBearer ${HS_TOKENS[1]}\njwt=${HS_TOKENS[0]}`),
      ascii('https://relay.example/anon?x=1&jwt=\n  bearer   stream-key-1  \nkey=stream-key-1&jwt='),
      ascii('%zz?jwt=%E0%A4%A\nBasic dXNlcjpwYXNz\nkey=wrong'),
    ],
    allowed: isAuthError,
    async setup() {
      await jwtTarget.setup!();
    },
    async run(bytes) {
      const [url = '', header = '', query = ''] = latin1(bytes).split('\n');
      const fromUrl = tokenFrom(url);
      const bearer = bearerFrom({ authorization: header, Host: 'relay.example' });
      const credentials = splitCredential(bearer);
      if (fromUrl !== undefined) {
        try {
          await authenticator!.verify(fromUrl);
        } catch (error) {
          if (!isAuthError(error)) throw error;
        }
      }
      try {
        await rtmpAuthenticator!.authorizePublish('live/demo', credentials);
      } catch (error) {
        if (!isAuthError(error)) throw error;
      }
      await rtmpAuthenticator!.authorizeRtmp('live/demo', new URLSearchParams(query));
    },
  },
];

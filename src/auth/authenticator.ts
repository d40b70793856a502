import { createHash, timingSafeEqual } from 'node:crypto';
import { decodeProtectedHeader, errors as jose, jwtVerify, type JWTPayload } from 'jose';
import { normalizePath } from '../relay/path.ts';
import { parseClaims, type Claims } from './claims.ts';
import { anonymousContext, openContext, streamKeyContext, tokenContext, type AuthContext, type PublicPrefixes } from './context.ts';
import { rtmpStreamKey, rtmpToken, type PublishCredentials } from './credentials.ts';
import { AuthError } from './errors.ts';
import type { KeySource } from './key-source.ts';
import { ALGORITHMS, KeyRing, loadVerificationKeys, type LoadedKey } from './keys.ts';

export type { AuthContext } from './context.ts';
export { AuthError } from './errors.ts';
export { bearerFrom, rtmpStreamKey, rtmpToken, splitCredential, tokenFrom } from './credentials.ts';
export { expiryTimer } from './expiry.ts';

/** Real tokens are a few hundred bytes; refusing huge ones early bounds the work a stranger can cause. */
const MAX_TOKEN_LENGTH = 8192;

export interface AuthenticatorOptions {
  /** false = open mode: every path may be published and subscribed without a token. */
  enabled: boolean;
  keys?: KeyRing;
  /** Prefixes anyone may use without a token (moq-relay's `public`); '' would mean everything. */
  publicPrefixes?: PublicPrefixes;
  /**
   * Static RTMP/WHIP stream keys: broadcast path → key. A guarded path needs its key (`?key=`)
   * or a token granting it, in open mode too: configuring a key is an explicit wish to guard it.
   */
  streamKeys?: Readonly<Record<string, string>>;
  /** Leeway for `exp`/`nbf` between nodes' clocks. Default 0. */
  clockToleranceSeconds?: number;
  /** Clock for tests, ms since the epoch. */
  now?: () => number;
}

/** Decides who a connecting peer is and what it may publish and subscribe. */
export class Authenticator {
  readonly enabled: boolean;
  readonly #keys: KeyRing;
  readonly #public: PublicPrefixes;
  readonly #streamKeys: ReadonlyMap<string, string>;
  readonly #keyGuarded: ReadonlySet<string>;
  readonly #clockTolerance: number;
  readonly #now: () => number;

  constructor(options: AuthenticatorOptions) {
    this.enabled = options.enabled;
    this.#keys = options.keys ?? new KeyRing([]);
    this.#public = options.publicPrefixes ?? {};
    this.#streamKeys = new Map(Object.entries(options.streamKeys ?? {}).map(([path, key]) => [normalizePath(path), key]));
    this.#keyGuarded = new Set(this.#streamKeys.keys());
    this.#clockTolerance = options.clockToleranceSeconds ?? 0;
    this.#now = options.now ?? Date.now;
  }

  /** What this authenticator enforces, for the start-up log: never a key or a stream key itself. */
  describe(): { keys: string[]; publicPublish: readonly string[]; publicSubscribe: readonly string[]; streamKeys: number } {
    return {
      keys: this.#keys.keys.map((key) => (key.kid === undefined ? key.alg : `${key.alg} kid=${key.kid}`)),
      publicPublish: this.#public.publish ?? [],
      publicSubscribe: this.#public.subscribe ?? [],
      streamKeys: this.#streamKeys.size,
    };
  }

  /** Builds an Authenticator, loading its verification keys from files, JWKs or secrets (see KeySource). */
  static async load(options: Omit<AuthenticatorOptions, 'keys'> & { keys?: KeySource | readonly KeySource[] }): Promise<Authenticator> {
    const { keys, ...rest } = options;
    return new Authenticator({ ...rest, keys: keys === undefined ? new KeyRing([]) : await loadVerificationKeys(keys) });
  }

  /**
   * The context for a connection presenting `token` (or none). Throws AuthError when a token is
   * required but missing, or is malformed, expired or signed by a key we do not trust. A bad token
   * is refused even where anonymous access would do: a silent downgrade hides client mistakes.
   */
  async verify(token: string | undefined): Promise<AuthContext> {
    if (!this.enabled) return openContext(this.#keyGuarded);
    if (token === undefined || token === '') {
      if (this.#hasPublicPrefixes()) return anonymousContext(this.#public, this.#keyGuarded);
      throw new AuthError('missing', 'missing token: pass ?jwt=<token> or an Authorization: Bearer header');
    }
    return tokenContext(await this.verifyToken(token), this.#public);
  }

  /** Verifies a JWT's signature and times and returns its claims. */
  async verifyToken(token: string): Promise<Claims> {
    if (token.length > MAX_TOKEN_LENGTH) throw new AuthError('malformed', `malformed token: longer than ${MAX_TOKEN_LENGTH} characters`);
    const candidates = this.#candidates(token);
    for (const key of candidates) {
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key.key, {
          algorithms: [key.alg],
          clockTolerance: this.#clockTolerance,
          currentDate: new Date(this.#now()),
        }));
      } catch (error) {
        if (error instanceof jose.JWSSignatureVerificationFailed) continue;
        throw authErrorFrom(error);
      }
      return parseClaims(payload);
    }
    throw new AuthError('bad-signature', 'bad signature: the token was not signed by any configured key');
  }

  /**
   * May these credentials publish `path`? For RTMP and WHIP ingest. A stream key configured for
   * the path must match when given; otherwise the JWT (or open/public access) decides.
   */
  async authorizePublish(path: string, credentials: PublishCredentials): Promise<AuthContext> {
    const broadcast = normalizePath(path);
    const expected = this.#streamKeys.get(broadcast);
    if (expected !== undefined && credentials.key !== undefined) {
      if (sameSecret(credentials.key, expected)) return streamKeyContext(broadcast);
      throw new AuthError('forbidden', `wrong stream key for ${broadcast}`);
    }
    if (expected !== undefined && credentials.jwt === undefined) {
      throw new AuthError('missing', `${broadcast} needs its stream key (?key=…) or a token (?jwt=…)`);
    }
    const ctx = await this.verify(credentials.jwt);
    if (!ctx.canPublish(broadcast)) throw new AuthError('forbidden', `not allowed to publish ${broadcast}`);
    return ctx;
  }

  /** RTMP publish of `path` with the query string of its stream name (`?jwt=…` or `?key=…`). */
  async authorizeRtmp(path: string, query: URLSearchParams): Promise<AuthContext> {
    const credentials: PublishCredentials = {};
    const jwt = rtmpToken(query);
    const key = rtmpStreamKey(query);
    if (jwt !== undefined) credentials.jwt = jwt;
    if (key !== undefined) credentials.key = key;
    return this.authorizePublish(path, credentials);
  }

  #hasPublicPrefixes(): boolean {
    return (this.#public.publish?.length ?? 0) + (this.#public.subscribe?.length ?? 0) > 0;
  }

  #candidates(token: string): LoadedKey[] {
    let header: { alg?: unknown; kid?: unknown };
    try {
      header = decodeProtectedHeader(token);
    } catch (error) {
      throw new AuthError('malformed', 'malformed token: not a JWT', { cause: error });
    }
    const { alg, kid } = header;
    if (typeof alg !== 'string' || !(ALGORITHMS as readonly string[]).includes(alg)) {
      throw new AuthError('malformed', `malformed token: algorithm ${JSON.stringify(alg) ?? 'missing'} is not one of ${ALGORITHMS.join(', ')}`);
    }
    if (kid !== undefined && typeof kid !== 'string') throw new AuthError('malformed', 'malformed token: "kid" must be a string');
    const candidates = this.#keys.candidates(kid === undefined ? { alg } : { alg, kid });
    if (candidates.length === 0) {
      throw new AuthError('unknown-key', kid === undefined ? `no ${alg} key configured to verify the token` : `no ${alg} key with kid "${kid}" is configured`);
    }
    return candidates;
  }
}

function authErrorFrom(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof jose.JWTExpired) {
    const at = new Date(Number(error.payload.exp) * 1000);
    // A forged exp may lie outside Date's range; only name a time we can print.
    const when = Number.isNaN(at.getTime()) ? '' : ` at ${at.toISOString()}`;
    return new AuthError('expired', `token expired${when}`, { cause: error });
  }
  if (error instanceof jose.JWTClaimValidationFailed && error.claim === 'nbf') {
    return new AuthError('not-yet-valid', 'token not yet valid (nbf is in the future)', { cause: error });
  }
  if (error instanceof jose.JWTClaimValidationFailed) {
    return new AuthError('malformed', `malformed token: bad "${error.claim}" claim: ${error.message}`, { cause: error });
  }
  // Everything else jose (or WebCrypto beneath it) rejects is a token we cannot read.
  return new AuthError('malformed', `malformed token: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
}

/** Compares through fixed-length digests so neither the content nor the length leaks through timing. */
function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

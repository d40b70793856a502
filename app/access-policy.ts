/**
 * The access policy: the one place that turns a credential into what its holder may do. MoQ
 * sessions get a RelayAccess decided once from their URL token (later per-request tokens are
 * verified here too); RTMP, WHIP, HLS and the operator API ask it their yes/no questions.
 * Protocol code only ever sees the capability, never the authenticator.
 */
import type { IncomingMessage } from 'node:http';
import {
  AuthError,
  Authenticator,
  bearerFrom,
  expiryTimer,
  loadSigningKey,
  splitCredential,
  tokenFrom,
  type AuthContext,
  type LoadedKey,
} from '../src/auth/index.ts';
import { HttpError } from '../src/http/server.ts';
import type { RelayAccess } from '../src/relay/index.ts';
import type { GatewayConfig } from './config.ts';
import type { Logger } from '../src/logger.ts';

/** A MoQ session's capability: its credential's grants, for as long as the credential lives. */
export class SessionAccess implements RelayAccess {
  constructor(
    private readonly context: AuthContext,
    private readonly auth: Authenticator,
  ) {}

  /** When the credential lapses (ms since the epoch); the session is closed then. */
  get expiresAt(): number | undefined {
    return this.context.expiresAt;
  }

  canPublish(path: string): boolean {
    return this.context.canPublish(path);
  }

  canSubscribe(path: string): boolean {
    return this.context.canSubscribe(path);
  }

  async withToken(token: Uint8Array): Promise<RelayAccess | undefined> {
    if (token.byteLength === 0) return this;
    return this.auth.verify(new TextDecoder().decode(token)).then(
      (context) => new SessionAccess(context, this.auth),
      () => undefined,
    );
  }
}

export class AccessPolicy {
  /** Set by load(): keys may be files to read. */
  #auth!: Authenticator;

  constructor(private readonly config: GatewayConfig) {}

  /** The authenticator itself, for /access/, which reports a token's grants as they are. */
  get authenticator(): Authenticator {
    return this.#auth;
  }

  get enabled(): boolean {
    return this.config.authKey !== '';
  }

  async load(logger: Logger): Promise<void> {
    this.#auth = await Authenticator.load({
      enabled: this.enabled,
      keys: this.enabled ? this.config.authKey : undefined,
      publicPrefixes: { publish: this.config.authPublicPublish, subscribe: this.config.authPublicSubscribe },
      streamKeys: this.config.authStreamKeys,
    });
    if (!this.enabled) {
      logger.warn('AUTHENTICATION IS OFF: anyone who can reach this server may publish and watch any broadcast. Set --auth-key to require tokens.');
      return;
    }
    const auth = this.#auth.describe();
    const open = (prefixes: readonly string[]) => (prefixes.length === 0 ? 'none' : prefixes.map((p) => p || '(everything)').join(', '));
    logger.warn(
      { auth },
      `AUTHENTICATION IS ON: tokens verified with ${auth.keys.join(', ')}; public publish: ${open(auth.publicPublish)}; public watch: ${open(auth.publicSubscribe)}; ${auth.streamKeys} static stream key(s)`,
    );
  }

  /** A MoQ session's access from the token in its URL (`?jwt=`). Throws AuthError when refused. */
  async session(url: URL): Promise<SessionAccess> {
    return new SessionAccess(await this.#auth.verify(tokenFrom(url)), this.#auth);
  }

  /** An RTMP publish of `broadcast` (stream key or JWT in the query). Throws AuthError when refused. */
  rtmpPublish(broadcast: string, query: URLSearchParams): Promise<AuthContext> {
    return this.#auth.authorizeRtmp(broadcast, query);
  }

  /** May a WHIP publisher with this Bearer credential publish `path`? */
  async whipPublish(path: string, bearer: string | undefined): Promise<boolean> {
    try {
      await this.#auth.authorizePublish(path, splitCredential(bearer));
      return true;
    } catch (error) {
      if (error instanceof AuthError) return false;
      throw error;
    }
  }

  /** May a WHEP player with this Bearer token watch `path` (the token's `get` scope)? */
  whepSubscribe(path: string, bearer: string | undefined): Promise<boolean> {
    return this.hlsSubscribe(path, bearer);
  }

  /** May this token watch `broadcast` over HLS? */
  async hlsSubscribe(broadcast: string, token: string | undefined): Promise<boolean> {
    if (!this.enabled) return true;
    const ctx = await this.#auth.verify(token).catch(() => undefined);
    return ctx?.canSubscribe(broadcast) ?? false;
  }

  /**
   * The API and dashboard data are for operators: with auth on they need a token granting
   * publish and subscribe on every path (`root: ''`, `put: ''`, `get: ''`), as Bearer or ?jwt=.
   */
  async operator(req: IncomingMessage): Promise<void> {
    if (!this.enabled) return;
    const token = bearerFrom(req.headers) ?? tokenFrom(new URL(req.url ?? '/', 'http://localhost'));
    let auth: AuthContext;
    try {
      auth = await this.#auth.verify(token);
    } catch (error) {
      throw new HttpError(error instanceof AuthError ? error.status : 401, (error as Error).message);
    }
    if (auth.anonymous || !auth.canPublish('') || !auth.canSubscribe('')) throw new HttpError(403, 'the API needs a token for every path');
  }

  /** Signs this node's tokens for its cluster peers, when auth is on. */
  async clusterSigningKey(): Promise<LoadedKey | undefined> {
    return this.enabled ? await loadSigningKey(this.config.authKey) : undefined;
  }

  /** A session lives no longer than its token (issue: an expired token disconnects). */
  closeOnExpiry(auth: Pick<AuthContext, 'expiresAt'>, close: () => void, ended?: Promise<unknown>): void {
    if (auth.expiresAt === undefined) return;
    const cancel = expiryTimer(auth, close);
    void ended?.finally(cancel);
  }
}

/** The HTTP status a refused credential gets (401/403), or 500 when verifying itself failed. */
export function refusalStatus(error: unknown): number {
  return error instanceof AuthError ? error.status : 500;
}

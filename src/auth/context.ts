import { normalizePath } from '../relay/path.ts';
import { coveredBy, publishPrefixes, subscribePrefixes, type Claims } from './claims.ts';

/** What one connection (MoQ session, WHIP or RTMP publisher) may do; decided once, when it connects. */
export interface AuthContext {
  /** Auth is disabled: everything is allowed (except paths guarded by a stream key). */
  readonly open: boolean;
  /** No token was presented; only the public prefixes (or open mode) apply. */
  readonly anonymous: boolean;
  readonly claims?: Claims;
  /** The peer is another gateway node (moq-token `cluster` claim). */
  readonly cluster: boolean;
  /** When the token lapses, in ms since the epoch (Date.now() scale); sessions are closed then. */
  readonly expiresAt?: number;
  /** Absolute prefixes granted ('' = everything); lets a session narrow announcements to what it may see. */
  readonly publishPrefixes: readonly string[];
  readonly subscribePrefixes: readonly string[];
  canPublish(path: string): boolean;
  canSubscribe(path: string): boolean;
}

interface Grant {
  open?: boolean;
  anonymous: boolean;
  claims?: Claims;
  publish: readonly string[];
  subscribe: readonly string[];
  /** Paths only their stream key may publish; a JWT grant is the operator's word and overrides it. */
  keyGuarded?: ReadonlySet<string>;
}

class GrantedContext implements AuthContext {
  readonly open: boolean;
  readonly anonymous: boolean;
  readonly claims?: Claims;
  readonly cluster: boolean;
  readonly expiresAt?: number;
  readonly publishPrefixes: readonly string[];
  readonly subscribePrefixes: readonly string[];
  readonly #keyGuarded: ReadonlySet<string>;

  constructor(grant: Grant) {
    this.open = grant.open ?? false;
    this.anonymous = grant.anonymous;
    if (grant.claims) this.claims = grant.claims;
    this.cluster = grant.claims?.cluster ?? false;
    if (grant.claims?.exp !== undefined) this.expiresAt = grant.claims.exp * 1000;
    this.publishPrefixes = dedupe(grant.publish);
    this.subscribePrefixes = dedupe(grant.subscribe);
    this.#keyGuarded = grant.keyGuarded ?? new Set();
  }

  canPublish(path: string): boolean {
    const normalized = normalizePath(path);
    return !this.#keyGuarded.has(normalized) && coveredBy(normalized, this.publishPrefixes);
  }

  canSubscribe(path: string): boolean {
    return coveredBy(path, this.subscribePrefixes);
  }
}

export interface PublicPrefixes {
  publish?: readonly string[];
  subscribe?: readonly string[];
}

/** Auth disabled: all paths, except those a stream key guards. */
export function openContext(keyGuarded: ReadonlySet<string>): AuthContext {
  return new GrantedContext({ open: true, anonymous: true, publish: [''], subscribe: [''], keyGuarded });
}

/** No token: the public prefixes only. */
export function anonymousContext(publicPrefixes: PublicPrefixes, keyGuarded: ReadonlySet<string>): AuthContext {
  return new GrantedContext({ anonymous: true, publish: normalized(publicPrefixes.publish), subscribe: normalized(publicPrefixes.subscribe), keyGuarded });
}

/** A verified token: its grants, plus whatever is public anyway. */
export function tokenContext(claims: Claims, publicPrefixes: PublicPrefixes): AuthContext {
  return new GrantedContext({
    anonymous: false,
    claims,
    publish: [...publishPrefixes(claims), ...normalized(publicPrefixes.publish)],
    subscribe: [...subscribePrefixes(claims), ...normalized(publicPrefixes.subscribe)],
  });
}

/** A matching stream key: publish that one broadcast (an RTMP or WHIP ingest), nothing else. */
export function streamKeyContext(path: string): AuthContext {
  return new GrantedContext({ anonymous: false, publish: [normalizePath(path)], subscribe: [] });
}

function normalized(prefixes: readonly string[] | undefined): string[] {
  return (prefixes ?? []).map(normalizePath);
}

function dedupe(prefixes: readonly string[]): string[] {
  return [...new Set(prefixes)];
}

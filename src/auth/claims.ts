import { hasPrefix, joinPath, normalizePath } from '../relay/path.ts';
import { AuthError } from './errors.ts';

/**
 * The JWT claims of a moq-token (moq.dev's relay auth), so tokens minted by either tool work on both.
 * `put`/`get` are broadcast path prefixes relative to `root`; '' grants everything under `root`;
 * an absent `put` (or `get`) grants no publishing (or subscribing). Times are unix seconds.
 */
export interface Claims {
  root: string;
  put?: string | string[];
  get?: string | string[];
  /** The bearer is another gateway node (node-to-node subscriptions), not an end user. */
  cluster?: boolean;
  exp?: number;
  iat?: number;
}

/** Absolute broadcast prefixes the token lets its bearer publish under. */
export function publishPrefixes(claims: Claims): string[] {
  return absolutePrefixes(claims.root, claims.put);
}

/** Absolute broadcast prefixes the token lets its bearer subscribe (and list announcements) under. */
export function subscribePrefixes(claims: Claims): string[] {
  return absolutePrefixes(claims.root, claims.get);
}

export function canPublish(claims: Claims, path: string): boolean {
  return coveredBy(path, publishPrefixes(claims));
}

export function canSubscribe(claims: Claims, path: string): boolean {
  return coveredBy(path, subscribePrefixes(claims));
}

/** Whether `path` lies under one of `prefixes`, by whole segments: `live` covers `live/demo`, not `lively`. */
export function coveredBy(path: string, prefixes: readonly string[]): boolean {
  const normalized = normalizePath(path);
  return prefixes.some((prefix) => hasPrefix(normalized, normalizePath(prefix)));
}

/**
 * Checks a verified JWT payload has the moq-token shape. Extra claims (iss, sub, …) are ignored;
 * a token granting neither put nor get is refused, as moq-token does, since it can only be a mistake.
 */
export function parseClaims(payload: unknown): Claims {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) throw malformed('payload is not a JSON object');
  const raw = payload as Record<string, unknown>;
  const root = raw.root ?? '';
  if (typeof root !== 'string') throw malformed('"root" must be a string');
  const claims: Claims = { root };
  const put = grant(raw.put, 'put');
  const get = grant(raw.get, 'get');
  if (put !== undefined) claims.put = put;
  if (get !== undefined) claims.get = get;
  if (raw.cluster !== undefined) {
    if (typeof raw.cluster !== 'boolean') throw malformed('"cluster" must be true or false');
    claims.cluster = raw.cluster;
  }
  for (const time of ['exp', 'iat'] as const) {
    const value = raw[time];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value)) throw malformed(`"${time}" must be a unix time in seconds`);
    claims[time] = value;
  }
  if (publishPrefixes(claims).length === 0 && subscribePrefixes(claims).length === 0) {
    throw malformed('token grants neither "put" nor "get"');
  }
  return claims;
}

function grant(value: unknown, name: string): string | string[] | undefined {
  if (value === undefined || typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string')) return value as string[];
  throw malformed(`"${name}" must be a path prefix or a list of them`);
}

function absolutePrefixes(root: string, relative: string | string[] | undefined): string[] {
  if (relative === undefined) return [];
  const list = typeof relative === 'string' ? [relative] : relative;
  return list.map((prefix) => joinPath(normalizePath(root), prefix));
}

function malformed(detail: string): AuthError {
  return new AuthError('malformed', `malformed token: ${detail}`);
}

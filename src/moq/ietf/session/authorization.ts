/**
 * AUTHORIZATION TOKEN handling (draft-16 §9.2.1.1): token aliases registered by the peer, bounded
 * by the MAX_AUTH_TOKEN_CACHE_SIZE we advertised, and the gateway's `authorize` decision (or a
 * session's RelayAccess as one, authorizeWith).
 */
import type { RelayAccess } from '../../../relay/access.ts';
import { IetfProtocolError, SessionErrorCode } from '../errors.ts';
import type { AuthToken } from '../wire/token.ts';
import type { Authorize, AuthorizeAction } from './options.ts';

/** Each registered token costs 16 bytes plus its value (§9.3.2.4). */
const ENTRY_OVERHEAD = 16;

export interface ResolvedTokens {
  values: Uint8Array[];
  /** A USE_ALIAS named an alias that is not registered: the request must be refused. */
  unknownAlias: boolean;
}

export class AuthTokenCache {
  readonly #entries = new Map<bigint, Uint8Array>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  /**
   * Applies the registrations and deletions a message carries and returns the values it offers.
   * `inSetup`: registrations that do not fit are used once instead (§9.3.2.5), and DELETE /
   * USE_ALIAS are protocol violations.
   */
  resolve(tokens: readonly AuthToken[], inSetup = false): ResolvedTokens {
    const values: Uint8Array[] = [];
    let unknownAlias = false;
    for (const token of tokens) {
      switch (token.aliasType) {
        case 'useValue':
          values.push(token.value);
          break;
        case 'register': {
          values.push(token.value);
          const cost = ENTRY_OVERHEAD + token.value.byteLength;
          if (this.#bytes + cost > this.maxBytes) {
            if (inSetup) break;
            throw new IetfProtocolError(SessionErrorCode.authTokenCacheOverflow, 'authorization token cache overflow');
          }
          if (this.#entries.has(token.alias)) {
            throw new IetfProtocolError(SessionErrorCode.duplicateAuthTokenAlias, `token alias ${token.alias} is already registered`);
          }
          this.#entries.set(token.alias, token.value);
          this.#bytes += cost;
          break;
        }
        case 'useAlias':
        case 'delete': {
          if (inSetup) throw new IetfProtocolError(SessionErrorCode.protocolViolation, `${token.aliasType} in CLIENT_SETUP`);
          const value = this.#entries.get(token.alias);
          if (value === undefined) {
            if (token.aliasType === 'useAlias') unknownAlias = true;
            else throw new IetfProtocolError(SessionErrorCode.unknownAuthTokenAlias, `token alias ${token.alias} is not registered`);
            break;
          }
          if (token.aliasType === 'useAlias') values.push(value);
          else {
            this.#entries.delete(token.alias);
            this.#bytes -= ENTRY_OVERHEAD + value.byteLength;
          }
          break;
        }
      }
    }
    return { values, unknownAlias };
  }
}

/**
 * Whether any offered token (request tokens first, then the session's) authorizes `action` on
 * `path`. Without an `authorize` callback everything is allowed.
 */
export async function isAuthorized(
  authorize: Authorize | undefined,
  action: AuthorizeAction,
  path: string,
  requestTokens: readonly Uint8Array[],
  sessionTokens: readonly Uint8Array[],
): Promise<boolean> {
  if (!authorize) return true;
  const candidates = requestTokens.length > 0 ? requestTokens : sessionTokens;
  if (candidates.length === 0) return await authorize(action, path, undefined);
  for (const token of candidates) if (await authorize(action, path, token)) return true;
  return false;
}

/**
 * `access` as an Authorize: the session's own access decides unless a request carries a
 * credential of its own, which then decides alone. Synchronous when no token is involved.
 */
export function authorizeWith(access: RelayAccess): Authorize {
  const allowed = (granted: RelayAccess | undefined, action: AuthorizeAction, path: string): boolean =>
    granted !== undefined && (action === 'publish' ? granted.canPublish(path) : granted.canSubscribe(path));
  return (action, path, token) => {
    if (!token || token.byteLength === 0) return allowed(access, action, path);
    return access.withToken(token).then((granted) => allowed(granted, action, path));
  };
}

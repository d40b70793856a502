/**
 * Tokens one node shows another (`?jwt=` on the node-to-node connection): a moq-token JWT with
 * `cluster: true` granting subscribe on every path (a node only ever subscribes to another),
 * signed with the cluster's shared key. Minted once and reused.
 *
 * No expiry by default: the receiving node closes a session when its token lapses, which would
 * cut every viewer relayed over that connection; revoke by rotating the key instead. With
 * `lifetimeS`, tokens expire and a new one is minted for connections opened within a minute of it.
 */
import { mintToken } from '../auth/mint.ts';
import type { LoadedKey } from '../auth/keys.ts';

const RENEW_BEFORE_S = 60;

/** A `nodeToken` source for startCluster. */
export function nodeTokenSource(key: LoadedKey, lifetimeS?: number, now: () => number = Date.now): () => Promise<string> {
  let cached: { token: string; expiresAt: number | undefined } | undefined;
  return async () => {
    const nowS = Math.floor(now() / 1000);
    if (cached && (cached.expiresAt === undefined || cached.expiresAt - RENEW_BEFORE_S > nowS)) return cached.token;
    const expiresAt = lifetimeS === undefined ? undefined : nowS + lifetimeS;
    const token = await mintToken(key, { root: '', get: '', cluster: true, expiresAt }, now());
    cached = { token, expiresAt };
    return token;
  };
}

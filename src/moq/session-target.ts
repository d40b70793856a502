/**
 * The request target of a MoQ session on raw QUIC. WebTransport and WebSocket sessions have a
 * URL; raw QUIC negotiates only an ALPN, so the client names the path - and the query that
 * carries its token (`?jwt=`) - in CLIENT_SETUP's PATH parameter (draft-ietf-moq-transport-16
 * §9.3.2 "PATH", the same parameter in draft-14 and in moq-lite's `moql` compat SETUP).
 * moq-lite-03/04 open with no SETUP at all: they keep the server's default path.
 */
import { MoqProtocolName } from '../moq-protocols.ts';
import type { IetfVersion } from './ietf/version.ts';
import { peekClientSetup } from './setup-peek.ts';
import type { ReceivedClientSetup } from './ietf/index.ts';
import { ProtocolError } from '../wire/errors.ts';

export interface SessionTarget {
  /** The session to run (without the stream of `setup`, when it was read). */
  transport: WebTransport;
  url: URL;
  /** The CLIENT_SETUP, read and decoded, for the session that answers it (not read again). */
  setup?: ReceivedClientSetup;
}

/** Protocols whose session opens with CLIENT_SETUP, and its body layout. */
const SETUP_LAYOUT: Readonly<Record<string, IetfVersion>> = {
  '': 'draft-14',
  [MoqProtocolName.compat]: 'draft-14',
  [MoqProtocolName.ietf14]: 'draft-14',
  [MoqProtocolName.ietf16]: 'draft-16',
};

/** Longer than any path a client needs; the token dominates (a few hundred bytes). */
const MAX_PATH_CHARS = 8192;

export async function rawQuicTarget(transport: WebTransport, protocol: string, base: URL, timeoutMs: number): Promise<SessionTarget> {
  const layout = SETUP_LAYOUT[protocol];
  if (!layout) return { transport, url: base };
  const peeked = await peekClientSetup(transport, timeoutMs, layout);
  return { transport: peeked.transport, url: withPath(base, peeked.path), setup: peeked.setup };
}

/**
 * `base` with the path and query of a PATH parameter (`path-abempty ["?" query]`). Empty or
 * absent keeps the default path; anything that is not an absolute path is refused, so a value
 * such as `//host/x` cannot change the authority.
 */
export function withPath(base: URL, path: string | undefined): URL {
  if (path === undefined || path === '') return base;
  if (path.length > MAX_PATH_CHARS) throw new ProtocolError('invalid-value', `PATH of ${path.length} characters`);
  if (!path.startsWith('/') || path.startsWith('//') || path.includes('#')) {
    throw new ProtocolError('invalid-value', `PATH "${path.slice(0, 64)}" is not an absolute path with an optional query`);
  }
  const url = new URL(base);
  const query = path.indexOf('?');
  url.pathname = query === -1 ? path : path.slice(0, query);
  url.search = query === -1 ? '' : path.slice(query);
  return url;
}

/**
 * Dials a MoQ server over WebSocket with QMux framing (draft-lcurley-qmux-websocket): every
 * MoQ protocol we offer is paired with every QMux draft (`qmux-02.moq-lite-04`, ...), the server
 * picks one pair, and @moq/qmux runs the client half of the framing over a `ws` socket. The
 * result is a WebTransport-shaped session whose `protocol` is the MoQ protocol chosen.
 */
import QmuxSession from '@moq/qmux';
import { WebSocket } from 'ws';
import type { WebTransportLike } from './web-transport.ts';

/** QMux drafts, most preferred first (the server decides among what we offer). */
const QMUX_DRAFTS = ['qmux-02', 'qmux-01', 'qmux-00'] as const;

/** Largest WebSocket message accepted (one QMux record). */
const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

/** A connected session and the MoQ protocol negotiated for it ('' = decided by SETUP). */
export interface DialedTransport extends WebTransportLike {
  readonly protocol: string;
}

export class LiteConnectError extends Error {
  override readonly name = 'LiteConnectError';
}

/** The `Sec-WebSocket-Protocol` list for these MoQ protocols. */
function webSocketSubprotocols(protocols: readonly string[]): string[] {
  return protocols.flatMap((protocol) => QMUX_DRAFTS.map((draft) => `${draft}.${protocol}`));
}

/** Opens the WebSocket and waits until the QMux session is ready; LiteConnectError otherwise. */
export async function dialWebSocket(url: URL, protocols: readonly string[], timeoutMs: number): Promise<DialedTransport> {
    const wsUrl = new URL(url);
  if (wsUrl.protocol === 'http:') wsUrl.protocol = 'ws:';
  else if (wsUrl.protocol === 'https:') wsUrl.protocol = 'wss:';
  else if (wsUrl.protocol !== 'ws:' && wsUrl.protocol !== 'wss:') throw new LiteConnectError(`cannot dial ${url.protocol} URLs over WebSocket`);
  const socket = new WebSocket(wsUrl, webSocketSubprotocols(protocols), {
    perMessageDeflate: false,
    maxPayload: MAX_PAYLOAD_BYTES,
    handshakeTimeout: timeoutMs,
  });
  // The QMux session reports failures through `ready`/`closed`, without the reason; keep it
  // (e.g. "Unexpected server response: 401") and keep `ws` from throwing.
  let socketError: string | undefined;
  socket.on('error', (error: Error) => {
    socketError ??= error.message;
  });
  const session = new QmuxSession(socket as unknown as ConstructorParameters<typeof QmuxSession>[0]);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LiteConnectError(`no WebSocket session with ${redact(wsUrl)} within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([session.ready, timeout]);
  } catch (error) {
    session.close();
    socket.terminate();
    if (error instanceof LiteConnectError) throw error;
    throw new LiteConnectError(`cannot connect to ${redact(wsUrl)}: ${socketError ?? describe(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
  return session;
}

/** The URL without its query (it may carry a token), for messages and logs. */
export function redact(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
  return String(error);
}


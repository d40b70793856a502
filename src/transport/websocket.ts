import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { type ServerOptions, WebSocketServer, type WebSocket } from 'ws';
import type { MoqProtocol } from '../moq-protocols.ts';
import { QmuxServerSession } from './qmux/session.ts';
import { chooseSubprotocol } from './subprotocol.ts';

/** How long a closed WebSocket's peer may keep its TCP side open (RFC 6455 §7.1.1: the server closes first). */
const CLOSE_GRACE_MS = 1000;

/** `Peer`: what the caller verified of the peer before accepting; the transport only carries it. */
export interface TransportSessionInfo<Peer = unknown> {
  /** Negotiated MoQ protocol ('' = decided by SETUP). */
  protocol: MoqProtocol;
  url: URL;
  remoteAddress: string;
  /** `websocket/qmux-02`, `websocket/webtransport`, `webtransport`, `quic` — for logs and metrics. */
  transport: string;
  /** Who the peer is, verified before the session was accepted. */
  auth?: Peer;
}

export type SessionHandler<Peer = unknown> = (session: WebTransport, info: TransportSessionInfo<Peer>) => void;

export interface WebSocketAcceptorOptions<Peer = unknown> {
  onSession: SessionHandler<Peer>;
  /** Largest WebSocket message accepted (a QMux/web-transport-ws frame). */
  maxPayloadBytes?: number;
}

/**
 * MoQ over WebSocket on the HTTP port: the client's subprotocol picks the framing (QMux drafts
 * or the older web-transport-ws) and the MoQ protocol; our QMux server (./qmux/session.ts) turns
 * the socket into a WebTransport-shaped session (with push streams for the fan-out path) so the
 * MoQ session layers run unchanged on any transport.
 */
export class WebSocketAcceptor<Peer = unknown> {
  readonly #wss: WebSocketServer;

  constructor(private readonly options: WebSocketAcceptorOptions<Peer>) {
    // `closeTimeout` (ws 8.18+, not in @types/ws yet): after we close, how long the peer may take
    // to end its side before ws destroys the socket (default 30 s); by then the session has sent
    // its CONNECTION_CLOSE and the close frame.
    const serverOptions: ServerOptions & { closeTimeout: number } = {
      noServer: true,
      maxPayload: options.maxPayloadBytes ?? 16 * 1024 * 1024,
      perMessageDeflate: false,
      closeTimeout: CLOSE_GRACE_MS,
      // The upgrade handler has already chosen; echo it.
      handleProtocols: (_offered, req) => (req as RequestWithChoice).moqWire ?? false,
    };
    this.#wss = new WebSocketServer(serverOptions);
  }

  /** Accept a MoQ WebSocket; `auth` is what the caller verified of the peer beforehand. */
  handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, auth?: Peer): void {
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',');
    const choice = chooseSubprotocol(offered);
    if (!choice) return rejectUpgrade(socket, 400, 'no supported MoQ WebSocket subprotocol offered');
    (req as RequestWithChoice).moqWire = choice.wire;
    this.#wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      ws.on('error', () => ws.terminate());
      // Our own QMux server (./qmux/): `ws` did the handshake and parses the client's frames;
      // the session writes its frames to the socket itself.
      const session = new QmuxServerSession(ws, socket, choice.framing, choice.protocol);
      const url = new URL(req.url ?? '/', 'http://localhost');
      this.options.onSession(session as unknown as WebTransport, {
        protocol: choice.protocol,
        url,
        remoteAddress: req.socket.remoteAddress ?? '',
        transport: `websocket/${choice.framing}`,
        auth,
      });
    });
  }

  close(): void {
    for (const client of this.#wss.clients) client.terminate();
    this.#wss.close();
  }
}

interface RequestWithChoice extends http.IncomingMessage {
  moqWire?: string;
}

export function rejectUpgrade(socket: Duplex, status: number, message: string): void {
  socket.end(`HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * The QUIC listener on UDP port P: one socket, our own connection-ID table, and per-connection
 * dispatch by ALPN (`h3` → HTTP/3 + WebTransport, a MoQ ALPN → raw QUIC session). New
 * connections are accepted from client Initial packets of at least 1200 bytes (RFC 9000
 * §14.1); unsupported versions get a Version Negotiation packet (§6). Dev certificates that
 * renew swap in a new quiche config for new connections.
 */
import { randomBytes } from 'node:crypto';
import type { TlsMaterial } from '../tls/tls-material.ts';
import { H3ErrorCode } from '../h3/h3-errors.ts';
import { Http3Connection } from '../h3/http3-connection.ts';
import { serveRequestStream, type HttpRequest, type HttpResponse, type WebTransportRequest } from '../h3/server-request.ts';
import { MOQ_PROTOCOLS } from '../../moq-protocols.ts';
import { H3_ALPN } from './alpn.ts';
import {
  DEFAULT_MAX_UDP_PAYLOAD,
  MAX_CONN_ID_LEN,
  MIN_CLIENT_INITIAL_LEN,
  PacketType,
  acceptNative,
  isVersionSupported,
  parseLongHeader,
  writeVersionNegotiation,
  type HostPort,
  type NativeConfig,
} from './native-quiche.ts';
import { connectionIdKey, destinationConnectionId, isLongHeader } from './packet-header.ts';
import { serverConfig, type TransportParameters } from './quic-config.ts';
import { QuicConnection, READ_BUFFER_BYTES } from './quic-connection.ts';
import { createRawQuicSession } from './raw-session.ts';
import { steeringOwner, type QuicSteering } from './steering.ts';
import { ServiceQueue } from './service-queue.ts';
import type { WebTransportSession } from './session-types.ts';
import { UdpEndpoint } from './udp-endpoint.ts';

export interface SessionInfo {
  /** Negotiated WebTransport subprotocol ('' if none) or raw QUIC ALPN. */
  readonly protocol: string;
  /** Request URL for WebTransport; `https://<sni or host>:<port>/` for raw QUIC (no path: root ''). */
  readonly url: URL;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly transport: 'webtransport' | 'quic';
  /** Origin header of a browser's WebTransport request. */
  readonly origin?: string;
}

export interface QuicServerOptions {
  readonly host: string;
  readonly port: number;
  readonly tls: TlsMaterial;
  readonly onSession: (session: WebTransportSession, info: SessionInfo) => void;
  /** Non-CONNECT HTTP/3 requests; without it they get 404. */
  readonly onRequest?: (request: HttpRequest) => HttpResponse | Promise<HttpResponse>;
  /** Vet a WebTransport request before accepting it: return an HTTP status to refuse it. */
  readonly authorize?: (request: WebTransportRequest) => number | undefined | Promise<number | undefined>;
  /** WebTransport subprotocols and raw QUIC ALPNs we serve. Default MOQ_PROTOCOLS. */
  readonly protocols?: readonly string[];
  readonly maxConnections?: number;
  readonly maxSessionsPerConnection?: number;
  readonly handshakeTimeoutMs?: number;
  readonly idleTimeoutMs?: number;
  /** PING interval for established connections. Default: a third of the idle timeout. */
  readonly keepAliveMs?: number;
  readonly transport?: TransportParameters;
  /** SO_REUSEPORT: other processes serve the same port (`--workers N`). */
  readonly reusePort?: boolean;
  /** With reusePort: hand packets of connections another process owns to it (steering.ts). */
  readonly steering?: QuicSteering;
}

export interface QuicServer {
  readonly port: number;
  readonly connections: number;
  /** A packet another process got for a connection of ours (steering.ts); never forwarded again. */
  receiveForwarded(packet: Uint8Array, from: HostPort): void;
  close(): Promise<void>;
}

/** An HTTP/3 connection with no WebTransport session left is closed after this long. */
const SESSIONLESS_LINGER_MS = 5000;

export async function startQuicServer(options: QuicServerOptions): Promise<QuicServer> {
  const protocols = options.protocols ?? MOQ_PROTOCOLS;
  const alpns = [H3_ALPN, ...protocols];
  const idleTimeoutMs = options.idleTimeoutMs ?? 30_000;
  const transport: TransportParameters = { ...options.transport, idleTimeoutMs };
  const keepAliveMs = options.keepAliveMs ?? (idleTimeoutMs > 0 ? Math.floor(idleTimeoutMs / 3) : undefined);
  let config: NativeConfig = serverConfig(options.tls.certPem, options.tls.keyPem, alpns, transport);
  const stopRenewals = options.tls.onRenew?.((next) => {
    config = serverConfig(next.certPem, next.keyPem, alpns, transport);
  });

  const endpoint = await UdpEndpoint.bind({ host: options.host, port: options.port, reusePort: options.reusePort });
  const steering = options.steering;
  const queue = new ServiceQueue();
  const readBuffer = new Uint8Array(READ_BUFFER_BYTES);
  const byConnectionId = new Map<string, QuicConnection>();
  const keysOf = new Map<QuicConnection, string[]>();
  let closing = false;

  const sessionInfo = (connection: QuicConnection, protocol: string): SessionInfo => {
    const host = connection.serverName ?? (endpoint.local.host.includes(':') ? `[${endpoint.local.host}]` : endpoint.local.host);
    return {
      protocol,
      url: new URL(`https://${host}:${endpoint.local.port}/`),
      remoteAddress: connection.remote.host.replace(/^::ffff:/, ''),
      remotePort: connection.remote.port,
      transport: 'quic',
    };
  };

  const onEstablished = (connection: QuicConnection): void => {
    const alpn = connection.alpn;
    if (alpn === H3_ALPN) {
      let linger: NodeJS.Timeout | undefined;
      new Http3Connection(connection, {
        onRequestStream: (http3, stream, preamble, fin) => {
          clearTimeout(linger);
          serveRequestStream(http3, stream, preamble, fin, {
            protocols,
            maxSessionsPerConnection: options.maxSessionsPerConnection ?? 16,
            authorize: options.authorize,
            onRequest: options.onRequest,
            onSession: (session, request) =>
              options.onSession(session, {
                protocol: request.protocol,
                url: request.url,
                remoteAddress: request.remoteAddress,
                remotePort: request.remotePort,
                transport: 'webtransport',
                origin: request.origin,
              }),
          });
        },
        onSessionEnded: (http3) => {
          if (http3.sessionCount > 0) return;
          clearTimeout(linger);
          linger = setTimeout(() => {
            if (http3.sessionCount === 0) connection.close(true, H3ErrorCode.NoError, 'no sessions');
          }, SESSIONLESS_LINGER_MS);
          linger.unref();
        },
      });
      return;
    }
    const session = createRawQuicSession(connection);
    session.markReady(alpn);
    options.onSession(session, sessionInfo(connection, alpn));
  };

  const forget = (connection: QuicConnection): void => {
    for (const key of keysOf.get(connection) ?? []) if (byConnectionId.get(key) === connection) byConnectionId.delete(key);
    keysOf.delete(connection);
  };

  const accept = (packet: Uint8Array, from: HostPort): void => {
    if (closing) return;
    let header: ReturnType<typeof parseLongHeader>;
    try {
      header = parseLongHeader(packet, MAX_CONN_ID_LEN);
    } catch {
      return;
    }
    if (!isVersionSupported(header.version)) {
      if (packet.byteLength < MIN_CLIENT_INITIAL_LEN) return;
      const out = new Uint8Array(DEFAULT_MAX_UDP_PAYLOAD);
      const length = writeVersionNegotiation(header.scid, header.dcid, out);
      endpoint.send(out.subarray(0, length), from);
      return;
    }
    if (header.ty !== PacketType.Initial || packet.byteLength < MIN_CLIENT_INITIAL_LEN) return;
    // At capacity: drop new handshakes without spending state on them (the client times out).
    if (options.maxConnections !== undefined && keysOf.size >= options.maxConnections) return;
    const scid = randomBytes(MAX_CONN_ID_LEN);
    if (steering) scid[0] = steering.self;
    const connection = new QuicConnection({
      native: acceptNative(scid, null, endpoint.local, from, config),
      role: 'server',
      local: endpoint.local,
      remote: from,
      queue,
      packets: endpoint,
      readBuffer,
      maxUdpPayload: DEFAULT_MAX_UDP_PAYLOAD,
      onEstablished,
      onFinished: forget,
      keepAliveMs,
      handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    });
    // Until the client switches to our CID, its packets carry the DCID it chose (RFC 9000 §7.2).
    const keys = [connectionIdKey(scid), connectionIdKey(header.dcid)];
    for (const key of keys) byConnectionId.set(key, connection);
    keysOf.set(connection, keys);
    connection.receive(packet, from);
  };

  const dispatch = (packet: Uint8Array, from: HostPort, forwarded: boolean): void => {
    const dcid = destinationConnectionId(packet, MAX_CONN_ID_LEN);
    if (!dcid) return;
    const connection = byConnectionId.get(connectionIdKey(dcid));
    if (connection) return connection.receive(packet, from);
    if (forwarded) return;
    const owner = steering && steeringOwner(packet, dcid, MAX_CONN_ID_LEN);
    if (owner !== undefined && owner !== steering!.self) steering!.forward(owner, packet, from);
    else if (isLongHeader(packet)) accept(packet, from);
  };
  endpoint.onPacket = (packet, from) => dispatch(packet, from, false);

  return {
    get port() {
      return endpoint.local.port;
    },
    get connections() {
      return keysOf.size;
    },
    receiveForwarded: (packet, from) => dispatch(packet, from, true),
    async close() {
      if (closing) return;
      closing = true;
      stopRenewals?.();
      const connections = [...keysOf.keys()];
      for (const connection of connections) connection.close(true, connection.alpn === H3_ALPN ? H3ErrorCode.NoError : 0, 'server shutting down');
      // Give CONNECTION_CLOSE a moment to go out and the draining period to end.
      const drained = Promise.all(connections.map((connection) => connection.closed));
      await Promise.race([drained, new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
      await endpoint.close();
    },
  };
}

/**
 * WebTransport over HTTP/3 client for Node (tests, node-to-node links): one QUIC connection
 * per session, like a browser without pooling. The result can be passed to @moq/lite's
 * `connect(url, { transport })`.
 */
import { H3_ALPN } from '../quic/alpn.ts';
import { dial, type CertificateHash } from '../quic/dial.ts';
import type { TransportParameters } from '../quic/quic-config.ts';
import type { WebTransportSession } from '../quic/session-types.ts';
import { H3ErrorCode } from './h3-errors.ts';
import { Http3Connection } from './http3-connection.ts';
import { requestSession } from './client-session.ts';

export interface ConnectWebTransportOptions {
  /** Subprotocols for `wt-available-protocols`, most preferred first. */
  readonly protocols?: readonly string[];
  readonly serverCertificateHashes?: readonly CertificateHash[];
  readonly ca?: string;
  /** Origin header to send (browsers always do). */
  readonly origin?: string;
  readonly transport?: TransportParameters;
  readonly handshakeTimeoutMs?: number;
  readonly keepAliveMs?: number;
}

/** After our close, how long to wait for the server's FIN before closing the connection. */
const CLOSE_GRACE_MS = 1000;

export async function connectWebTransport(url: string | URL, options: ConnectWebTransportOptions = {}): Promise<WebTransportSession> {
  const target = new URL(url);
  const connection = await dial(target, { ...options, alpns: [H3_ALPN] });
  const http3 = new Http3Connection(connection, {
    onSessionEnded: (_http3, link) => {
      // The connection exists for this one session: once the CONNECT stream is done on both
      // sides (or after a grace period), close it (draft §6: CONNECTION_CLOSE after the FINs).
      const timer = setTimeout(() => connection.close(true, H3ErrorCode.NoError, ''), CLOSE_GRACE_MS);
      timer.unref();
      void link.peerDone.then(() => {
        clearTimeout(timer);
        connection.close(true, H3ErrorCode.NoError, '');
      });
    },
  });
  connection.schedule();
  try {
    const link = await requestSession(http3, {
      authority: target.host,
      path: `${target.pathname}${target.search}`,
      origin: options.origin,
      protocols: options.protocols,
    });
    await link.session.ready;
    return link.session;
  } catch (error) {
    connection.close(true, H3ErrorCode.RequestCancelled, 'session not established');
    throw error;
  }
}

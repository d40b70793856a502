/**
 * A raw QUIC connection (ALPN moq-lite-04, moqt-16, ...) presented as a WebTransport-shaped
 * session: every QUIC stream and datagram belongs to the one session, stream error codes pass
 * through unchanged, and closing the session closes the connection (CONNECTION_CLOSE 0x1d).
 */
import type { QuicConnection } from './quic-connection.ts';
import type { SessionCarrier } from './session-types.ts';
import { WebTransportError } from './webtransport-error.ts';
import { QuicWebTransportSession } from './webtransport-session.ts';

export function createRawQuicSession(connection: QuicConnection, options: { receiveHighWaterMark?: number } = {}): QuicWebTransportSession {
  const carrier: SessionCarrier = {
    receiveHighWaterMark: options.receiveHighWaterMark,
    openStream: async (bidirectional) => ({ stream: await connection.openStreamWhenAllowed(bidirectional) }),
    sendDatagram: (payload) => connection.sendDatagram(payload),
    maxDatagramSize: () => connection.maxDatagramPayload,
    stats: () => connection.stats(),
    close: (code, reason) => connection.close(true, code, reason),
    drain: () => {},
    sessionGoneCode: undefined,
    toWireCode: (code) => code,
    fromWireCode: (code) => code,
  };
  const session = new QuicWebTransportSession(carrier, 'quic');
  connection.handler = {
    onStream: (stream) => session.deliverStream(stream),
    onDatagram: (payload) => session.deliverDatagram(payload),
    onClosed: (info) => {
      // An application close, or a transport close without error, is the clean end of a session.
      if (info.isApplication || (info.code === 0 && info.initiator !== 'timeout')) {
        session.markClosed({ closeCode: info.code, reason: info.reason });
      } else {
        session.markFailed(new WebTransportError(`QUIC connection lost (${info.initiator}, code 0x${info.code.toString(16)}${info.reason ? `: ${info.reason}` : ''})`, { source: 'session' }));
      }
    },
  };
  return session;
}

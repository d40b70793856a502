/**
 * Raw QUIC client: connects with the given ALPN(s) and returns the connection as a
 * WebTransport-shaped session whose `protocol` is the negotiated ALPN.
 */
import { dial, type CertificateHash } from './dial.ts';
import type { TransportParameters } from './quic-config.ts';
import { createRawQuicSession } from './raw-session.ts';
import type { WebTransportSession } from './session-types.ts';

export interface ConnectQuicOptions {
  /** ALPN(s) to offer, most preferred first. */
  readonly alpn: string | readonly string[];
  readonly serverCertificateHashes?: readonly CertificateHash[];
  /** PEM CA bundle (used when no hashes are given). */
  readonly ca?: string;
  readonly transport?: TransportParameters;
  readonly handshakeTimeoutMs?: number;
  readonly keepAliveMs?: number;
  /** Bytes each receive stream pulls ahead of its reader (default 256 KiB; 0 = only on read). */
  readonly receiveHighWaterMark?: number;
}

export async function connectQuic(url: string | URL, options: ConnectQuicOptions): Promise<WebTransportSession> {
  const alpns = typeof options.alpn === 'string' ? [options.alpn] : [...options.alpn];
  const connection = await dial(new URL(url), { ...options, alpns });
  const session = createRawQuicSession(connection, { receiveHighWaterMark: options.receiveHighWaterMark });
  session.markReady(connection.alpn);
  connection.schedule(); // dispatch anything that arrived before the handler was attached
  return session;
}

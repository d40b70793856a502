/**
 * Client connection setup shared by raw QUIC and WebTransport: resolve the host, bind a UDP
 * socket connected to the server, run the handshake and check the server certificate, either
 * against `serverCertificateHashes` (W3C WebTransport semantics: SHA-256 of the leaf DER) or
 * through BoringSSL against a CA bundle.
 */
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { clientConfig, type TransportParameters } from './quic-config.ts';
import { QuicConnection, READ_BUFFER_BYTES } from './quic-connection.ts';
import { QuicTransportError } from './quic-errors.ts';
import { DEFAULT_MAX_UDP_PAYLOAD, MAX_CONN_ID_LEN, connectNative } from './native-quiche.ts';
import { ServiceQueue } from './service-queue.ts';
import { UdpEndpoint } from './udp-endpoint.ts';

export interface CertificateHash {
  readonly algorithm: string;
  readonly value: BufferSource | string;
}

export interface DialOptions {
  /** ALPN protocols to offer, in preference order. */
  readonly alpns: readonly string[];
  /** Accept the server only if its leaf certificate hashes to one of these (sha-256). */
  readonly serverCertificateHashes?: readonly CertificateHash[];
  /** PEM CA bundle to verify the server chain against (when no hashes are given). */
  readonly ca?: string;
  readonly transport?: TransportParameters;
  readonly handshakeTimeoutMs?: number;
  readonly keepAliveMs?: number;
}

/** TLS alert bad_certificate (42) as a QUIC CRYPTO_ERROR (RFC 9001 §4.8). */
const BAD_CERTIFICATE = 0x100 + 42;

function hashHex(hash: CertificateHash): string | undefined {
  if (hash.algorithm.toLowerCase() !== 'sha-256') return undefined;
  if (typeof hash.value === 'string') return hash.value.replace(/[^0-9a-f]/gi, '').toLowerCase();
  const bytes = ArrayBuffer.isView(hash.value) ? new Uint8Array(hash.value.buffer, hash.value.byteOffset, hash.value.byteLength) : new Uint8Array(hash.value);
  return Buffer.from(bytes).toString('hex');
}

function verifyPeer(connection: QuicConnection, host: string, options: DialOptions): string | undefined {
  const leaf = connection.native.peerCertChain()?.[0];
  if (!leaf) return 'server sent no certificate';
  if (options.serverCertificateHashes && options.serverCertificateHashes.length > 0) {
    const actual = createHash('sha256').update(leaf).digest('hex');
    const accepted = options.serverCertificateHashes.map(hashHex);
    return accepted.includes(actual) ? undefined : `certificate hash ${actual} is not among serverCertificateHashes`;
  }
  // BoringSSL verified the chain; without SNI it could not match an IP address, so do it here.
  if (isIP(host) && !new X509Certificate(leaf).checkIP(host)) return `certificate is not valid for ${host}`;
  return undefined;
}

export async function dial(url: URL, options: DialOptions): Promise<QuicConnection> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : 443;
  const address = isIP(host) ? host : (await lookup(host)).address;
  const remote = { host: address, port };
  const endpoint = await UdpEndpoint.bind({ host: isIP(address) === 6 ? '::' : '0.0.0.0', port: 0, connectTo: remote });
  const queue = new ServiceQueue();
  const readBuffer = new Uint8Array(READ_BUFFER_BYTES);
  const hashes = options.serverCertificateHashes ?? [];
  const native = connectNative(
    isIP(host) ? null : host,
    randomBytes(MAX_CONN_ID_LEN),
    endpoint.local,
    remote,
    clientConfig(options.alpns, options.transport ?? {}, hashes.length > 0 ? undefined : options.ca),
  );
  const connection = new QuicConnection({
    native,
    role: 'client',
    local: endpoint.local,
    remote,
    queue,
    packets: endpoint,
    readBuffer,
    maxUdpPayload: DEFAULT_MAX_UDP_PAYLOAD,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? 10_000,
    keepAliveMs: options.keepAliveMs,
  });
  endpoint.onPacket = (packet, from) => connection.receive(packet, from);
  endpoint.onUnreachable = () => connection.abandon(`${url.host} is unreachable (ICMP port unreachable)`);
  void connection.closed.then(() => endpoint.close());
  connection.schedule(); // sends the first Initial

  try {
    await connection.established;
  } catch (error) {
    const info = connection.closeInfo;
    throw new QuicTransportError(`QUIC handshake with ${url.host} failed${info ? `: ${info.reason || `code 0x${info.code.toString(16)}`}` : ''}`, { cause: error });
  }
  const problem = verifyPeer(connection, host, options);
  if (problem) {
    connection.close(false, BAD_CERTIFICATE, problem);
    throw new QuicTransportError(problem);
  }
  return connection;
}

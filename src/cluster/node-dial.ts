/**
 * How one node reaches another: moq-lite over raw QUIC on the node's UDP port (ALPN `moql`,
 * whose SETUP carries the path and node token in its PATH parameter), and over WebSocket when
 * QUIC cannot be set up (UDP filtered, QUIC disabled on that node). The server certificate is
 * checked like a browser does: a dev-mode node (http:// URL) is pinned by the hash it serves at
 * /certificate.sha256; an https:// node must chain to Node's bundled root CAs. A ws:// or wss://
 * URL names a WebSocket endpoint only (a worker's private listener): no QUIC attempt.
 */
import { rootCertificates } from 'node:tls';
import { connectLite, type ConnectLiteOptions, type LiteClient } from '../moq/lite/client.ts';
import { LiteProtocol } from '../moq/lite/version.ts';
import { connectQuic, type CertificateHash } from '../transport/quic/index.ts';

export interface DialNodeOptions extends Pick<ConnectLiteOptions, 'token' | 'logger' | 'onClose'> {
  /** For the whole attempt on each transport (QUIC, then WebSocket). */
  connectTimeoutMs: number;
}

export type NodeTransport = 'quic' | 'websocket';

/**
 * A PING this often: when the other node's process dies, the next one draws an ICMP port
 * unreachable and the link ends at once (as TCP's reset does for WebSocket), not at the idle
 * timeout.
 */
const KEEP_ALIVE_MS = 1000;

export async function dialNode(url: string, options: DialNodeOptions): Promise<{ client: LiteClient; transport: NodeTransport }> {
  const lite = { token: options.token, connectTimeoutMs: options.connectTimeoutMs, logger: options.logger, onClose: options.onClose };
  const scheme = new URL(url).protocol;
  if (scheme === 'ws:' || scheme === 'wss:') return { client: await connectLite(url, lite), transport: 'websocket' };
  try {
    const session = await connectQuic(url, {
      alpn: [LiteProtocol.Compat],
      handshakeTimeoutMs: options.connectTimeoutMs,
      keepAliveMs: KEEP_ALIVE_MS,
      ...(await trustFor(new URL(url), options.connectTimeoutMs)),
    });
    try {
      return { client: await connectLite(url, { ...lite, transport: session }), transport: 'quic' };
    } catch (error) {
      session.close({ closeCode: 0, reason: 'moq-lite SETUP failed' });
      throw error;
    }
  } catch (error) {
    options.logger?.info({ url, reason: error instanceof Error ? error.message : String(error) }, 'QUIC to cluster node failed; trying WebSocket');
    return { client: await connectLite(url, lite), transport: 'websocket' };
  }
}

async function trustFor(url: URL, timeoutMs: number): Promise<{ serverCertificateHashes: CertificateHash[] } | { ca: string }> {
  if (url.protocol === 'https:' || url.protocol === 'wss:') return { ca: rootCertificates.join('\n') };
  const hashUrl = new URL('/certificate.sha256', url);
  hashUrl.protocol = 'http:';
  const response = await fetch(hashUrl, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) throw new Error(`GET ${hashUrl} answered ${response.status}`);
  return { serverCertificateHashes: [{ algorithm: 'sha-256', value: (await response.text()).trim() }] };
}

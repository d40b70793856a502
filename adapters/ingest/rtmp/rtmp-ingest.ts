import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { childLogger, silentLogger, type StructuredLogger } from './logger.ts';
import { RtmpSession, type OpenPublisher } from './rtmp-session.ts';

export interface RtmpIngestOptions {
  host: string;
  /** 0 = any free port. */
  port: number;
  openPublisher: OpenPublisher;
  logger?: StructuredLogger;
  /** Largest RTMP message accepted (default 8 MiB); a larger one closes the connection. */
  maxMessageSize?: number;
  /** Time allowed for handshake + connect + publish (default 10 s). */
  handshakeTimeoutMs?: number;
  /** Close a connection silent for this long (default 30 s). */
  idleTimeoutMs?: number;
  /** RTMPS (RTMP inside TLS) on a second port. */
  tls?: { port: number; cert: string | Buffer; key: string | Buffer };
  /** SO_REUSEPORT on both ports: several gateway processes (--workers) share them. */
  reusePort?: boolean;
}

const DEFAULTS = { maxMessageSize: 8 * 1024 * 1024, handshakeTimeoutMs: 10_000, idleTimeoutMs: 30_000 };

/** RTMP (and RTMPS) publish endpoint: each accepted connection becomes an RtmpSession. */
export class RtmpIngest {
  private readonly options: RtmpIngestOptions;
  private readonly logger: StructuredLogger;
  private readonly live = new Set<RtmpSession>();
  private readonly servers: Server[] = [];
  /** TCP sockets under the TLS server, including those still in their TLS handshake (no session yet). */
  private readonly tlsTransports = new Set<Socket>();
  private nextSessionId = 1;

  constructor(options: RtmpIngestOptions) {
    this.options = options;
    this.logger = options.logger ?? silentLogger;
  }

  /** Open connections (publishing or not). */
  get sessions(): number {
    return this.live.size;
  }

  async listen(): Promise<{ port: number; tlsPort?: number }> {
    const plain = createServer((socket) => this.accept(socket, false));
    const port = await this.start(plain, this.options.port);
    const tlsOptions = this.options.tls;
    if (!tlsOptions) return { port };
    const secure = createTlsServer({
      cert: tlsOptions.cert,
      key: tlsOptions.key,
      handshakeTimeout: this.options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
    });
    secure.on('secureConnection', (socket) => this.accept(socket, true));
    // A connection still in its TLS handshake is no session yet; close() must end it too.
    secure.on('connection', (raw: Socket) => {
      this.tlsTransports.add(raw);
      raw.once('close', () => this.tlsTransports.delete(raw));
    });
    secure.on('tlsClientError', (error, socket) => {
      this.logger.debug({ remote: socket.remoteAddress, error: error.message }, 'rtmps TLS handshake failed');
    });
    const tlsPort = await this.start(secure, tlsOptions.port);
    return { port, tlsPort };
  }

  private start(server: Server, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: this.options.host, reusePort: this.options.reusePort ?? false }, () => {
        server.off('error', reject);
        server.on('error', (error) => this.logger.error({ error: error.message }, 'rtmp server error'));
        this.servers.push(server);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  private accept(socket: Socket, secure: boolean): void {
    const id = this.nextSessionId++;
    const logger = childLogger(this.logger, { session: id, remote: `${socket.remoteAddress}:${socket.remotePort}`, ...(secure ? { rtmps: true } : {}) });
    logger.debug({}, 'rtmp connection');
    const session = new RtmpSession({
      socket,
      openPublisher: this.options.openPublisher,
      logger,
      maxMessageSize: this.options.maxMessageSize ?? DEFAULTS.maxMessageSize,
      handshakeTimeoutMs: this.options.handshakeTimeoutMs ?? DEFAULTS.handshakeTimeoutMs,
      idleTimeoutMs: this.options.idleTimeoutMs ?? DEFAULTS.idleTimeoutMs,
      onClosed: (closed) => this.live.delete(closed),
    });
    this.live.add(session);
  }

  /** Stop listening and close every session (their sinks see the reason). */
  async close(): Promise<void> {
    const closing = this.servers.splice(0).map((server) => new Promise<void>((resolve) => server.close(() => resolve())));
    for (const session of [...this.live]) session.close('server shutting down');
    for (const raw of this.tlsTransports) raw.destroy();
    await Promise.all(closing);
  }
}

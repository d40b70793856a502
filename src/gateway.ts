import { Origin } from './moq/index.ts';
import { PublisherRegistry } from './media/publishers.ts';
import { HttpServer } from './http/server.ts';
import { WebSocketAcceptor, type TransportSessionInfo } from './transport/websocket.ts';
import { serveMoqSession, type MoqSessionHandle } from './moq/serve.ts';
import { RtmpIngest } from '../adapters/ingest/rtmp/index.ts';
import { mountApi, type ApiSession } from './http/api.ts';
import type { GatewayConfig } from './config.ts';
import type { Logger } from './logger.ts';

const VERSION = '0.1.0';

export interface GatewayPorts {
  http: number;
  rtmp: number | undefined;
}

/**
 * Wires the parts together: ingest adapters → publisher registry → relay origin → MoQ
 * sessions and HTTP egress. Owns start-up and shutdown order.
 */
export class Gateway {
  readonly origin = new Origin();
  readonly publishers: PublisherRegistry;
  readonly http: HttpServer;
  readonly #ws: WebSocketAcceptor;
  #rtmp: RtmpIngest | undefined;
  readonly #sessions = new Map<number, { handle: MoqSessionHandle; info: ApiSession }>();
  #nextSessionId = 1;
  ports: GatewayPorts = { http: 0, rtmp: undefined };

  constructor(
    readonly config: GatewayConfig,
    readonly logger: Logger,
  ) {
    this.publishers = new PublisherRegistry(this.origin, {
      reconnectGraceMs: config.reconnectGrace,
      takeover: config.takeover,
    });
    this.http = new HttpServer({ host: config.host, port: config.port, logger });
    this.#ws = new WebSocketAcceptor({ onSession: (session, info) => this.#acceptMoq(session, info) });
    this.http.onUpgrade((req, socket, head) => this.#ws.handleUpgrade(req, socket, head));
    this.http.route('/healthz', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
    });
    mountApi(this.http, {
      origin: this.origin,
      publishers: this.publishers,
      info: () => ({ httpPort: this.ports.http, rtmpPort: this.ports.rtmp, version: VERSION }),
      sessions: () => [...this.#sessions.values()].map((s) => s.info),
      kickSession: (id) => {
        const session = this.#sessions.get(id);
        session?.handle.close(0, 'kicked by the API');
        return session !== undefined;
      },
    });
  }

  async start(): Promise<GatewayPorts> {
    const http = await this.http.listen();
    let rtmp: number | undefined;
    if (this.config.rtmpPort >= 0) {
      this.#rtmp = new RtmpIngest({
        host: this.config.host,
        port: this.config.rtmpPort,
        logger: this.logger.child({ component: 'rtmp' }),
        openPublisher: (req) =>
          this.publishers.open(req.broadcast, { protocol: 'rtmp', remoteAddress: req.remoteAddress }, req.terminate),
      });
      rtmp = (await this.#rtmp.listen()).port;
    }
    this.ports = { http, rtmp };
    return this.ports;
  }

  #acceptMoq(session: WebTransport, info: TransportSessionInfo): void {
    const id = this.#nextSessionId++;
    const logger = this.logger.child({ session: id, transport: info.transport, remote: info.remoteAddress });
    const handle = serveMoqSession(session, info, { origin: this.origin, logger, limits: { subscriberQueueBytes: this.config.subscriberQueueBytes } });
    this.#sessions.set(id, {
      handle,
      info: { id, protocol: info.protocol || 'moql', transport: info.transport, remoteAddress: info.remoteAddress, startedAt: new Date().toISOString() },
    });
    void handle.closed.finally(() => this.#sessions.delete(id));
  }

  /** Graceful stop: refuse new work, end sessions and publishers, close listeners. */
  async close(): Promise<void> {
    this.publishers.closeAll();
    for (const { handle } of this.#sessions.values()) handle.close(0, 'server shutting down');
    this.#ws.close();
    await Promise.allSettled([this.#rtmp?.close(), this.http.close()]);
  }
}

import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';

export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse, subpath: string) => void | Promise<void>;
export type UpgradeHandler = (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;

export interface HttpServerOptions {
  host: string;
  port: number;
  /** PEM cert and key: serve HTTPS/WSS instead of plain HTTP. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Largest request body any route may read (routes enforce it with readBody). */
  maxBodyBytes?: number;
  headersTimeoutMs?: number;
  /** SO_REUSEPORT: several gateway processes (--workers) listen on the same port; the kernel spreads connections. */
  reusePort?: boolean;
  logger?: { warn(obj: object, msg?: string): void };
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The one HTTP server of the gateway: pages, API, metrics, WHIP and HLS mounts, and the
 * WebSocket upgrade for MoQ. Routes are path prefixes; the longest matching prefix wins.
 */
export class HttpServer {
  readonly #routes: { prefix: string; handler: RouteHandler }[] = [];
  #upgrade: UpgradeHandler | undefined;
  readonly server: http.Server;
  readonly maxBodyBytes: number;
  #stopped: Promise<void> | undefined;
  /** Requests not yet answered (shutdown lets them finish). */
  #inFlight = 0;

  constructor(private readonly options: HttpServerOptions) {
    this.maxBodyBytes = options.maxBodyBytes ?? 1 << 20;
    const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
      this.#inFlight++;
      res.once('close', () => this.#inFlight--);
      void this.#dispatch(req, res);
    };
    const headersTimeout = options.headersTimeoutMs ?? 10_000;
    // Node checks headersTimeout on a periodic sweep (every 30 s by default), so a half-sent
    // header lived 10-27 s past a 10 s limit; sweep often enough to close it on time.
    const connectionsCheckingInterval = Math.max(100, Math.min(1000, Math.floor(headersTimeout / 10)));
    const serverOptions = { connectionsCheckingInterval, headersTimeout };
    // Over TLS the header timer starts only after the handshake, which Node lets take 120 s:
    // the TLS handshake gets the same limit (tls.createServer handshakeTimeout).
    this.server = options.tls
      ? https.createServer({ ...serverOptions, handshakeTimeout: headersTimeout, cert: options.tls.cert, key: options.tls.key }, listener)
      : http.createServer(serverOptions, listener);
    this.server.requestTimeout = 0; // LL-HLS blocking reloads and WHIP are long-lived by design.
    this.server.on('upgrade', (req, socket, head) => {
      socket.on('error', () => socket.destroy());
      if (!this.#upgrade) return socket.destroy();
      this.#upgrade(req, socket, head);
    });
    this.server.on('clientError', (error: NodeJS.ErrnoException & { library?: string }, socket) => {
      // A TLS failure (handshake timeout, bad record) has no HTTP to answer with: a plaintext
      // reply would wait behind the unfinished handshake and keep the socket open.
      const tlsFailure = /^ERR_(TLS|SSL)_/.test(error.code ?? '') || error.library !== undefined;
      if (!socket.writable || tlsFailure) return socket.destroy();
      // RFC 9110 §15.5.9: 408 for a request that did not arrive in time (headersTimeout).
      const timedOut = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
      socket.end(timedOut ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    });
  }

  /** Mount a handler at a path prefix (`/hls/`, `/api/`, or an exact path like `/metrics`). */
  route(prefix: string, handler: RouteHandler): void {
    this.#routes.push({ prefix, handler });
    this.#routes.sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** The mounted prefixes, longest first (what docs/openapi.yaml must document). */
  get routes(): string[] {
    return this.#routes.map((r) => r.prefix);
  }

  onUpgrade(handler: UpgradeHandler): void {
    this.#upgrade = handler;
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ port: this.options.port, host: this.options.host, reusePort: this.options.reusePort ?? false }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  /** Stop accepting connections; requests in flight and keep-alive connections carry on. */
  stopAccepting(): Promise<void> {
    return (this.#stopped ??= new Promise<void>((resolve) => this.server.close(() => resolve())));
  }

  /** Close: idle connections at once, in-flight requests once answered or after `graceMs` (0 = now). */
  async close(graceMs = 0): Promise<void> {
    const stopped = this.stopAccepting();
    this.server.closeIdleConnections();
    const deadline = Date.now() + graceMs;
    while (this.#inFlight > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      this.server.closeIdleConnections();
    }
    this.server.closeAllConnections();
    await stopped;
  }

  async #dispatch(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const pathname = safePathname(req.url);
    const route = pathname === undefined ? undefined : this.#routes.find((r) => matches(pathname, r.prefix));
    try {
      if (!route || pathname === undefined) throw new HttpError(404, 'not found');
      await route.handler(req, res, pathname.slice(route.prefix.length));
    } catch (error) {
      const status = error instanceof HttpError ? error.status : 500;
      if (status === 500) this.options.logger?.warn({ err: error, path: pathname }, 'http handler failed');
      if (!res.headersSent) {
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store', 'access-control-allow-origin': '*' });
        res.end(`${(error as Error).message}\n`);
      } else {
        res.destroy();
      }
    }
  }
}

function matches(pathname: string, prefix: string): boolean {
  return prefix.endsWith('/') ? pathname.startsWith(prefix) || pathname === prefix.slice(0, -1) : pathname === prefix;
}

function safePathname(url: string | undefined): string | undefined {
  try {
    return decodeURIComponent(new URL(url ?? '/', 'http://localhost').pathname);
  } catch {
    return undefined;
  }
}

/** Read a request body up to a limit; a larger one is a 413. */
export async function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength;
    if (size > limit) throw new HttpError(413, `body larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

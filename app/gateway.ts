import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { startQuicServer, type QuicServer, type SessionInfo } from '../src/transport/quic/index.ts';
import { DevCertificateManager, loadCertificate, type TlsMaterial } from '../src/transport/tls/index.ts';
import { nodeTokenSource, startCluster, type Cluster } from '../src/cluster/index.ts';
import { Origin, type TrackOptions } from '../src/relay/index.ts';
import { PublisherRegistry } from '../src/media/publishers.ts';
import { HttpServer } from '../src/http/server.ts';
import { rejectUpgrade, WebSocketAcceptor, type TransportSessionInfo } from '../src/transport/websocket.ts';
import { AuthError, Authenticator, bearerFrom, expiryTimer, loadSigningKey, splitCredential, tokenFrom, type AuthContext } from '../src/auth/index.ts';
import { HttpError } from '../src/http/server.ts';
import { serveMoqSession, type MoqSessionHandle, type MoqSessionStats } from '../src/moq/serve.ts';
import { rawQuicTarget, type SessionTarget } from '../src/moq/session-target.ts';
import { RtmpIngest } from '../adapters/ingest/rtmp/index.ts';
import { msfLocBridge } from '../adapters/bridge/msf-loc/index.ts';
import { createWhipService, type WhipService } from '../adapters/ingest/whip/index.ts';
import { createHlsService, type HlsService } from '../adapters/egress/hls/index.ts';
import { mountApi, type ApiSession } from '../src/http/api.ts';
import { GatewayMetrics, sumBy } from '../src/http/metrics.ts';
import { SessionLimiter } from './session-limiter.ts';
import { mountPages } from '../src/http/pages.ts';
import { mountAccessCheck } from '../src/http/access-check.ts';
import { VERSION } from '../src/version.ts';
import { parseHostPort, type GatewayConfig } from './config.ts';
import type { MediaSink } from '../src/media/frame.ts';
import type { Logger } from '../src/logger.ts';

export interface GatewayPorts {
  http: number;
  rtmp: number | undefined;
  rtmps?: number;
  /** --metrics-listen: the separate /metrics listener. */
  metrics?: number;
}

interface LiveSession {
  handle: MoqSessionHandle;
  info: ApiSession;
}

/**
 * Wires the parts together: ingest adapters → publisher registry → relay origin → MoQ
 * sessions and HTTP egress. Owns start-up and shutdown order.
 */
export class Gateway {
  readonly origin: Origin;
  readonly #limiter: SessionLimiter;
  readonly publishers: PublisherRegistry;
  readonly http: HttpServer;
  readonly metrics: GatewayMetrics;
  readonly #ws: WebSocketAcceptor<AuthContext>;
  /** Set in start(): keys may be files to read. */
  auth!: Authenticator;
  #rtmp: RtmpIngest | undefined;
  readonly whip: WhipService;
  readonly hls: HlsService;
  cluster: Cluster | undefined;
  #quic: QuicServer | undefined;
  /** Dev mode (no --tls-cert): a short-lived self-signed certificate, renewed. */
  #devCertificate: DevCertificateManager | undefined;
  /** --metrics-listen: /metrics on a listener of its own. */
  #metricsHttp: HttpServer | undefined;
  readonly #sessions = new Map<number, LiveSession>();
  /** What closed sessions had counted, by protocol family, so counters never go backwards. */
  readonly #endedSessionTotals = new Map<string, MoqSessionStats>();
  #nextSessionId = 1;
  ports: GatewayPorts = { http: 0, rtmp: undefined };

  constructor(
    readonly config: GatewayConfig,
    readonly logger: Logger,
  ) {
    this.origin = new Origin({ maxBroadcasts: config.maxBroadcasts, maxTracksPerBroadcast: config.maxTracksPerBroadcast });
    this.#limiter = new SessionLimiter(config.sessionsPerIp);
    const trackOptions: TrackOptions = { cacheBytes: config.cacheBytes, maxGroupBytes: config.maxGroupBytes };
    this.publishers = new PublisherRegistry(this.origin, {
      reconnectGraceMs: config.reconnectGrace,
      takeover: config.takeover,
      trackOptions,
    });
    const tls = config.tlsCert ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : undefined;
    this.http = new HttpServer({ host: config.host, port: config.port, logger, tls, maxBodyBytes: config.maxHttpBodyBytes, headersTimeoutMs: config.handshakeTimeout });
    this.#ws = new WebSocketAcceptor({ onSession: (session, info) => this.#acceptMoq(session, info), maxPayloadBytes: config.maxFrameBytes + 64 * 1024 });
    this.http.onUpgrade((req, socket, head) => {
      // Verify `?jwt=` before upgrading, so a refused client gets a plain 401/403.
      const url = new URL(req.url ?? '/', 'http://localhost');
      const remote = req.socket.remoteAddress ?? '';
      if (this.#limiter.count(remote) >= this.#limiter.perAddress) {
        this.logger.warn({ remote, limit: this.#limiter.perAddress }, 'MoQ connection refused: too many sessions from this address');
        return rejectUpgrade(socket, 429, 'Too Many Requests');
      }
      this.auth.verify(tokenFrom(url)).then(
        (auth) => this.#ws.handleUpgrade(req, socket, head, auth),
        (error: unknown) => {
          const status = error instanceof AuthError ? error.status : 500;
          this.logger.info({ remote: req.socket.remoteAddress, reason: (error as Error).message }, 'MoQ connection refused');
          rejectUpgrade(socket, status, status === 500 ? 'Internal Server Error' : 'Unauthorized');
        },
      );
    });
    this.http.route('/certificate.sha256', (_req, res) => this.#serveCertificateHash(res));
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
      authorize: (req) => this.#authorizeOperator(req),
      cluster: () => this.cluster?.stats(),
    });
    this.whip = createWhipService({
      logger: logger.child({ component: 'whip' }),
      maxBodyBytes: config.maxHttpBodyBytes,
      iceTimeoutMs: config.handshakeTimeout,
      openPublisher: (path, meta, terminate) =>
        this.#limited(meta.remoteAddress, (release) => {
          const sink = this.publishers.open(path, { ...meta, requestKeyframe: () => this.whip.requestKeyframe(path) }, terminate);
          return withRelease(sink, release);
        }),
      authorize: async (path, bearer) => {
        try {
          await this.auth.authorizePublish(path, splitCredential(bearer));
          return true;
        } catch (error) {
          if (error instanceof AuthError) return false;
          throw error;
        }
      },
    });
    this.http.route('/whip/', (req, res, subpath) => this.whip.handle(req, res, subpath));
    this.hls = createHlsService({
      origin: this.origin,
      logger: logger.child({ component: 'hls' }),
      authorize: async (broadcast, token) => {
        if (this.config.authKey === '') return true;
        const ctx = await this.auth.verify(token).catch(() => undefined);
        return ctx?.canSubscribe(broadcast) ?? false;
      },
    });
    this.http.route('/hls/', (req, res, subpath) => this.hls.handle(req, res, subpath));
    this.metrics = this.#createMetrics();
    const metricsListen = parseHostPort(config.metricsListen);
    if (metricsListen) {
      this.#metricsHttp = new HttpServer({ ...metricsListen, headersTimeoutMs: config.handshakeTimeout, logger });
      this.metrics.mount(this.#metricsHttp, config.metricsToken);
    } else {
      this.metrics.mount(this.http, config.metricsToken);
    }
    mountPages(this.http, { logger: logger.child({ component: 'web' }) });
    mountAccessCheck(this.http, () => this.auth, (broadcast) => this.origin.get(broadcast) !== undefined);
  }

  async start(): Promise<GatewayPorts> {
    this.auth = await Authenticator.load({
      enabled: this.config.authKey !== '',
      keys: this.config.authKey === '' ? undefined : this.config.authKey,
      publicPrefixes: { publish: this.config.authPublicPublish, subscribe: this.config.authPublicSubscribe },
      streamKeys: this.config.authStreamKeys,
    });
    if (this.config.authKey === '') {
      this.logger.warn('AUTHENTICATION IS OFF: anyone who can reach this server may publish and watch any broadcast. Set --auth-key to require tokens.');
    } else {
      const auth = this.auth.describe();
      const open = (prefixes: readonly string[]) => (prefixes.length === 0 ? 'none' : prefixes.map((p) => p || '(everything)').join(', '));
      this.logger.warn(
        { auth },
        `AUTHENTICATION IS ON: tokens verified with ${auth.keys.join(', ')}; public publish: ${open(auth.publicPublish)}; public watch: ${open(auth.publicSubscribe)}; ${auth.streamKeys} static stream key(s)`,
      );
    }
    const http = await this.http.listen();
    let rtmp: number | undefined;
    let rtmps: number | undefined;
    if (this.config.rtmpPort >= 0) {
      this.#rtmp = new RtmpIngest({
        host: this.config.host,
        port: this.config.rtmpPort,
        logger: this.logger.child({ component: 'rtmp' }),
        maxMessageSize: this.config.maxFrameBytes,
        handshakeTimeoutMs: this.config.handshakeTimeout,
        idleTimeoutMs: this.config.idleTimeout,
        tls:
          this.config.tlsCert && this.config.rtmpsPort >= 0
            ? { port: this.config.rtmpsPort, cert: readFileSync(this.config.tlsCert), key: readFileSync(this.config.tlsKey) }
            : undefined,
        openPublisher: async (req) => {
          const auth = await this.auth.authorizeRtmp(req.broadcast, req.query);
          return this.#limited(req.remoteAddress, (release) => {
            const sink = this.publishers.open(req.broadcast, { protocol: 'rtmp', remoteAddress: req.remoteAddress }, req.terminate);
            this.#closeOnExpiry(auth, () => req.terminate('token expired'));
            return withRelease(sink, release);
          });
        },
      });
      const listening = await this.#rtmp.listen();
      rtmp = listening.port;
      rtmps = listening.tlsPort;
    }
    const metrics = await this.#metricsHttp?.listen();
    this.ports = { http, rtmp, ...(rtmps ? { rtmps } : {}), ...(metrics !== undefined ? { metrics } : {}) };
    if (this.config.quic) await this.#startQuic(http);
    if (this.config.clusterRedis) {
      const host = ['0.0.0.0', '::', ''].includes(this.config.host) ? hostname() : this.config.host;
      this.cluster = await startCluster({
        origin: this.origin,
        redisUrl: this.config.clusterRedis,
        nodeId: this.config.nodeId || `${hostname()}:${http}`,
        advertiseUrl: this.config.advertiseUrl || `http://${host}:${http}/`,
        logger: this.logger.child({ component: 'cluster' }),
        ttlMs: this.config.clusterTtl,
        nodeToken: this.config.authKey ? nodeTokenSource(await loadSigningKey(this.config.authKey)) : undefined,
        trackOptions: { cacheBytes: this.config.cacheBytes, maxGroupBytes: this.config.maxGroupBytes },
      });
    }
    return this.ports;
  }

  /**
   * WebTransport and raw QUIC on UDP, the same port number as HTTP (what MoQ clients expect).
   * Without --tls-cert, a self-signed ECDSA certificate valid under 14 days whose hash browsers
   * pin from /certificate.sha256 (Chromium rejects longer-lived pinned certificates).
   */
  async #startQuic(port: number): Promise<void> {
    let tls: TlsMaterial;
    if (this.config.tlsCert) {
      tls = await loadCertificate(this.config.tlsCert, this.config.tlsKey);
    } else {
      const hosts = ['localhost', '127.0.0.1', '::1', hostname(), ...(['0.0.0.0', '::'].includes(this.config.host) ? [] : [this.config.host])];
      this.#devCertificate = new DevCertificateManager({ hosts: [...new Set(hosts)] });
      tls = this.#devCertificate.material;
    }
    try {
      this.#quic = await startQuicServer({
        host: this.config.host,
        port,
        tls,
        handshakeTimeoutMs: this.config.handshakeTimeout,
        authorize: async (request) => {
          const error = await this.auth.verify(tokenFrom(request.url)).then(
            () => undefined,
            (e: unknown) => e,
          );
          return error === undefined ? undefined : error instanceof AuthError ? error.status : 500;
        },
        onSession: (session, info) => {
          const remote = info.remoteAddress;
          if (this.#limiter.count(remote) >= this.#limiter.perAddress) {
            this.logger.warn({ remote, limit: this.#limiter.perAddress }, 'QUIC session refused: too many sessions from this address');
            session.close({ closeCode: 0x2, reason: 'too many sessions from this address' });
            return;
          }
          void this.#acceptQuic(session as unknown as WebTransport, info);
        },
      });
      this.logger.info({ port, dev: this.#devCertificate !== undefined }, 'WebTransport and raw QUIC listening on UDP');
    } catch (error) {
      this.logger.error({ err: error, port }, `WebTransport/QUIC disabled: cannot listen on UDP ${port}`);
    }
  }

  /**
   * A WebTransport session's URL came with its CONNECT; a raw QUIC session names its path and
   * token in CLIENT_SETUP's PATH parameter (moql, moq-00, moqt-16), read before auth decides.
   * moq-lite-03/04 on raw QUIC send no SETUP, so no token: with auth on they get only the public
   * prefixes, and are refused when none are configured.
   */
  async #acceptQuic(session: WebTransport, info: SessionInfo): Promise<void> {
    let target: SessionTarget;
    try {
      target = info.transport === 'quic' ? await rawQuicTarget(session, info.protocol, info.url, this.config.handshakeTimeout) : { transport: session, url: info.url };
    } catch (error) {
      this.logger.info({ remote: info.remoteAddress, protocol: info.protocol, reason: (error as Error).message }, 'QUIC session refused before SETUP');
      session.close({ closeCode: PATH_REFUSED, reason: (error as Error).message.slice(0, 256) });
      return;
    }
    const protocol = info.protocol as TransportSessionInfo['protocol'];
    await this.auth.verify(tokenFrom(target.url)).then(
      (auth) => this.#acceptMoq(target.transport, { protocol, url: target.url, remoteAddress: info.remoteAddress, transport: info.transport, auth }, target.setupVersions),
      (error: unknown) => target.transport.close({ closeCode: 0x2, reason: (error as Error).message }),
    );
  }

  /** Dev mode: the certificate hash browsers pin (fetched cross-origin by @moq/watch). */
  #serveCertificateHash(res: import('node:http').ServerResponse): void {
    if (!this.#devCertificate) throw new HttpError(404, 'not in dev mode: the server has a real certificate');
    res.writeHead(200, { 'content-type': 'text/plain', 'access-control-allow-origin': '*', 'cache-control': 'no-cache' });
    res.end(this.#devCertificate.current.fingerprintHex);
  }

  /** `setupVersions`: the CLIENT_SETUP's versions when #acceptQuic already peeked it. */
  #acceptMoq(session: WebTransport, info: TransportSessionInfo<AuthContext>, setupVersions?: number[]): void {
    const id = this.#nextSessionId++;
    const logger = this.logger.child({ session: id, transport: info.transport, remote: info.remoteAddress });
    const auth = info.auth;
    const handle: MoqSessionHandle = serveMoqSession(session, { ...info, setupVersions }, {
      origin: this.origin,
      logger,
      ietfMedia: msfLocBridge,
      authorize: auth ? (action, path, token) => this.#authorizeMoq(auth, action, path, token) : undefined,
      limits: {
        subscriberQueueBytes: this.config.subscriberQueueBytes,
        controlMessageBytes: this.config.maxControlMessageBytes,
        frameBytes: this.config.maxFrameBytes,
        setupTimeoutMs: this.config.handshakeTimeout,
      },
      observeLatency: (ms) => this.metrics.latency.observe({ protocol: handle.family }, ms / 1000),
    });
    if (auth) this.#closeOnExpiry(auth, () => handle.close(0x2, 'token expired'), handle.closed);
    let release = () => {};
    try {
      release = this.#limiter.acquire(info.remoteAddress);
    } catch (error) {
      // Raced past the pre-upgrade check: refuse now.
      logger.warn({ reason: (error as Error).message }, 'MoQ session refused');
      handle.close(0x2, (error as Error).message);
    }
    this.#sessions.set(id, {
      handle,
      info: { id, protocol: info.protocol || 'moql', transport: info.transport, remoteAddress: info.remoteAddress, startedAt: new Date().toISOString() },
    });
    void handle.closed.then((closeInfo) => {
      release();
      this.#sessions.delete(id);
      const ended = this.#endedSessionTotals.get(handle.family) ?? { bytesSent: 0, groupsSent: 0, groupsDropped: 0, bytesReceived: 0 };
      const last = handle.stats();
      for (const key of Object.keys(ended) as (keyof MoqSessionStats)[]) ended[key] += last[key];
      this.#endedSessionTotals.set(handle.family, ended);
      logger.info({ close: closeInfo }, 'session closed');
    });
  }

  /**
   * The session's credential decides, unless a request carries its own token (IETF
   * AUTHORIZATION_TOKEN), which is verified then. Synchronous when no token is involved.
   */
  #authorizeMoq(auth: AuthContext, action: 'publish' | 'subscribe', path: string, token?: Uint8Array): boolean | Promise<boolean> {
    const allowed = (ctx: AuthContext) => (action === 'publish' ? ctx.canPublish(path) : ctx.canSubscribe(path));
    if (!token || token.byteLength === 0) return allowed(auth);
    return this.auth.verify(new TextDecoder().decode(token)).then(allowed, () => false);
  }

  /**
   * The API and dashboard data are for operators: with auth on they need a token granting
   * publish and subscribe on every path (`root: ''`, `put: ''`, `get: ''`), as Bearer or ?jwt=.
   */
  async #authorizeOperator(req: import('node:http').IncomingMessage): Promise<void> {
    if (this.config.authKey === '') return;
    const token = bearerFrom(req.headers) ?? tokenFrom(new URL(req.url ?? '/', 'http://localhost'));
    let auth: AuthContext;
    try {
      auth = await this.auth.verify(token);
    } catch (error) {
      throw new HttpError(error instanceof AuthError ? error.status : 401, (error as Error).message);
    }
    if (auth.anonymous || !auth.canPublish('') || !auth.canSubscribe('')) throw new HttpError(403, 'the API needs a token for every path');
  }

  /** Runs `open` holding one of `address`'s session slots (released when the session ends). */
  #limited<T>(address: string, open: (release: () => void) => T): T {
    const release = this.#limiter.acquire(address);
    try {
      return open(release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /** A session lives no longer than its token (issue: an expired token disconnects). */
  #closeOnExpiry(auth: AuthContext, close: () => void, ended?: Promise<unknown>): void {
    if (auth.expiresAt === undefined) return;
    const cancel = expiryTimer(auth, close);
    void ended?.finally(cancel);
  }

  #createMetrics(): GatewayMetrics {
    const sessionTotals = (key: keyof MoqSessionStats) =>
      sumBy([
        ...[...this.#endedSessionTotals].map(([protocol, s]) => ({ labels: { protocol }, value: s[key] })),
        ...[...this.#sessions.values()].map((s) => ({ labels: { protocol: s.handle.family }, value: s.handle.stats()[key] })),
      ]);
    const ingest = (key: 'frames' | 'bytes') => [...this.publishers.totals()].map(([protocol, t]) => ({ labels: { protocol }, value: t[key] }));
    return new GatewayMetrics({
      sessions: () => sumBy([...this.#sessions.values()].map((s) => ({ labels: { protocol: s.handle.family, transport: s.info.transport }, value: 1 }))),
      broadcasts: () => this.origin.list().length,
      ingestFrames: () => ingest('frames'),
      ingestBytes: () => ingest('bytes'),
      egressBytes: () => sessionTotals('bytesSent'),
      egressGroups: () => sessionTotals('groupsSent'),
      groupsDropped: () => sessionTotals('groupsDropped'),
      hlsRequests: () => [{ labels: { kind: 'all' }, value: this.hls.stats().requests }],
      clusterUpstreams: () => this.cluster?.upstreams() ?? 0,
    });
  }

  /** Graceful stop: refuse new work, end sessions and publishers, close listeners. */
  async close(): Promise<void> {
    // Withdraw from the other nodes first, so their viewers end before our broadcasts do.
    await this.cluster?.close().catch((error: unknown) => this.logger.warn({ err: error }, 'cluster shutdown failed'));
    void this.http.stopAccepting();
    this.hls.close(); // ENDLIST: blocking reloads waiting now are answered with it
    this.publishers.closeAll(); // broadcasts end: subscribers' tracks end cleanly
    for (const { handle } of this.#sessions.values()) handle.goAway();
    // Let the ends of tracks and the last playlists reach their clients before cutting sockets.
    await sleep(SHUTDOWN_DRAIN_MS);
    const sessions = [...this.#sessions.values()];
    for (const { handle } of sessions) handle.close(0, 'server shutting down');
    await Promise.race([Promise.allSettled(sessions.map((s) => s.handle.closed)), sleep(SHUTDOWN_SESSION_CLOSE_MS)]);
    this.#ws.close();
    await Promise.allSettled([this.#rtmp?.close(), this.whip.close(), this.#quic?.close(), this.http.close(SHUTDOWN_HTTP_GRACE_MS), this.#metricsHttp?.close()]);
    this.#devCertificate?.stop();
  }
}

/** MALFORMED_PATH (draft-ietf-moq-transport-16 "Termination"): a raw QUIC SETUP with an unusable PATH. */
const PATH_REFUSED = 0x9;
/** How long shutdown lets the ends of tracks and last playlists flush before closing sessions. */
const SHUTDOWN_DRAIN_MS = 250;
/** How long closing sessions may take to say goodbye before their sockets are cut. */
const SHUTDOWN_SESSION_CLOSE_MS = 500;
/** How long in-flight HTTP responses may take to finish. */
const SHUTDOWN_HTTP_GRACE_MS = 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The same sink, releasing a session slot when it closes. */
function withRelease(sink: MediaSink, release: () => void): MediaSink {
  return {
    setTrack: (name, info) => sink.setTrack(name, info),
    writeFrame: (name, frame) => sink.writeFrame(name, frame),
    removeTrack: (name) => sink.removeTrack(name),
    close: (reason, options) => {
      release();
      sink.close(reason, options);
    },
  };
}

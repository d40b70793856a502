import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { nodeTokenSource, startCluster, WorkerMesh, type Cluster } from '../src/cluster/index.ts';
import { Origin, type TrackOptions } from '../src/relay/index.ts';
import { PublisherRegistry, PublishRefusedError } from '../src/media/publishers.ts';
import { HttpError, HttpServer } from '../src/http/server.ts';
import { RtmpIngest } from '../adapters/ingest/rtmp/index.ts';
import { createWhipService, type WhipService } from '../adapters/ingest/whip/index.ts';
import { createHlsService, parseHlsPath, type HlsService } from '../adapters/egress/hls/index.ts';
import { Recorder } from '../adapters/egress/hls/record/index.ts';
import { createWhepService, type WhepService } from '../adapters/egress/whep/index.ts';
import { mountApi, type LocalApi } from '../src/http/api.ts';
import { GatewayMetrics } from '../src/http/metrics.ts';
import { mountPages } from '../src/http/pages.ts';
import { mountAccessCheck } from '../src/http/access-check.ts';
import { VERSION } from '../src/version.ts';
import { udpMode } from '../src/transport/quic/index.ts';
import { parseHostPort, type GatewayConfig } from './config.ts';
import { AccessPolicy } from './access-policy.ts';
import { MoqAcceptor } from './moq-acceptor.ts';
import { SessionRegistry } from './session-registry.ts';
import { whipNatOptions } from './whip-nat-options.ts';
import type { WorkerRole } from './workers/worker-role.ts';
import { isSteeringPeersMessage, isWorkerMeshMessage, type WorkerMeshMessage } from './workers/worker-messages.ts';
import { SteeringLink } from './workers/steering-link.ts';
import { SharedDevCertificate } from './workers/shared-dev-certificate.ts';
import { WorkerFleet } from './workers/fleet.ts';
import { FleetApi } from './workers/fleet-api.ts';
import { HttpForwarder } from './workers/http-forward.ts';
import type { FleetQuery } from './workers/worker-messages.ts';
import type { MediaSink } from '../src/media/frame.ts';
import type { Logger } from '../src/logger.ts';
import type { GatewayPorts } from './gateway-ports.ts';

/**
 * Wires the parts together: ingest adapters → publisher registry → relay origin → MoQ
 * sessions and HTTP egress, under one access policy and one session registry. Owns start-up
 * and shutdown order.
 */
export class Gateway {
  readonly origin: Origin;
  readonly publishers: PublisherRegistry;
  readonly http: HttpServer;
  readonly metrics: GatewayMetrics;
  readonly policy: AccessPolicy;
  readonly sessions: SessionRegistry;
  readonly #moq: MoqAcceptor;
  #rtmp: RtmpIngest | undefined;
  readonly whip: WhipService;
  readonly hls: HlsService;
  readonly recorder: Recorder;
  readonly whep: WhepService;
  cluster: Cluster | undefined;
  /** Under `--workers N > 1`: the other workers' broadcasts, and the private listener they reach this one on. */
  mesh: WorkerMesh | undefined;
  #meshHttp: HttpServer | undefined;
  #steering: SteeringLink | undefined;
  /** Under `--workers N`: HLS requests for a broadcast another worker holds go there. */
  #forwarder: HttpForwarder | undefined;
  /** This process's own API answers (the fleet asks for them under `--workers N`). */
  readonly #api: LocalApi;
  /** Under `--workers N > 1`: the other workers, through the supervisor. */
  readonly #fleet: WorkerFleet | undefined;
  /** --metrics-listen: /metrics on a listener of its own. */
  #metricsHttp: HttpServer | undefined;
  ports: GatewayPorts = { http: 0, rtmp: undefined };

  constructor(
    readonly config: GatewayConfig,
    readonly logger: Logger,
    /** Under `--workers N`: this process's place; undefined = the single process of `--workers 1`. */
    readonly worker?: WorkerRole,
  ) {
    const reusePort = worker !== undefined;
    this.origin = new Origin({ maxBroadcasts: config.maxBroadcasts, maxTracksPerBroadcast: config.maxTracksPerBroadcast });
    this.policy = new AccessPolicy(config);
    // Under --workers N > 1 the API, /metrics and per-address limits span every worker.
    const fleet = worker && worker.count > 1 ? new WorkerFleet(process, (query) => this.#answerFleet(query)) : undefined;
    this.#fleet = fleet;
    this.sessions = new SessionRegistry(config.sessionsPerIp, worker && fleet ? { shared: fleet, ids: { first: worker.index + 1, step: worker.count }, worker: worker.index } : {});
    const trackOptions: TrackOptions = { cacheBytes: config.cacheBytes, maxGroupBytes: config.maxGroupBytes };
    this.publishers = new PublisherRegistry(this.origin, {
      reconnectGraceMs: config.reconnectGrace,
      takeover: config.takeover,
      trackOptions,
    });
    const tls = config.tlsCert ? { cert: readFileSync(config.tlsCert), key: readFileSync(config.tlsKey) } : undefined;
    this.http = new HttpServer({ host: config.host, port: config.port, logger, tls, maxBodyBytes: config.maxHttpBodyBytes, headersTimeoutMs: config.handshakeTimeout, reusePort });
    this.#moq = new MoqAcceptor({
      config,
      logger,
      origin: this.origin,
      policy: this.policy,
      registry: this.sessions,
      observeLatency: (family, ms) => this.metrics.latency.observe({ protocol: family }, ms / 1000),
    });
    this.http.onUpgrade((req, socket, head) => this.#moq.handleUpgrade(req, socket, head));
    this.http.route('/certificate.sha256', (_req, res) => this.#serveCertificateHash(res));
    this.http.route('/healthz', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('ok\n');
    });
    this.#api = mountApi(this.http, {
      origin: this.origin,
      publishers: this.publishers,
      info: () => ({ httpPort: this.ports.http, rtmpPort: this.ports.rtmp, version: VERSION, udp: udpMode(), workers: { count: worker?.count ?? 1, index: worker?.index ?? 0, ...(this.mesh ? { mesh: this.mesh.stats() } : {}) } }),
      sessions: () => this.sessions.list(),
      closedSessions: () => this.sessions.closed(),
      kickSession: (id) => this.sessions.kick(id),
      authorize: (req) => this.policy.operator(req),
      cluster: () => this.cluster?.stats(),
      fleet: worker && fleet && new FleetApi(fleet, worker.index),
      relayed: () => this.mesh?.relayed() ?? [],
      recordings: () => this.recorder.list(),
    });
    this.whip = createWhipService({
      logger: logger.child({ component: 'whip' }),
      maxBodyBytes: config.maxHttpBodyBytes,
      iceTimeoutMs: config.handshakeTimeout,
      openPublisher: (path, meta, terminate) =>
        this.sessions.limited(meta.remoteAddress, (release) => {
          const sink = this.publishers.open(path, { ...meta, requestKeyframe: () => this.whip.requestKeyframe(path) }, terminate);
          return withRelease(sink, release);
        }),
      authorize: (path, bearer) => this.policy.whipPublish(path, bearer),
      beforeOpen: (path) => this.#claimAcrossWorkers(path),
      ...whipNatOptions(config),
    });
    this.http.route('/whip/', (req, res, subpath) => this.#routeWhip(req, res, subpath));
    this.hls = createHlsService({
      origin: this.origin,
      logger: logger.child({ component: 'hls' }),
      authorize: (broadcast, token) => this.policy.hlsSubscribe(broadcast, token),
    });
    this.http.route('/hls/', (req, res, subpath) => this.#routeHls(req, res, subpath));
    this.recorder = new Recorder({
      origin: this.origin,
      logger: logger.child({ component: 'record' }),
      prefixes: config.record,
      dir: config.recordDir,
      authorize: (broadcast, token) => this.policy.hlsSubscribe(broadcast, token),
    });
    this.http.route('/recordings/', (req, res, subpath) => this.recorder.handle(req, res, subpath));
    const nat = whipNatOptions(config);
    this.whep = createWhepService({
      broadcast: (path) => this.origin.get(path),
      requestKeyframe: (path) => this.publishers.requestKeyframe(path),
      authorize: (path, bearer) => this.policy.whepSubscribe(path, bearer),
      logger: logger.child({ component: 'whep' }),
      maxBodyBytes: config.maxHttpBodyBytes,
      iceTimeoutMs: config.handshakeTimeout,
      ...(nat.iceHosts ? { iceHosts: nat.iceHosts } : {}),
      ...(nat.udpPortRange ? { udpPortRange: nat.udpPortRange } : {}),
    });
    this.http.route('/whep/', (req, res, subpath) => this.#routeWhep(req, res, subpath));
    this.metrics = this.#createMetrics();
    const metricsListen = parseHostPort(config.metricsListen);
    if (metricsListen) this.#metricsHttp = new HttpServer({ ...metricsListen, headersTimeoutMs: config.handshakeTimeout, logger, reusePort });
    this.metrics.mount(this.#metricsHttp ?? this.http, config.metricsToken, fleet && (() => fleet.ask({ kind: 'metrics' })));
    mountPages(this.http, { logger: logger.child({ component: 'web' }) });
    mountAccessCheck(this.http, () => this.policy.authenticator, (broadcast) => this.origin.get(broadcast) !== undefined);
  }

  async start(): Promise<GatewayPorts> {
    await this.policy.load(this.logger);
    await this.recorder.start();
    const http = await this.http.listen();
    const webrtc = await this.whip.listen();
    if (webrtc.udpPort !== undefined || webrtc.publicIp !== undefined) this.logger.info({ webrtcUdpPort: webrtc.udpPort, webrtcPublicIp: webrtc.publicIp }, 'WHIP ICE configured for NAT');
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
        reusePort: this.worker !== undefined,
        tls:
          this.config.tlsCert && this.config.rtmpsPort >= 0
            ? { port: this.config.rtmpsPort, cert: readFileSync(this.config.tlsCert), key: readFileSync(this.config.tlsKey) }
            : undefined,
        openPublisher: async (req) => {
          const auth = await this.policy.rtmpPublish(req.broadcast, req.query);
          await this.#claimAcrossWorkers(req.broadcast);
          return this.sessions.limited(req.remoteAddress, (release) => {
            const sink = this.publishers.open(req.broadcast, { protocol: 'rtmp', remoteAddress: req.remoteAddress }, req.terminate);
            this.policy.closeOnExpiry(auth, () => req.terminate('token expired'));
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
    // Under --workers N every worker binds the UDP port too (SO_REUSEPORT); a packet the kernel
    // hands to the wrong worker reaches its connection's owner by connection ID.
    if (this.config.quic) {
      if (this.worker && this.worker.count > 1) {
        const steering = await SteeringLink.bind(this.worker.index, this.logger);
        process.on('message', (message: unknown) => {
          if (isSteeringPeersMessage(message)) steering.setPeers(message.ports);
        });
        this.#steering = steering;
        const server = await this.#moq.startQuic(http, { steering, devCertificate: SharedDevCertificate.fromEnv() });
        if (server) steering.attach(server);
      } else {
        await this.#moq.startQuic(http);
      }
      const udp = udpMode();
      if (udp.mode === 'dgram') this.logger.warn({ reason: udp.reason }, 'QUIC uses node:dgram (one syscall per packet), not the batched UDP addon');
    }
    // Before the cluster: a sibling worker's broadcast resolves through the mesh, never through Redis.
    if (this.worker && this.worker.count > 1) await this.#joinWorkerMesh(this.worker);
    if (this.config.clusterRedis) {
      const host = ['0.0.0.0', '::', ''].includes(this.config.host) ? hostname() : this.config.host;
      this.cluster = await startCluster({
        origin: this.origin,
        redisUrl: this.config.clusterRedis,
        nodeId: (this.config.nodeId || `${hostname()}:${http}`) + (this.worker ? `/worker-${this.worker.index}` : ''),
        advertiseUrl: this.config.advertiseUrl || `http://${host}:${http}/`,
        logger: this.logger.child({ component: 'cluster' }),
        ttlMs: this.config.clusterTtl,
        nodeToken: await this.policy.clusterSigningKey().then((key) => key && nodeTokenSource(key)),
        trackOptions: { cacheBytes: this.config.cacheBytes, maxGroupBytes: this.config.maxGroupBytes },
      });
    }
    return this.ports;
  }

  /** Another worker's question (app/workers/fleet.ts): this process's part of the answer. */
  #answerFleet(query: FleetQuery): unknown {
    switch (query.kind) {
      case 'api-broadcasts':
        return this.#api.broadcasts(true).then((broadcasts) => ({ worker: this.worker?.index ?? 0, broadcasts }));
      case 'api-sessions':
        return this.#api.sessions();
      case 'metrics':
        return this.metrics.json();
      case 'kick-session':
        return this.#api.kickSession(query.id);
      case 'kick-broadcast':
        return this.#api.kickPublisher(query.path);
      case 'release-publisher':
        return this.publishers.yieldTo(query.path);
    }
  }

  /**
   * Under `--workers N`: a publisher of `path` arrives here while another worker holds the name
   * (an encoder reconnecting within its grace lands on any worker). That worker gives it up as
   * open() would in one process (refused while its publisher is connected, unless --takeover),
   * and this one publishes once the release has reached it, so there is never a second owner.
   */
  async #claimAcrossWorkers(path: string): Promise<void> {
    if (!this.#fleet || !this.mesh?.ownerOf(path)) return;
    const answers = await this.#fleet.ask({ kind: 'release-publisher', path });
    if (answers.includes('held')) throw new PublishRefusedError(`broadcast ${path} is already being published`);
    const deadline = Date.now() + CLAIM_WAIT_MS;
    while (this.mesh.ownerOf(path) && Date.now() < deadline) await sleep(10);
  }

  /** This worker's QUIC steering port, when it serves QUIC under a supervisor. */
  get steeringPort(): number | undefined {
    return this.#steering?.port;
  }

  async #joinWorkerMesh(worker: WorkerRole): Promise<void> {
    // Loopback only, one per worker: a shared SO_REUSEPORT port would land a link on any worker.
    this.#meshHttp = new HttpServer({ host: '127.0.0.1', port: 0, logger: this.logger, headersTimeoutMs: this.config.handshakeTimeout });
    this.#meshHttp.onUpgrade((req, socket, head) => this.#moq.handleUpgrade(req, socket, head, true));
    this.#meshHttp.route('/hls/', (req, res, subpath) => this.hls.handle(req, res, subpath));
    this.#meshHttp.route('/whip/', (req, res, subpath) => this.whip.handle(req, res, subpath));
    this.#meshHttp.route('/whep/', (req, res, subpath) => this.whep.handle(req, res, subpath));
    this.#forwarder = new HttpForwarder();
    const port = await this.#meshHttp.listen();
    const mesh = new WorkerMesh({
      origin: this.origin,
      self: { node: `worker-${worker.index}`, url: `ws://127.0.0.1:${port}/` },
      logger: this.logger.child({ component: 'mesh' }),
      publish: (announcement) => process.send?.({ type: 'mesh', announcement } satisfies WorkerMeshMessage),
      nodeToken: await this.policy.clusterSigningKey().then((key) => key && nodeTokenSource(key)),
      trackOptions: { cacheBytes: this.config.cacheBytes, maxGroupBytes: this.config.maxGroupBytes },
    });
    process.on('message', (message: unknown) => {
      if (isWorkerMeshMessage(message)) mesh.apply(message.announcement);
    });
    mesh.start();
    this.mesh = mesh;
  }

  /**
   * A packaging session (and every segment URL in its playlists) lives in one process, while a
   * player's connections land on any worker: so the worker holding the broadcast serves all of
   * its HLS requests, and the others forward them there.
   */
  #routeHls(req: IncomingMessage, res: ServerResponse, subpath: string): void {
    const broadcast = parseHlsPath(subpath)?.broadcast;
    const owner = broadcast === undefined ? undefined : this.mesh?.ownerOf(broadcast);
    if (owner && this.#forwarder) this.#forwarder.forward(req, res, owner);
    else this.hls.handle(req, res, subpath);
  }

  /**
   * WHEP sessions live on the worker holding their broadcast (its groups are local there), so
   * the offer and the session resource (`/whep/<broadcast>/<id>`) are all served there.
   */
  async #routeWhep(req: IncomingMessage, res: ServerResponse, subpath: string): Promise<void> {
    const segments = subpath.split('/').filter((s) => s.length > 0);
    const broadcast = req.method === 'PATCH' || req.method === 'DELETE' ? segments.slice(0, -1).join('/') : segments.join('/');
    const owner = broadcast === '' ? undefined : this.mesh?.ownerOf(broadcast);
    if (owner && this.#forwarder) this.#forwarder.forward(req, res, owner);
    else await this.whep.handle(req, res, subpath);
  }

  /** A WHIP session's resource (`/whip/<broadcast>/<id>`: trickle PATCH, DELETE) is on the worker holding its broadcast. */
  async #routeWhip(req: IncomingMessage, res: ServerResponse, subpath: string): Promise<void> {
    const segments = subpath.split('/').filter((s) => s.length > 0);
    const owner = req.method === 'PATCH' || req.method === 'DELETE' ? this.mesh?.ownerOf(segments.slice(0, -1).join('/')) : undefined;
    if (owner && this.#forwarder) this.#forwarder.forward(req, res, owner);
    else await this.whip.handle(req, res, subpath);
  }

  /** Dev mode: the certificate hash browsers pin (fetched cross-origin by @moq/watch). */
  #serveCertificateHash(res: ServerResponse): void {
    const hash = this.#moq.devCertificateHash;
    if (hash === undefined) throw new HttpError(404, 'not in dev mode: the server has a real certificate');
    res.writeHead(200, { 'content-type': 'text/plain', 'access-control-allow-origin': '*', 'cache-control': 'no-cache' });
    res.end(hash);
  }

  #createMetrics(): GatewayMetrics {
    const ingest = (key: 'frames' | 'bytes') => [...this.publishers.totals()].map(([protocol, t]) => ({ labels: { protocol }, value: t[key] }));
    return new GatewayMetrics({
      sessions: () => this.sessions.counts(),
      broadcasts: () => this.origin.list().length,
      ingestFrames: () => ingest('frames'),
      ingestBytes: () => ingest('bytes'),
      egressBytes: () => this.sessions.totals('bytesSent'),
      egressGroups: () => this.sessions.totals('groupsSent'),
      groupsDropped: () => this.sessions.totals('groupsDropped'),
      viewersStalled: () => this.sessions.totals('viewersStalled'),
      hlsRequests: () => [{ labels: { kind: 'all' }, value: this.hls.stats().requests }],
      clusterUpstreams: () => this.cluster?.upstreams() ?? 0,
    });
  }

  /** Graceful stop: refuse new work, end sessions and publishers, close listeners. */
  async close(): Promise<void> {
    // Withdraw from the other nodes first, so their viewers end before our broadcasts do.
    await this.cluster?.close().catch((error: unknown) => this.logger.warn({ err: error }, 'cluster shutdown failed'));
    this.mesh?.close();
    void this.http.stopAccepting();
    this.hls.close(); // ENDLIST: blocking reloads waiting now are answered with it
    this.publishers.closeAll(); // broadcasts end: subscribers' tracks end cleanly
    this.sessions.goAwayAll();
    // Let the ends of tracks and the last playlists reach their clients before cutting sockets.
    await sleep(SHUTDOWN_DRAIN_MS);
    // The broadcasts ended: recordings write their last segments and end marks.
    this.recorder.close();
    await Promise.race([this.recorder.drained(), sleep(SHUTDOWN_RECORDING_MS)]);
    await this.sessions.closeAll('server shutting down', SHUTDOWN_SESSION_CLOSE_MS);
    await Promise.allSettled([this.#moq.close(), this.#rtmp?.close(), this.whip.close(), this.whep.close(), this.http.close(SHUTDOWN_HTTP_GRACE_MS), this.#metricsHttp?.close(), this.#meshHttp?.close()]);
    this.#steering?.close();
    this.#forwarder?.close();
  }
}

/** How long a new publisher waits for another worker's release of its name to arrive. */
const CLAIM_WAIT_MS = 2000;
/** How long shutdown lets the ends of tracks and last playlists flush before closing sessions. */
const SHUTDOWN_DRAIN_MS = 250;
/** How long recordings may take to write their last segments at shutdown. */
const SHUTDOWN_RECORDING_MS = 2000;
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

/**
 * Several gateway nodes as one network, through Redis:
 * - every node registers the broadcasts it originates (records.ts) with a TTL, refreshed by a
 *   heartbeat every TTL/3, removed on clean shutdown, expiring on their own after a crash;
 * - announcements travel on a pub/sub channel, and each node rescans the registrations every
 *   heartbeat (and at start, and after Redis comes back), so every node knows every broadcast and
 *   announces the remote ones into its Origin;
 * - a local viewer of a remote broadcast is served through an Origin resolver: one moq-lite client
 *   connection per remote node, one upstream subscription per track (remote-broadcasts.ts);
 * - Redis going away leaves local broadcasts serving and open upstreams flowing; when it returns,
 *   everything is registered again.
 * Node-to-node loops cannot form: a node only subscribes to the node that registered a broadcast,
 * and registers only broadcasts that are local to it (never ones it relays).
 */
import type { Origin, TrackOptions } from '../relay/index.ts';
import type { StructuredLogger } from '../logger.ts';
import { RemoteDirectory } from './directory.ts';
import { applyDirectoryChange } from './directory-announcements.ts';
import { ClusterError } from './errors.ts';
import { LocalBroadcasts } from './local-broadcasts.ts';
import { NodeLinks } from './node-links.ts';
import { ClusterKeys, decodeAnnounce, type NodeAddress } from './records.ts';
import { RedisConnection, redactUrl } from './redis-connection.ts';
import { Registrar } from './registrar.ts';
import { RemoteBroadcasts } from './remote-broadcasts.ts';

const DEFAULT_CLUSTER_TTL_MS = 10_000;
const DEFAULT_CLUSTER_KEY_PREFIX = 'moq:';

export interface ClusterOptions {
  origin: Origin;
  /** `redis://[user:password@]host:port[/db]` (or `rediss://`). */
  redisUrl: string;
  /** Unique among the nodes sharing the Redis. */
  nodeId: string;
  /** This node's MoQ endpoint as the other nodes reach it, e.g. `http://10.0.0.5:4443/`. */
  advertiseUrl: string;
  logger: StructuredLogger;
  /** Node token for connections to other nodes (`?jwt=`); needed when they require auth. */
  nodeToken?: () => Promise<string>;
  /** Registration lifetime without a heartbeat (default 10 s; the heartbeat runs every TTL/3). */
  ttlMs?: number;
  /** Prefix of every Redis key and channel (default `moq:`), to share one Redis between clusters. */
  keyPrefix?: string;
  /** How long Redis has to answer at start (default 3 s). */
  connectTimeoutMs?: number;
  /** Options for the relay tracks fed from other nodes (cache bounds). */
  trackOptions?: TrackOptions;
}

export interface ClusterStats {
  nodeId: string;
  redis: 'ready' | 'down';
  /** Broadcasts this node originates (and registers). */
  localBroadcasts: number;
  /** Broadcasts other nodes originate, with their owner. */
  remoteBroadcasts: { path: string; node: string }[];
  /** Remote broadcasts being served here now (a local viewer asked for them). */
  relayedBroadcasts: number;
  /** moq-lite connections to other nodes. */
  nodeConnections: number;
  /** Upstream track subscriptions open now: one per remote track with local viewers. */
  upstreamSubscriptions: number;
  /** Upstream track subscriptions opened since start. */
  upstreamSubscriptionsOpened: number;
}

export interface Cluster {
  readonly nodeId: string;
  /** Unregisters this node's broadcasts, ends relayed ones, closes connections. */
  close(): Promise<void>;
  /** Upstream track subscriptions open now. */
  upstreams(): number;
  stats(): ClusterStats;
}

/** Joins the cluster; ClusterError when the options are unusable or Redis cannot be reached. */
export async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const ttlMs = options.ttlMs ?? DEFAULT_CLUSTER_TTL_MS;
  if (!options.nodeId) throw new ClusterError('the cluster needs a node id');
  if (!Number.isFinite(ttlMs) || ttlMs < 300) throw new ClusterError(`cluster TTL ${ttlMs} ms is too short (at least 300 ms)`);
  const self: NodeAddress = { node: options.nodeId, url: checkAdvertiseUrl(options.advertiseUrl) };
  const node = new ClusterNode(options, self, ttlMs);
  await node.start();
  return node;
}

function checkAdvertiseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ClusterError(`advertise URL "${raw}" is not a URL`);
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol)) throw new ClusterError(`advertise URL ${raw} must be http(s):// or ws(s)://`);
  // Other nodes subscribe by full broadcast path: the session root must be '/'.
  if (url.pathname !== '/' || url.search !== '') throw new ClusterError(`advertise URL ${raw} must have no path or query`);
  return url.toString();
}

/** A node that could not be reached is not dialled again sooner than this. */
const CONNECT_RETRY_AFTER_MS = 1000;
const SHUTDOWN_UNREGISTER_MS = 2000;

class ClusterNode implements Cluster {
  readonly nodeId: string;
  readonly #options: ClusterOptions;
  readonly #logger: StructuredLogger;
  readonly #ttlMs: number;
  readonly #keys: ClusterKeys;
  readonly #redis: RedisConnection;
  readonly #registrar: Registrar;
  readonly #local: LocalBroadcasts;
  readonly #directory: RemoteDirectory;
  readonly #links: NodeLinks;
  readonly #remote: RemoteBroadcasts;
  /** Local broadcasts another node has since claimed (logged once each). */
  readonly #yielded = new Set<string>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #ticking = false;
  /** After an outage, other nodes need a heartbeat to re-register: no expiry until then. */
  #removalsAllowedAt = 0;
  #closed = false;

  constructor(options: ClusterOptions, self: NodeAddress, ttlMs: number) {
    this.nodeId = self.node;
    this.#options = options;
    this.#logger = options.logger;
    this.#ttlMs = ttlMs;
    this.#keys = new ClusterKeys(options.keyPrefix ?? DEFAULT_CLUSTER_KEY_PREFIX);
    const heartbeatMs = this.#heartbeatMs;
    this.#redis = new RedisConnection({
      url: options.redisUrl,
      connectTimeoutMs: options.connectTimeoutMs ?? 3000,
      maxBackoffMs: Math.min(2000, heartbeatMs),
      onLost: (error) => this.#logger.warn({ redis: redactUrl(options.redisUrl), err: error }, 'lost Redis: local broadcasts keep serving; registration resumes when it is back'),
      onRestored: () => void this.#resync(),
    });
    this.#registrar = new Registrar(this.#redis.commands, this.#keys, self, ttlMs);
    this.#local = new LocalBroadcasts(options.origin, (path, active) => this.#onLocalChange(path, active));
    this.#directory = new RemoteDirectory(self.node, (path, previous, next) => this.#onDirectoryChange(path, previous, next));
    this.#links = new NodeLinks({
      nodeToken: options.nodeToken,
      logger: this.#logger,
      connectTimeoutMs: 5000,
      retryAfterMs: CONNECT_RETRY_AFTER_MS,
      trackOptions: options.trackOptions ?? {},
      onClosed: (node) => this.#remote.closeNode(node),
    });
    this.#remote = new RemoteBroadcasts((path) => this.#directory.get(path), this.#links, options.trackOptions ?? {});
  }

  get #heartbeatMs(): number {
    return Math.max(100, Math.floor(this.#ttlMs / 3));
  }

  async start(): Promise<void> {
    await this.#redis.connect();
    this.#redis.subscriber.on('message', (channel: string, raw: string) => this.#onMessage(channel, raw));
    try {
      await this.#redis.subscriber.subscribe(this.#keys.channel);
      this.#local.start();
      // Registrations left by an earlier run of this node (a crash) are not true any more.
      this.#directory.beginScan();
      const snapshot = await this.#registrar.scan(MAX_SCAN);
      this.#directory.completeScan(snapshot, { allowRemovals: true });
      const stale = snapshot.filter((r) => r.node === this.nodeId && !this.#local.has(r.path));
      await Promise.all(stale.map((r) => this.#registrar.unregister(r.path, { node: r.node, url: r.url })));
      await Promise.all(this.#local.paths().map((path) => this.#registrar.register(path)));
    } catch (error) {
      this.#local.stop();
      this.#redis.disconnect();
      throw new ClusterError(`joining the cluster through ${redactUrl(this.#options.redisUrl)} failed: ${describe(error)}`);
    }
    this.#options.origin.addResolver((path) => this.#remote.resolve(path));
    this.#timer = setInterval(() => void this.#tick(), this.#heartbeatMs);
    this.#timer.unref();
    this.#logger.info(
      { node: this.nodeId, url: this.#registrar.self.url, redis: redactUrl(this.#options.redisUrl), local: this.#local.paths().length, remote: this.#directory.size },
      'joined the cluster',
    );
  }

  upstreams(): number {
    return this.#links.upstreams();
  }

  stats(): ClusterStats {
    return {
      nodeId: this.nodeId,
      redis: this.#redis.status,
      localBroadcasts: this.#local.paths().length,
      remoteBroadcasts: this.#directory.entries().map(({ path, node }) => ({ path, node })),
      relayedBroadcasts: this.#remote.size,
      nodeConnections: this.#links.connections,
      upstreamSubscriptions: this.#links.upstreams(),
      upstreamSubscriptionsOpened: this.#links.upstreamsOpened(),
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#local.stop();
    if (this.#redis.ready) {
      const releasing = Promise.allSettled(this.#local.paths().map((path) => this.#registrar.unregister(path)));
      await Promise.race([releasing, new Promise((resolve) => setTimeout(resolve, SHUTDOWN_UNREGISTER_MS).unref())]);
    }
    this.#directory.clear();
    this.#remote.closeAll();
    this.#links.closeAll();
    await this.#redis.close();
    this.#logger.info({ node: this.nodeId }, 'left the cluster');
  }

  /** Heartbeat, then reconcile with the registrations (expiry of crashed nodes shows up here). */
  async #tick(): Promise<void> {
    if (this.#ticking || this.#closed || !this.#redis.ready) return;
    this.#ticking = true;
    try {
      await this.#heartbeat();
      await this.#scan(Date.now() >= this.#removalsAllowedAt);
    } catch (error) {
      // Redis went away mid-tick: onLost reports it; the next tick or the resync catches up.
      this.#logger.debug({ err: describe(error) }, 'cluster heartbeat failed');
    } finally {
      this.#ticking = false;
    }
  }

  async #heartbeat(): Promise<void> {
    const outcomes = await this.#registrar.refresh(this.#local.paths());
    for (const [path, outcome] of outcomes) {
      if (outcome !== 'taken') {
        if (this.#yielded.delete(path)) this.#logger.info({ path }, 'broadcast registered for this node again');
      } else if (!this.#yielded.has(path)) {
        this.#yielded.add(path);
        this.#logger.warn({ path }, 'another node now originates this broadcast for the cluster; serving the local one here only');
      }
    }
  }

  async #scan(allowRemovals: boolean): Promise<void> {
    this.#directory.beginScan();
    const snapshot = await this.#registrar.scan(MAX_SCAN);
    if (this.#closed) return;
    this.#directory.completeScan(snapshot, { allowRemovals });
  }

  /** Redis is back: register everything again and catch up with what was missed. */
  async #resync(): Promise<void> {
    if (this.#closed) return;
    this.#removalsAllowedAt = Date.now() + this.#ttlMs;
    this.#logger.info({ local: this.#local.paths().length }, 'Redis is back: registering local broadcasts again');
    await this.#tick();
  }

  #onLocalChange(path: string, active: boolean): void {
    if (this.#closed) return;
    const task = active ? this.#registrar.register(path) : this.#registrar.unregister(path);
    task.then(
      () => this.#logger.debug({ path, active }, active ? 'registered local broadcast' : 'unregistered local broadcast'),
      // While Redis is down this fails; the resync after it returns registers what is live then.
      (error: unknown) => this.#logger.debug({ path, active, err: describe(error) }, 'registration not written'),
    );
    this.#yielded.delete(path);
    // The Origin announced the local end; a copy elsewhere in the cluster is still there.
    if (!active && this.#directory.get(path)) this.#options.origin.announceRemote({ path, active: true });
  }

  #onDirectoryChange(path: string, previous: NodeAddress | undefined, next: NodeAddress | undefined): void {
    applyDirectoryChange({ origin: this.#options.origin, local: this.#local, links: this.#links, remote: this.#remote, logger: this.#logger }, path, previous, next);
  }

  #onMessage(channel: string, raw: string): void {
    if (channel !== this.#keys.channel || this.#closed) return;
    const message = decodeAnnounce(raw);
    if (!message) return this.#logger.debug({ raw: raw.slice(0, 200) }, 'malformed cluster announcement ignored');
    this.#directory.apply(message);
  }
}

/** Registrations read per scan at most (the directory is bounded the same way). */
const MAX_SCAN = 100_000;

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The workers of one `--workers N` gateway as one relay (issue 14, point 3). A broadcast lives on
 * the worker whose socket took its publisher; every other worker serves it through one upstream
 * subscription per track to that worker, like a cluster node does to another node, so a viewer
 * may land on any worker. What the Redis cluster learns from registrations, the mesh learns from
 * its supervisor: each worker reports its local broadcasts (`publish`), and the supervisor passes
 * every worker's reports to the others (`apply`), withdrawing a dead worker's on its behalf.
 * Workers reach each other on a private loopback listener each (`self.url`, ws://: no QUIC), so a
 * link never lands on the wrong worker the way a shared SO_REUSEPORT port would.
 */
import { normalizePath, type Broadcast, type Origin, type TrackOptions } from '../relay/index.ts';
import type { StructuredLogger } from '../logger.ts';
import { RemoteDirectory } from './directory.ts';
import { applyDirectoryChange } from './directory-announcements.ts';
import { LocalBroadcasts } from './local-broadcasts.ts';
import { NodeLinks } from './node-links.ts';
import type { NodeAddress, Registration } from './records.ts';
import { RemoteBroadcasts } from './remote-broadcasts.ts';

/** One worker's broadcast appearing (`active`) or ending, as the supervisor relays it. */
export interface MeshAnnouncement extends Registration {
  active: boolean;
}

export interface WorkerMeshOptions {
  origin: Origin;
  /** This worker: a node id unique among the workers and its private `ws://127.0.0.1:port/`. */
  self: NodeAddress;
  logger: StructuredLogger;
  /** Reports a change of this worker's local broadcasts to the supervisor. */
  publish(announcement: MeshAnnouncement): void;
  /** Node token (`?jwt=`) for links to the other workers when auth is on. */
  nodeToken?: () => Promise<string>;
  trackOptions?: TrackOptions;
}

export interface WorkerMeshStats {
  /** Broadcasts other workers originate. */
  remoteBroadcasts: number;
  /** Links to other workers open now. */
  workerConnections: number;
  /** Upstream track subscriptions to other workers open now. */
  upstreamSubscriptions: number;
}

export class WorkerMesh {
  readonly #options: WorkerMeshOptions;
  readonly #local: LocalBroadcasts;
  readonly #directory: RemoteDirectory;
  readonly #links: NodeLinks;
  readonly #remote: RemoteBroadcasts;
  #closed = false;

  constructor(options: WorkerMeshOptions) {
    this.#options = options;
    const trackOptions = options.trackOptions ?? {};
    this.#local = new LocalBroadcasts(options.origin, (path, active) => this.#report(path, active));
    this.#links = new NodeLinks({
      nodeToken: options.nodeToken,
      logger: options.logger,
      connectTimeoutMs: 5000,
      retryAfterMs: 500,
      trackOptions,
      onClosed: (node) => this.#remote.closeNode(node),
    });
    this.#remote = new RemoteBroadcasts((path) => this.#directory.get(path), this.#links, trackOptions);
    this.#directory = new RemoteDirectory(options.self.node, (path, previous, next) =>
      applyDirectoryChange({ origin: options.origin, local: this.#local, links: this.#links, remote: this.#remote, logger: options.logger }, path, previous, next),
    );
  }

  /** Reports what is local now and starts resolving the other workers' broadcasts. */
  start(): void {
    this.#local.start();
    for (const path of this.#local.paths()) this.#report(path, true);
    this.#options.origin.addResolver((path) => this.#remote.resolve(path));
  }

  /** Another worker's change, relayed by the supervisor. */
  apply(announcement: MeshAnnouncement): void {
    if (!this.#closed) this.#directory.apply(announcement);
  }

  /** The private URL of the worker holding `path`, when another worker holds it. */
  ownerOf(path: string): URL | undefined {
    const address = this.#directory.get(normalizePath(path));
    return address ? new URL(address.url) : undefined;
  }

  /** Copies of other workers' broadcasts this worker holds for its viewers (not in Origin.list()). */
  relayed(): Broadcast[] {
    return this.#remote.copies();
  }

  stats(): WorkerMeshStats {
    return { remoteBroadcasts: this.#directory.size, workerConnections: this.#links.connections, upstreamSubscriptions: this.#links.upstreams() };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#local.stop();
    for (const path of this.#local.paths()) this.#report(path, false);
    this.#directory.clear();
    this.#remote.closeAll();
    this.#links.closeAll();
  }

  #report(path: string, active: boolean): void {
    this.#options.publish({ path, ...this.#options.self, active });
  }
}

/**
 * moq-lite client connections to the other nodes (raw QUIC, else WebSocket: see node-dial.ts):
 * at most one per node, opened when a local viewer first needs one of its tracks and shared by
 * every upstream subscription to it. A node that could not be reached is not dialled again for
 * `retryAfterMs`, so a burst of viewers for a dead node costs one attempt. When a connection
 * ends, `onClosed` runs before its tracks end.
 */
import { RelayError, RelayErrorCode, Track, type TrackOptions } from '../relay/index.ts';
import type { LiteClient, LiteClientCloseInfo } from '../moq/lite/client.ts';
import { dialNode } from './node-dial.ts';
import type { StructuredLogger } from '../logger.ts';
import type { NodeAddress } from './records.ts';

export interface NodeLinksOptions {
  /** A node token (`?jwt=`), asked for each new connection. */
  nodeToken?: () => Promise<string>;
  logger: StructuredLogger;
  connectTimeoutMs: number;
  retryAfterMs: number;
  trackOptions: TrackOptions;
  onClosed(node: string, info: LiteClientCloseInfo): void;
}

interface Link {
  address: NodeAddress;
  client: Promise<LiteClient>;
  connected: LiteClient | undefined;
}

export class NodeLinks {
  readonly #links = new Map<string, Link>();
  readonly #failedAt = new Map<string, number>();
  /** Subscriptions opened on connections that have since closed. */
  #openedOnClosedLinks = 0;
  #closed = false;

  constructor(private readonly options: NodeLinksOptions) {}

  /** A relay track fed by one upstream subscription to `track` of `path` on `address`. */
  subscribe(address: NodeAddress, path: string, name: string, priority: number): Track {
    const track = new Track(name, this.options.trackOptions);
    const failedAt = this.#failedAt.get(address.node);
    if (this.#closed || (failedAt !== undefined && Date.now() - failedAt < this.options.retryAfterMs)) {
      track.abort(new RelayError(`node ${address.node} is unreachable`, RelayErrorCode.publisherGone));
      return track;
    }
    this.#link(address).client.then(
      (client) => {
        if (!track.ended) client.subscribe(path, name, priority, { track, ordered: true });
      },
      (error: unknown) => track.abort(new RelayError(`node ${address.node} is unreachable: ${describe(error)}`, RelayErrorCode.publisherGone)),
    );
    return track;
  }

  /** Connections open (or opening) now. */
  get connections(): number {
    return this.#links.size;
  }

  /** Upstream subscriptions open now, over every connection. */
  upstreams(): number {
    let total = 0;
    for (const link of this.#links.values()) total += link.connected?.stats().subscriptions ?? 0;
    return total;
  }

  /** Upstream subscriptions opened since start. */
  upstreamsOpened(): number {
    let total = this.#openedOnClosedLinks;
    for (const link of this.#links.values()) total += link.connected?.stats().subscriptionsOpened ?? 0;
    return total;
  }

  /** Drops the connection to `node` if its address changed (the node restarted elsewhere). */
  forgetIfMoved(address: NodeAddress): void {
    const link = this.#links.get(address.node);
    if (link && link.address.url !== address.url) link.connected?.close(0, 'node moved');
  }

  closeAll(): void {
    this.#closed = true;
    for (const link of [...this.#links.values()]) {
      link.connected?.close(0, 'cluster node shutting down');
      void link.client.then((client) => client.close(0, 'cluster node shutting down'), () => undefined);
    }
  }

  #link(address: NodeAddress): Link {
    const existing = this.#links.get(address.node);
    if (existing && existing.address.url === address.url) return existing;
    existing?.connected?.close(0, 'node moved');
    const link: Link = { address, client: this.#connect(address, () => link), connected: undefined };
    link.client.catch(() => undefined);
    this.#links.set(address.node, link);
    return link;
  }

  async #connect(address: NodeAddress, self: () => Link): Promise<LiteClient> {
    const { options } = this;
    try {
      const token = options.nodeToken ? await options.nodeToken() : undefined;
      const { client, transport } = await dialNode(address.url, {
        token,
        connectTimeoutMs: options.connectTimeoutMs,
        logger: options.logger,
        onClose: (info) => this.#onClose(self(), info),
      });
      self().connected = client;
      this.#failedAt.delete(address.node);
      options.logger.info({ node: address.node, url: address.url, transport, version: client.stats().version }, 'connected to cluster node');
      if (this.#closed) client.close(0, 'cluster node shutting down');
      return client;
    } catch (error) {
      if (this.#links.get(address.node) === self()) this.#links.delete(address.node);
      this.#failedAt.set(address.node, Date.now());
      options.logger.warn({ node: address.node, url: address.url, err: describe(error) }, 'cannot connect to cluster node');
      throw error;
    }
  }

  #onClose(link: Link, info: LiteClientCloseInfo): void {
    if (this.#links.get(link.address.node) === link) this.#links.delete(link.address.node);
    this.#openedOnClosedLinks += link.connected?.stats().subscriptionsOpened ?? 0;
    if (info.failed) this.#failedAt.set(link.address.node, Date.now());
    const log = info.failed ? this.options.logger.warn : this.options.logger.info;
    log.call(this.options.logger, { node: link.address.node, reason: info.reason }, 'connection to cluster node ended');
    this.options.onClosed(link.address.node, info);
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

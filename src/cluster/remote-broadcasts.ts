/**
 * The Origin resolver for broadcasts other nodes originate: one relay Broadcast per remote path,
 * created when a local viewer (MoQ session, HLS) first asks for it and kept while the directory
 * says the same node owns it. Its tracks are on demand (Broadcast.onTrackRequest), so however many
 * local viewers watch, each track has exactly one upstream subscription on this node; it is
 * dropped when the last viewer leaves.
 *
 * A cached broadcast is closed (its viewers get a clean end) when the directory withdraws the
 * path or hands it to another node, or when the connection to its node ends; the next request
 * then resolves afresh.
 */
import { Broadcast, type TrackOptions } from '../relay/index.ts';
import type { NodeLinks } from './node-links.ts';
import type { NodeAddress } from './records.ts';

export class RemoteBroadcasts {
  readonly #cache = new Map<string, { broadcast: Broadcast; address: NodeAddress }>();
  #closed = false;

  constructor(
    private readonly lookup: (path: string) => NodeAddress | undefined,
    private readonly links: NodeLinks,
    private readonly trackOptions: TrackOptions,
  ) {}

  /** The resolver (Origin.addResolver): paths arrive normalized. */
  resolve(path: string): Broadcast | undefined {
    if (this.#closed) return undefined;
    const address = this.lookup(path);
    if (!address) return undefined;
    const cached = this.#cache.get(path);
    if (cached && !cached.broadcast.ended && cached.address.node === address.node && cached.address.url === address.url) return cached.broadcast;
    cached?.broadcast.close();
    const broadcast = new Broadcast(path, {
      onTrackRequest: (name, priority) => this.links.subscribe(address, path, name, priority),
      trackDefaults: this.trackOptions,
      info: { protocol: 'cluster', node: address.node, url: address.url },
    });
    this.#cache.set(path, { broadcast, address });
    void broadcast.closed().then(() => {
      if (this.#cache.get(path)?.broadcast === broadcast) this.#cache.delete(path);
    });
    return broadcast;
  }

  /** The live copies held now (being watched or recently asked for). */
  copies(): Broadcast[] {
    return [...this.#cache.values()].map((entry) => entry.broadcast).filter((broadcast) => !broadcast.ended);
  }

  /** Cached broadcasts (being watched or recently asked for). */
  get size(): number {
    return this.#cache.size;
  }

  /** The directory changed for `path`: the cached broadcast (if any) ends. */
  invalidate(path: string): void {
    this.#cache.get(path)?.broadcast.close();
  }

  /** The connection to `node` ended: its broadcasts end for their viewers. */
  closeNode(node: string): void {
    for (const { broadcast, address } of [...this.#cache.values()]) if (address.node === node) broadcast.close();
  }

  closeAll(): void {
    this.#closed = true;
    for (const { broadcast } of [...this.#cache.values()]) broadcast.close();
  }
}

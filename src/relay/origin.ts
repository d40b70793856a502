import type { Broadcast } from './broadcast.ts';
import { Notify } from './notify.ts';
import { RelayError, RelayErrorCode } from './errors.ts';
import { hasPrefix, normalizePath } from './path.ts';

export interface Announcement {
  /** Full broadcast path. */
  path: string;
  active: boolean;
}

/**
 * Finds broadcasts the origin does not hold locally (e.g. on another cluster node).
 * Returns a broadcast to serve, or undefined.
 */
export type BroadcastResolver = (path: string) => Broadcast | undefined;

/**
 * The relay's index of live broadcasts by path, and the source of announcements
 * (moq-lite §Announce): subscribers to a prefix learn which broadcasts start and end under it.
 */
export interface OriginLimits {
  /** Live broadcasts this node holds at most; one more is refused. */
  maxBroadcasts?: number;
  /** Tracks one broadcast may hold at most (publisher-created and on-demand). */
  maxTracksPerBroadcast?: number;
}

export class Origin {
  readonly #broadcasts = new Map<string, Broadcast>();
  readonly #maxBroadcasts: number;
  readonly #maxTracks: number;

  constructor(limits: OriginLimits = {}) {
    this.#maxBroadcasts = limits.maxBroadcasts ?? Number.POSITIVE_INFINITY;
    this.#maxTracks = limits.maxTracksPerBroadcast ?? Number.POSITIVE_INFINITY;
  }
  readonly #watchers = new Set<AnnouncementWatcher>();
  readonly #resolvers: BroadcastResolver[] = [];
  /** Paths announced as served elsewhere, replayed to new watchers. */
  readonly #remote = new Set<string>();

  /**
   * Make a broadcast available at its path and announce it. It is unannounced when it ends.
   * Throws if a live broadcast already holds the path.
   */
  publish(broadcast: Broadcast): void {
    const path = normalizePath(broadcast.path);
    const existing = this.#broadcasts.get(path);
    if (existing && !existing.ended) {
      throw new RelayError(`broadcast ${path} is already published`, RelayErrorCode.duplicate);
    }
    if (!existing && this.#broadcasts.size >= this.#maxBroadcasts) {
      throw new RelayError(`broadcast limit reached (${this.#maxBroadcasts})`, RelayErrorCode.tooLarge);
    }
    broadcast.maxTracks = Math.min(broadcast.maxTracks, this.#maxTracks);
    this.#broadcasts.set(path, broadcast);
    this.#announce({ path, active: true });
    void broadcast.closed().then(() => {
      if (this.#broadcasts.get(path) !== broadcast) return;
      this.#broadcasts.delete(path);
      this.#announce({ path, active: false });
    });
  }

  /** Live broadcast at `path`, locally or through a resolver. */
  get(path: string): Broadcast | undefined {
    const normalized = normalizePath(path);
    const local = this.#broadcasts.get(normalized);
    if (local && !local.ended) return local;
    for (const resolve of this.#resolvers) {
      const found = resolve(normalized);
      if (found && !found.ended) return found;
    }
    return undefined;
  }

  /** Locally held live broadcasts under a prefix. */
  list(prefix = ''): Broadcast[] {
    const normalized = normalizePath(prefix);
    return [...this.#broadcasts.values()].filter((b) => !b.ended && hasPrefix(normalizePath(b.path), normalized));
  }

  /** Add a fallback for paths not held locally (cluster). */
  addResolver(resolver: BroadcastResolver): void {
    this.#resolvers.push(resolver);
  }

  /**
   * Announce a path that is served elsewhere (another node) so local watchers see it too.
   * `active: false` withdraws it.
   */
  announceRemote(announcement: Announcement): void {
    const path = normalizePath(announcement.path);
    if (announcement.active) this.#remote.add(path);
    else this.#remote.delete(path);
    this.#announce({ path, active: announcement.active });
  }

  /** Watch announcements under a prefix, starting with every broadcast live now. */
  watch(prefix = ''): AnnouncementWatcher {
    const watcher = new AnnouncementWatcher(normalizePath(prefix), () => this.#watchers.delete(watcher));
    for (const path of this.#broadcasts.keys()) watcher.push({ path, active: true });
    for (const path of this.#remote) if (!this.#broadcasts.has(path)) watcher.push({ path, active: true });
    this.#watchers.add(watcher);
    return watcher;
  }

  #announce(announcement: Announcement): void {
    for (const watcher of this.#watchers) watcher.push(announcement);
  }
}

/**
 * A subscriber's stream of announcements, in order. The queue is bounded: a watcher that lets
 * more than `maxPending` changes pile up is closed (`overflowed`), and its session should end.
 */
export class AnnouncementWatcher {
  static maxPending = 10_000;
  readonly #pending: Announcement[] = [];
  readonly #changed = new Notify();
  #closed = false;
  overflowed = false;

  constructor(
    readonly prefix: string,
    private readonly onClose: () => void,
  ) {}

  /** @internal */
  push(announcement: Announcement): void {
    if (this.#closed || !hasPrefix(announcement.path, this.prefix)) return;
    if (this.#pending.length >= AnnouncementWatcher.maxPending) {
      this.overflowed = true;
      this.close();
      return;
    }
    this.#pending.push(announcement);
    this.#changed.notify();
  }

  /** The next change, or undefined once closed. */
  async next(): Promise<Announcement | undefined> {
    for (;;) {
      if (this.#closed) return undefined;
      const next = this.#pending.shift();
      if (next) return next;
      await this.#changed.wait();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.length = 0;
    this.#changed.notify();
    this.onClose();
  }
}

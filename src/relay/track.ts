import { type ByteCounter, Group } from './group.ts';
import { Notify } from './notify.ts';
import { RelayError, RelayErrorCode } from './errors.ts';

export interface TrackOptions {
  /** Publisher priority (moq-lite §Priority): higher is sent first. */
  priority?: number;
  /**
   * Bytes of old groups kept for late joiners. The latest group is always kept whole;
   * older ones are evicted oldest-first past this bound.
   */
  cacheBytes?: number;
  /** Groups a subscriber may have waiting before the oldest waiting one is dropped. */
  maxPendingGroups?: number;
  /** Largest group accepted; see Group. */
  maxGroupBytes?: number;
}

const DEFAULT_TRACK_CACHE_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_PENDING_GROUPS = 4;
const DEFAULT_MAX_GROUP_BYTES = 32 * 1024 * 1024;

/**
 * A track: a sequence of groups with one producer and any number of subscriptions.
 * It keeps the current and previous groups (bounded in bytes) so a new subscriber starts
 * at the latest group, and every subscription has its own small bounded queue: a subscriber
 * that does not keep up loses whole old groups and never slows the producer or anyone else.
 */
export class Track {
  readonly priority: number;
  readonly #cacheBytes: number;
  readonly #maxPending: number;
  readonly #maxGroupBytes: number;
  /** Cached groups in arrival order; the last one is the latest. */
  readonly #cache: Group[] = [];
  readonly #subscriptions = new Set<TrackSubscription>();
  readonly #received: ByteCounter = { bytes: 0 };
  /** When the track was created (ms since the epoch), the start of its byte count. */
  readonly createdAt = Date.now();
  #latestSequence = -1;
  #ended = false;
  #error: RelayError | undefined;
  readonly #endedNotify = new Notify();
  /** Called when the last subscription goes away (used to cancel on-demand upstreams). */
  onIdle: (() => void) | undefined;
  /** Called for every new subscription (a publisher may send a fresh keyframe for it). */
  onSubscribe: (() => void) | undefined;

  constructor(
    readonly name: string,
    options: TrackOptions = {},
  ) {
    this.priority = options.priority ?? 0;
    this.#cacheBytes = options.cacheBytes ?? DEFAULT_TRACK_CACHE_BYTES;
    this.#maxPending = Math.max(1, options.maxPendingGroups ?? DEFAULT_MAX_PENDING_GROUPS);
    this.#maxGroupBytes = options.maxGroupBytes ?? DEFAULT_MAX_GROUP_BYTES;
  }

  get ended(): boolean {
    return this.#ended;
  }

  get error(): RelayError | undefined {
    return this.#error;
  }

  get subscriberCount(): number {
    return this.#subscriptions.size;
  }

  /** Who subscribes: each subscription's owner (a viewer session, say), or the subscription itself. */
  *subscriberOwners(): IterableIterator<object> {
    for (const subscription of this.#subscriptions) yield subscription.owner;
  }

  /** Bytes of every frame written to this track since it was created (codec-blind ingest count). */
  get bytesReceived(): number {
    return this.#received.bytes;
  }

  /** The newest group, if any has been written. */
  get latest(): Group | undefined {
    return this.#cache.at(-1);
  }

  get latestSequence(): number {
    return this.#latestSequence;
  }

  /** Bytes currently held by the cache. */
  get cachedBytes(): number {
    let bytes = 0;
    for (const group of this.#cache) bytes += group.bytes;
    return bytes;
  }

  /** Groups currently cached, oldest first (for FETCH-style readers and stats). */
  cachedGroups(): readonly Group[] {
    this.#evict();
    return this.#cache;
  }

  /**
   * Start a new group. `sequence` defaults to one past the latest. A group older than the
   * latest (it arrived late on its own stream) is accepted but only handed to subscribers that
   * have not moved past it. `viaDatagrams`: see Group.
   */
  appendGroup(sequence = this.#latestSequence + 1, viaDatagrams = false): Group {
    if (this.#ended) throw new RelayError(`track ${this.name} has ended`, RelayErrorCode.internal);
    const group = new Group(sequence, this.#maxGroupBytes, viaDatagrams, this.#received);
    if (sequence > this.#latestSequence) {
      this.#latestSequence = sequence;
      this.#cache.push(group);
      this.#evict();
    }
    for (const subscription of this.#subscriptions) subscription.offer(group);
    return group;
  }

  /** Runs when a group starts and whenever the cache is read, since groups grow after they start. */
  #evict(): void {
    let total = this.cachedBytes;
    while (this.#cache.length > 1 && total > this.#cacheBytes) {
      const oldest = this.#cache.shift()!;
      total -= oldest.bytes;
    }
    // Keep at most the current and the previous group even when they are small:
    // late joiners start at the latest group, FETCH may want the one before.
    while (this.#cache.length > 2) this.#cache.shift();
  }

  /**
   * A new subscription, starting at the latest group. `owner`: who it is for (a session), so that
   * subscriptions of one viewer to several tracks count as one viewer.
   */
  subscribe(owner?: object): TrackSubscription {
    this.#evict();
    const subscription = new TrackSubscription(this, this.#maxPending, owner);
    this.#subscriptions.add(subscription);
    const latest = this.latest;
    if (latest) subscription.offer(latest);
    if (this.#ended) subscription.end(this.#error);
    else this.onSubscribe?.();
    return subscription;
  }

  /** @internal called by TrackSubscription.close() */
  unsubscribe(subscription: TrackSubscription): void {
    if (!this.#subscriptions.delete(subscription)) return;
    if (this.#subscriptions.size === 0) this.onIdle?.();
  }

  /** The publisher finished the track normally. Open groups are closed. */
  close(): void {
    this.#end(undefined);
  }

  /** The track ended abnormally (publisher gone, upstream reset). */
  abort(error: RelayError): void {
    this.#end(error);
  }

  #end(error: RelayError | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    for (const group of this.#cache) {
      if (error) group.abort(error);
      else group.close();
    }
    for (const subscription of this.#subscriptions) subscription.end(error);
    this.#endedNotify.notify();
  }

  /** Resolves when the track ends (either way). */
  async closed(): Promise<RelayError | undefined> {
    while (!this.#ended) await this.#endedNotify.wait();
    return this.#error;
  }
}

/**
 * One subscriber's view of a track: a bounded queue of groups not yet taken. When more than
 * `maxPending` are waiting, the oldest are dropped (counted in `droppedGroups`).
 */
export class TrackSubscription {
  readonly #pending: Group[] = [];
  #lastSequence = -1;
  #ended = false;
  #closed = false;
  #error: RelayError | undefined;
  readonly #changed = new Notify();
  droppedGroups = 0;
  /** Who subscribed (see Track.subscribe); the subscription itself when not told. */
  readonly owner: object;

  constructor(
    readonly track: Track,
    readonly maxPending: number,
    owner?: object,
  ) {
    this.owner = owner ?? this;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** @internal a group for this subscriber. */
  offer(group: Group): void {
    if (this.#closed || group.sequence <= this.#lastSequence) return;
    this.#lastSequence = group.sequence;
    this.#pending.push(group);
    while (this.#pending.length > this.maxPending) {
      this.#pending.shift();
      this.droppedGroups++;
    }
    this.#changed.notify();
  }

  /** @internal the track ended. */
  end(error: RelayError | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.#changed.notify();
  }

  /** Groups waiting to be taken. */
  get pendingGroups(): number {
    return this.#pending.length;
  }

  /**
   * The next group in sequence order. When several are waiting and `newestFirst` is set,
   * the older ones are skipped (counted as dropped) so a lagging subscriber jumps to live.
   * Resolves undefined when the track has ended normally or the subscription was closed;
   * rejects with the track's error when it ended abnormally.
   */
  async nextGroup(options: { newestFirst?: boolean } = {}): Promise<Group | undefined> {
    for (;;) {
      if (this.#closed) return undefined;
      if (this.#pending.length > 0) {
        if (options.newestFirst && this.#pending.length > 1) {
          this.droppedGroups += this.#pending.length - 1;
          this.#pending.splice(0, this.#pending.length - 1);
        }
        return this.#pending.shift();
      }
      if (this.#ended) {
        if (this.#error) throw this.#error;
        return undefined;
      }
      await this.#changed.wait();
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.length = 0;
    this.#changed.notify();
    this.track.unsubscribe(this);
  }
}

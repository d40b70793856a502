import { Track, type TrackOptions } from './track.ts';
import type { TrackSubscription } from './track.ts';
import { Notify } from './notify.ts';
import { RelayError, RelayErrorCode } from './errors.ts';

/**
 * Produces a track that a broadcast does not hold yet, e.g. by subscribing upstream to a
 * remote publisher. Returns undefined when the track does not exist.
 */
export type TrackRequestHandler = (name: string, priority: number) => Track | undefined;

export interface BroadcastOptions {
  /** Tracks asked for but not created by the publisher are requested here (one per name). */
  onTrackRequest?: TrackRequestHandler;
  /** Defaults for tracks this broadcast creates. */
  trackDefaults?: TrackOptions;
  /** Free-form facts for the API (publisher protocol, remote address). */
  info?: Record<string, string>;
}

/**
 * A broadcast: a named set of tracks from one publisher (moq-lite §Broadcast).
 * Tracks are either created by the publisher up front (ingest adapters) or requested on
 * demand (a remote MoQ publisher or another node), in which case the broadcast keeps exactly
 * one upstream per track however many subscribers share it, and drops it when the last goes.
 */
export class Broadcast {
  readonly #tracks = new Map<string, Track>();
  readonly #onTrackRequest: TrackRequestHandler | undefined;
  readonly #trackDefaults: TrackOptions;
  readonly info: Record<string, string>;
  readonly createdAt = Date.now();
  /** Tracks this broadcast may hold at once (the origin lowers it to its limit). */
  maxTracks = Number.POSITIVE_INFINITY;
  #ended = false;
  #error: RelayError | undefined;
  readonly #endedNotify = new Notify();

  constructor(
    readonly path: string,
    options: BroadcastOptions = {},
  ) {
    this.#onTrackRequest = options.onTrackRequest;
    this.#trackDefaults = options.trackDefaults ?? {};
    this.info = options.info ?? {};
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Tracks that currently exist (publisher-created and live on-demand ones). */
  tracks(): Track[] {
    return [...this.#tracks.values()];
  }

  /** Publisher side: create a track (replacing an ended one of the same name). */
  createTrack(name: string, options: TrackOptions = {}): Track {
    if (this.#ended) throw new RelayError(`broadcast ${this.path} has ended`, RelayErrorCode.publisherGone);
    const existing = this.#tracks.get(name);
    if (existing && !existing.ended) {
      throw new RelayError(`track ${name} already exists in ${this.path}`, RelayErrorCode.duplicate);
    }
    this.#checkTrackLimit(existing);
    const track = new Track(name, { ...this.#trackDefaults, ...options });
    this.#tracks.set(name, track);
    return track;
  }

  #liveTracks(): number {
    let n = 0;
    for (const track of this.#tracks.values()) if (!track.ended) n++;
    return n;
  }

  #checkTrackLimit(replacing: Track | undefined): void {
    if (this.#liveTracks() - (replacing && !replacing.ended ? 1 : 0) >= this.maxTracks) {
      throw new RelayError(`${this.path} may hold at most ${this.maxTracks} tracks`, RelayErrorCode.tooLarge);
    }
  }

  /** Publisher side: end and forget a track. */
  removeTrack(name: string): void {
    const track = this.#tracks.get(name);
    if (!track) return;
    this.#tracks.delete(name);
    track.close();
  }

  /**
   * Subscriber side: the shared track of that name, asking the on-demand handler when the
   * publisher has not created it. Undefined when no such track exists.
   */
  getTrack(name: string, priority = 0): Track | undefined {
    if (this.#ended) return undefined;
    const existing = this.#tracks.get(name);
    if (existing && !existing.ended) return existing;
    if (this.#liveTracks() >= this.maxTracks) return undefined;
    const requested = this.#onTrackRequest?.(name, priority);
    if (!requested) return undefined;
    this.#tracks.set(name, requested);
    // One upstream per track: when nobody watches any more, end it and forget it so the
    // next subscriber asks again.
    requested.onIdle = () => {
      if (this.#tracks.get(name) === requested) this.#tracks.delete(name);
      requested.abort(new RelayError('no subscribers', RelayErrorCode.cancelled));
    };
    void requested.closed().then(() => {
      if (this.#tracks.get(name) === requested) this.#tracks.delete(name);
    });
    return requested;
  }

  /** Subscriber side: subscribe to a track, starting at its latest group (`owner`: see Track.subscribe). */
  subscribe(name: string, priority = 0, owner?: object): TrackSubscription | undefined {
    return this.getTrack(name, priority)?.subscribe(owner);
  }

  /** Everyone subscribed to any of its tracks, each once (a viewer of video and audio is one). */
  subscriberOwners(): Set<object> {
    const owners = new Set<object>();
    for (const track of this.#tracks.values()) for (const owner of track.subscriberOwners()) owners.add(owner);
    return owners;
  }

  /** The publisher is done: every track ends cleanly. */
  close(): void {
    this.#end(undefined);
  }

  /** The publisher is gone abnormally: every track ends with this error. */
  abort(error: RelayError): void {
    this.#end(error);
  }

  #end(error: RelayError | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    for (const track of this.#tracks.values()) {
      if (error) track.abort(error);
      else track.close();
    }
    this.#tracks.clear();
    this.#endedNotify.notify();
  }

  /** Resolves when the broadcast ends (either way). */
  async closed(): Promise<RelayError | undefined> {
    while (!this.#ended) await this.#endedNotify.wait();
    return this.#error;
  }
}

import type { Broadcast } from '../../../src/relay/index.ts';
import { Notify } from '../../../src/relay/notify.ts';
import { RelayTrackReader, type RelayFrame } from '../../../src/relay/track-reader.ts';

/** First pause before subscribing again; it doubles on every try that brings no frame. */
const FIRST_PAUSE_MS = 100;
const MAX_PAUSE_MS = 5000;

/**
 * Reads one relay track for as long as its broadcast lives. When the publisher ends the track
 * while the broadcast goes on — @moq/publish does at every encoder reconfiguration (a resize),
 * then lists the track again in its catalog — it subscribes again after a short pause that
 * grows while nothing comes, so the playlist goes on instead of ending. The packager that owns
 * it decides when the track is really gone (catalog) and closes it.
 */
export class ResubscribingReader {
  #reader: RelayTrackReader | undefined;
  #closed = false;
  #tries = 0;
  #subscribed = false;
  readonly #wake = new Notify();
  readonly #broadcastEnded: Promise<unknown>;
  /** Subscriptions after the first (for logs and tests). */
  resubscriptions = 0;

  constructor(
    private readonly broadcast: Broadcast,
    private readonly track: string,
    private readonly priority: number,
    /** Who the relay counts the subscription for (all HLS players of a broadcast are one viewer). */
    private readonly owner?: object,
  ) {
    this.#broadcastEnded = broadcast.closed();
  }

  /** The next frame (index 0: the first of a group, a keyframe for video); undefined once closed or the broadcast ended. */
  async next(): Promise<RelayFrame | undefined> {
    for (;;) {
      if (this.#closed || this.broadcast.ended) return undefined;
      if (!this.#reader) {
        if (this.#subscribed) {
          if (!(await this.#pause())) return undefined;
          this.resubscriptions++;
        }
        this.#subscribed = true;
        const subscription = this.broadcast.subscribe(this.track, this.priority, this.owner);
        if (!subscription) continue;
        this.#reader = new RelayTrackReader(subscription);
      }
      const frame = await this.#reader.next();
      if (frame) {
        this.#tries = 0;
        return frame;
      }
      this.#reader = undefined;
    }
  }

  /** The track may be back (the catalog lists it again): try now rather than after the pause. */
  wake(): void {
    this.#wake.notify();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reader?.close();
    this.#wake.notify();
  }

  async #pause(): Promise<boolean> {
    const ms = Math.min(MAX_PAUSE_MS, FIRST_PAUSE_MS * 2 ** this.#tries++);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([new Promise((resolve) => (timer = setTimeout(resolve, ms))), this.#wake.wait(), this.#broadcastEnded]);
    clearTimeout(timer);
    return !this.#closed && !this.broadcast.ended;
  }
}

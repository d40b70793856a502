import type { Group, GroupReader } from './group.ts';
import type { TrackSubscription } from './track.ts';

export interface RelayFrame {
  groupSequence: number;
  /** Position in the group: 0 is the group's first frame (a keyframe for video). */
  index: number;
  bytes: Uint8Array;
}

type NextGroup = { group: Group | undefined } | { error: unknown };

/**
 * Reads a track subscription as one stream of frames, group after group. A group that a
 * publisher leaves open while a newer one has started is abandoned once its written frames
 * are read, so one stuck group cannot stall the stream.
 */
export class RelayTrackReader {
  #reader: GroupReader | undefined;
  #index = 0;
  #upcoming: Promise<NextGroup> | undefined;
  #closed = false;
  /** Set when the track ended abnormally. */
  error: unknown;

  constructor(private readonly subscription: TrackSubscription) {}

  /** The next frame, or undefined when the track has ended or the reader was closed. */
  async next(): Promise<RelayFrame | undefined> {
    for (;;) {
      if (this.#closed) return undefined;
      if (!this.#reader) {
        const next = await this.#takeUpcoming();
        if ('error' in next) {
          this.error = next.error;
          return undefined;
        }
        if (!next.group) return undefined;
        this.#reader = next.group.reader();
        this.#index = 0;
      }
      const reader = this.#reader;
      let bytes: Uint8Array | undefined;
      try {
        bytes = reader.tryReadFrame();
      } catch {
        bytes = undefined;
      }
      if (bytes) return { groupSequence: reader.group.sequence, index: this.#index++, bytes };
      if (reader.group.done) {
        this.#reader = undefined;
        continue;
      }
      this.#upcoming ??= this.#nextGroup();
      const newer = await Promise.race([reader.group.changed().then(() => false), this.#upcoming.then(() => true)]);
      if (newer && reader.group.frames.length <= reader.position) this.#reader = undefined;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.subscription.close();
  }

  #takeUpcoming(): Promise<NextGroup> {
    const upcoming = this.#upcoming ?? this.#nextGroup();
    this.#upcoming = undefined;
    return upcoming;
  }

  #nextGroup(): Promise<NextGroup> {
    return this.subscription.nextGroup().then(
      (group) => ({ group }),
      (error: unknown) => ({ error }),
    );
  }
}

import { Notify } from './notify.ts';
import { RelayError, RelayErrorCode } from './errors.ts';

/**
 * A synchronous observer of one group, for egress that pushes each frame to its viewers in the
 * same turn it arrives (no promise per frame). Called from inside writeFrame / close / abort, so
 * it must not throw and must not write to the group.
 */
export interface GroupListener {
  /** A frame was appended: it is `group.frames[group.frames.length - 1]`. */
  onFrame(): void;
  /** The group is done: closed, or aborted (`group.error`). Listeners are forgotten after this. */
  onEnd(): void;
}

/** A running total of bytes, shared by the groups of one track. */
export interface ByteCounter {
  bytes: number;
}

/**
 * A group: an ordered run of opaque frames that a subscriber can join at its start
 * (moq-lite §Group). Frames are kept by reference and shared by every reader, so a group's
 * memory is paid once however many subscribers read it.
 */
export class Group {
  readonly frames: Uint8Array[] = [];
  /** When each frame arrived (performance.now() ms), for latency measurement. */
  readonly arrivals: number[] = [];
  #bytes = 0;
  #done = false;
  #error: RelayError | undefined;
  readonly #changed = new Notify();
  readonly #listeners = new Set<GroupListener>();

  /**
   * @param maxBytes a group is bounded too: one that grows past this (a publisher that never
   *   sends another keyframe) is aborted rather than held in memory without limit.
   * @param viaDatagrams its publisher sent it as datagrams, not on a stream: egress that can
   *   should forward it the same way (IETF moq-transport's Object Forwarding Preference).
   * @param received every accepted frame's size is added to it (its track's ingest counter).
   */
  constructor(
    readonly sequence: number,
    readonly maxBytes = Number.POSITIVE_INFINITY,
    readonly viaDatagrams = false,
    private readonly received?: ByteCounter,
  ) {}

  get bytes(): number {
    return this.#bytes;
  }

  /** True once closed or aborted: no more frames will arrive. */
  get done(): boolean {
    return this.#done;
  }

  get error(): RelayError | undefined {
    return this.#error;
  }

  writeFrame(payload: Uint8Array): void {
    if (this.#done) throw new RelayError(`group ${this.sequence} is finished`, RelayErrorCode.internal);
    if (this.#bytes + payload.byteLength > this.maxBytes) {
      const error = new RelayError(`group ${this.sequence} exceeds ${this.maxBytes} bytes`, RelayErrorCode.tooLarge);
      this.abort(error);
      throw error;
    }
    this.frames.push(payload);
    this.arrivals.push(performance.now());
    this.#bytes += payload.byteLength;
    if (this.received) this.received.bytes += payload.byteLength;
    this.#changed.notify();
    for (const listener of this.#listeners) listener.onFrame();
  }

  /** The group is complete. */
  close(): void {
    if (this.#done) return;
    this.#done = true;
    this.#changed.notify();
    this.#ended();
  }

  /** The group ended abnormally (publisher reset it, or it was evicted). */
  abort(error: RelayError): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    this.#changed.notify();
    this.#ended();
  }

  /** Calls `listener` synchronously on every change until it unlistens or the group is done. */
  listen(listener: GroupListener): void {
    if (!this.#done) this.#listeners.add(listener);
  }

  unlisten(listener: GroupListener): void {
    this.#listeners.delete(listener);
  }

  /** Listeners live no longer than the group's frames can change: bounded by the viewers of one live group. */
  #ended(): void {
    for (const listener of this.#listeners) listener.onEnd();
    this.#listeners.clear();
  }

  /** Resolves at the next change (frame written, closed or aborted). */
  changed(): Promise<void> {
    return this.#changed.wait();
  }

  /** A cursor over the frames from the first. */
  reader(): GroupReader {
    return new GroupReader(this);
  }
}

export class GroupReader {
  #index = 0;

  constructor(readonly group: Group) {}

  /** When the frame last returned by a read arrived in the relay (performance.now() ms). */
  get lastArrival(): number {
    return this.group.arrivals[this.#index - 1] ?? 0;
  }

  /** Frames read so far. */
  get position(): number {
    return this.#index;
  }

  /** Bytes written to the group that this reader has not read yet. */
  get pendingBytes(): number {
    let bytes = 0;
    for (let i = this.#index; i < this.group.frames.length; i++) bytes += this.group.frames[i]!.byteLength;
    return bytes;
  }

  /** The next frame, or undefined when the group is complete. Throws if the group was aborted. */
  async readFrame(): Promise<Uint8Array | undefined> {
    for (;;) {
      const frame = this.tryReadFrame();
      if (frame) return frame;
      if (this.group.done) {
        if (this.group.error) throw this.group.error;
        return undefined;
      }
      await this.group.changed();
    }
  }

  /** The next frame if one is already available, without waiting. */
  tryReadFrame(): Uint8Array | undefined {
    if (this.#index < this.group.frames.length) return this.group.frames[this.#index++];
    return undefined;
  }
}

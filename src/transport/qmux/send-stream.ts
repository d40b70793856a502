/**
 * The send half of a QMux stream, as a push stream (../push-stream.ts): writes are queued by
 * reference; the session's scheduler takes frames off the front when the socket, the peer's
 * flow control and the stream's send order allow.
 */
import type { PushSendStream } from '../push-stream.ts';

/** What a send stream needs of its session. */
export interface SendStreamOwner {
  /** The stream has something to send (or a FIN). */
  schedule(stream: QmuxSendStream): void;
  /** RESET_STREAM for `stream` (its queue already dropped). */
  reset(stream: QmuxSendStream, code: number): void;
}

export class QmuxSendStream implements PushSendStream {
  sendOrder: number;
  onProgress: (() => void) | undefined;
  onStopped: ((code: number | undefined) => void) | undefined;
  /** Bytes handed to the socket: the next frame's offset. */
  sentOffset = 0;
  /** The peer's MAX_STREAM_DATA for this stream. */
  maxData: number;
  /** Round-robin among equal send orders: when the scheduler last served this stream. */
  lastServed = 0;
  #queue: Uint8Array[] = [];
  #head = 0;
  /** Bytes of `#queue[#head]` already sent. */
  #headOffset = 0;
  #queued = 0;
  #finRequested = false;
  #finSent = false;
  /** Reset, stopped or session gone: nothing more goes out. */
  #dead = false;

  constructor(
    readonly id: number,
    sendOrder: number,
    maxData: number,
    private readonly owner: SendStreamOwner,
  ) {
    this.sendOrder = sendOrder;
    this.maxData = maxData;
  }

  get queuedBytes(): number {
    return this.#queued;
  }

  get ended(): boolean {
    return this.#finRequested || this.#dead;
  }

  /** The FIN went out, or the stream was reset/stopped: the session can forget it. */
  get done(): boolean {
    return this.#finSent || this.#dead;
  }

  /** True when a FIN with no data is all that is left. */
  get finPending(): boolean {
    return this.#finRequested && !this.#finSent && !this.#dead && this.#queued === 0;
  }

  write(bytes: Uint8Array): void {
    if (this.ended || bytes.byteLength === 0) return;
    this.#queue.push(bytes);
    this.#queued += bytes.byteLength;
    this.owner.schedule(this);
  }

  finish(): void {
    if (this.ended) return;
    this.#finRequested = true;
    this.owner.schedule(this);
  }

  reset(code: number): void {
    if (this.#dead || this.#finSent) return;
    this.#drop();
    this.owner.reset(this, code);
  }

  /**
   * Takes up to `max` bytes off the queue, as views of the written chunks (no copies), and
   * says whether the FIN goes with them.
   */
  take(max: number, out: Uint8Array[]): { bytes: number; fin: boolean } {
    let bytes = 0;
    while (bytes < max && this.#head < this.#queue.length) {
      const chunk = this.#queue[this.#head]!;
      const available = chunk.byteLength - this.#headOffset;
      const n = Math.min(available, max - bytes);
      out.push(n === chunk.byteLength ? chunk : chunk.subarray(this.#headOffset, this.#headOffset + n));
      bytes += n;
      if (n === available) {
        this.#queue[this.#head++] = EMPTY;
        this.#headOffset = 0;
      } else {
        this.#headOffset += n;
      }
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 64) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    this.#queued -= bytes;
    this.sentOffset += bytes;
    const fin = this.#finRequested && this.#queued === 0;
    if (fin) this.#finSent = true;
    return { bytes, fin };
  }

  /** The peer sent STOP_SENDING, or the session ended (`code` undefined). */
  stop(code: number | undefined): void {
    if (this.done) return;
    this.#drop();
    this.onStopped?.(code);
  }

  #drop(): void {
    this.#dead = true;
    this.#queue = [];
    this.#head = 0;
    this.#headOffset = 0;
    this.#queued = 0;
  }
}

const EMPTY = new Uint8Array(0);

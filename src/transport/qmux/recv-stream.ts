/**
 * The receive half of a QMux stream: data the peer sent, held until the application reads it.
 * The buffer is bounded by the credit we granted (MAX_STREAM_DATA / MAX_DATA), which grows only
 * as the application reads (`onConsume`), so a fast peer cannot make us buffer more than one
 * window; web-transport-ws has no flow control, so there the session pauses the socket instead.
 * The readable has a zero high-water mark: nothing moves out of this queue before a read.
 */
import { streamErrorCodeOf, WebTransportError } from '../quic/webtransport-error.ts';

export interface RecvStreamOwner {
  /** `bytes` were delivered to the application. */
  consumed(stream: QmuxRecvStream, bytes: number): void;
  /** The application cancelled: STOP_SENDING with `code`; `discarded` buffered bytes are gone. */
  cancelled(stream: QmuxRecvStream, code: number, discarded: number): void;
}

export class QmuxRecvStream {
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes received so far (the next in-order offset). */
  received = 0;
  /** The limit we advertised (MAX_STREAM_DATA). */
  maxData: number;
  /** Bytes delivered to the application. */
  consumed = 0;
  #queue: Uint8Array[] = [];
  #buffered = 0;
  #fin = false;
  #error: Error | undefined;
  #cancelled = false;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #pulling = false;

  constructor(
    readonly id: number,
    maxData: number,
    private readonly owner: RecvStreamOwner,
  ) {
    this.maxData = maxData;
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => {
          this.#pulling = true;
          this.#deliver();
        },
        cancel: (reason: unknown) => {
          if (this.#cancelled || this.#error) return;
          this.#cancelled = true;
          const discarded = this.#discard();
          this.owner.cancelled(this, streamErrorCodeOf(reason), discarded);
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** Queues received data; false when it was discarded instead (cancelled or failed). */
  push(data: Uint8Array): boolean {
    if (this.#cancelled || this.#error || this.#fin) return false;
    if (data.byteLength === 0) return true;
    this.#queue.push(data);
    this.#buffered += data.byteLength;
    if (this.#pulling) this.#deliver();
    return true;
  }

  finish(): void {
    if (this.#fin || this.#error || this.#cancelled) return;
    this.#fin = true;
    if (this.#pulling) this.#deliver();
  }

  /** The peer reset the stream or the session ended; returns the buffered bytes discarded. */
  fail(error: Error): number {
    if (this.#error || this.#cancelled) return 0;
    this.#error = error;
    const discarded = this.#discard();
    try {
      this.#controller.error(error);
    } catch {
      // already closed
    }
    return discarded;
  }

  #deliver(): void {
    const chunk = this.#queue.shift();
    if (chunk) {
      this.#pulling = false;
      this.#buffered -= chunk.byteLength;
      this.consumed += chunk.byteLength;
      this.#controller.enqueue(chunk);
      this.owner.consumed(this, chunk.byteLength);
      return;
    }
    if (this.#fin) {
      this.#pulling = false;
      this.#controller.close();
    }
  }

  #discard(): number {
    const bytes = this.#buffered;
    this.#queue = [];
    this.#buffered = 0;
    return bytes;
  }
}

export const streamResetError = (code: number, what: string): WebTransportError => new WebTransportError(`${what}: ${code}`, { source: 'stream', streamErrorCode: code });

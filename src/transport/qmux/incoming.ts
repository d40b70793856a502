/**
 * The application-facing queues of a QMux session: streams the peer opened, handed over one
 * per read (nothing is prefetched, so an unread stream stays ours to account), and datagrams
 * (a bounded queue that drops when the reader falls behind, RFC 9221 semantics).
 */

export class IncomingQueue<T> {
  readonly readable: ReadableStream<T>;
  #pending: Array<{ value: T; accepted: () => void }> = [];
  #controller!: ReadableStreamDefaultController<T>;
  #pulling = false;
  #closed = false;

  constructor(private readonly limit = Number.POSITIVE_INFINITY) {
    this.readable = new ReadableStream<T>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        pull: () => {
          this.#pulling = true;
          this.#deliver();
        },
        cancel: () => {
          this.#closed = true;
          this.#pending = [];
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** False when the reader is gone or the queue is full (the value was not taken). */
  push(value: T, accepted: () => void = noop): boolean {
    if (this.#closed || this.#pending.length >= this.limit) return false;
    this.#pending.push({ value, accepted });
    if (this.#pulling) this.#deliver();
    return true;
  }

  close(error?: Error): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending = [];
    try {
      if (error) this.#controller.error(error);
      else this.#controller.close();
    } catch {
      // already closed
    }
  }

  #deliver(): void {
    const next = this.#pending.shift();
    if (!next) return;
    this.#pulling = false;
    this.#controller.enqueue(next.value);
    next.accepted();
  }
}

const noop = (): void => {};

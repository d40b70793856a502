/**
 * Writes to a WHATWG `WritableStream<Uint8Array>` (a QUIC / WebTransport send stream) with the
 * three endings a MoQ stream has: FIN (`close`), RESET_STREAM with a code (`reset`), or the peer
 * stopping it (writes then fail with `StreamAbortedError`). Ending twice is harmless.
 */
import { StreamAbortedError, StreamResetReason } from './errors.ts';

export class StreamWriter {
  readonly #stream: WritableStream<Uint8Array>;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #ended = false;

  constructor(stream: WritableStream<Uint8Array>) {
    this.#stream = stream;
    this.#writer = stream.getWriter();
    // A failed write already reports the error; the closed promise must not go unhandled.
    this.#writer.closed.catch(() => undefined);
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Resolves when the transport accepted the bytes (its backpressure applies). */
  async write(bytes: Uint8Array): Promise<void> {
    if (this.#ended) throw new StreamAbortedError('write after the stream ended');
    try {
      await this.#writer.write(bytes);
    } catch (cause) {
      throw new StreamAbortedError('stream stopped by peer or transport', { cause });
    }
  }

  /** Graceful end (FIN) after the queued bytes. Resolves once flushed or failed. */
  async close(): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    await this.#writer.close().catch(() => undefined);
  }

  /** Abrupt end (RESET_STREAM) with an application error code; queued bytes are discarded. */
  reset(code: number, message: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#writer.abort(new StreamResetReason(code, message)).catch(() => undefined);
  }

  /** WebTransport `sendOrder` (higher is sent first), where the transport supports changing it. */
  setSendOrder(sendOrder: number): void {
    const stream = this.#stream as WritableStream<Uint8Array> & { sendOrder?: number };
    if ('sendOrder' in stream) stream.sendOrder = sendOrder;
  }
}

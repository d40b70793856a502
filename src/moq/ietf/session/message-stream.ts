/**
 * A bidirectional stream carrying framed control messages: the control stream, and in draft-16
 * each SUBSCRIBE_NAMESPACE stream. Writes are serialized so messages never interleave, and a peer
 * that stops reading cannot make us queue without bound.
 */
import type { StreamReader } from '../../../wire/stream-reader.ts';
import type { ControlCodec } from '../control-codec.ts';
import type { ControlMessage } from '../messages.ts';
import { readControlMessage } from '../wire/control-framing.ts';

/** Unwritten control bytes we hold for a slow peer before giving up on it. */
const MAX_QUEUED_BYTES = 1024 * 1024;

export class MessageStream {
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  #queue: Promise<void> = Promise.resolve();
  #queuedBytes = 0;
  #failed: unknown;

  constructor(
    readonly reader: StreamReader,
    writable: WritableStream<Uint8Array>,
    readonly codec: ControlCodec,
  ) {
    this.#writer = writable.getWriter();
    // A failed write surfaces on the next send; never as an unhandled rejection.
    this.#writer.closed.catch(() => undefined);
  }

  /**
   * The next message, or undefined when the peer finished its side. `streamRequestId`: the
   * request this (draft-18+) request stream belongs to, for responses that do not name it.
   */
  async read(streamRequestId?: number): Promise<ControlMessage | undefined> {
    const raw = await readControlMessage(this.reader);
    return raw && this.codec.decode(raw, streamRequestId);
  }

  /** Queues `message`; resolves when written. Throws once the stream has failed or is backed up. */
  send(message: ControlMessage): Promise<void> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    const bytes = this.codec.frame(message);
    if (this.#queuedBytes + bytes.byteLength > MAX_QUEUED_BYTES) {
      this.#failed = new Error('peer is not reading control messages');
      return Promise.reject(this.#failed);
    }
    this.#queuedBytes += bytes.byteLength;
    const write = this.#queue.then(async () => {
      try {
        await this.#writer.write(bytes);
      } catch (error) {
        this.#failed ??= error;
        throw error;
      } finally {
        this.#queuedBytes -= bytes.byteLength;
      }
    });
    this.#queue = write.catch(() => undefined);
    return write;
  }

  /** Finishes our side after queued writes (FIN). */
  async finish(): Promise<void> {
    await this.#queue;
    await this.#writer.close().catch(() => undefined);
  }

  /** Resets our side and stops reading. */
  abort(reason?: unknown): void {
    this.#failed ??= reason ?? new Error('aborted');
    void this.#writer.abort(reason).catch(() => undefined);
    void this.reader.cancel(reason);
  }
}

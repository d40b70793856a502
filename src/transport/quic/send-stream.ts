/**
 * WHATWG WritableStream over a QUIC stream's send part, shaped like the W3C
 * `WebTransportSendStream` (it has `sendOrder`). A write resolves once quiche has taken every
 * byte; when quiche's buffer for the stream is full (flow control or congestion window,
 * RFC 9000 §4), the write waits for the stream to become writable again, so the queue fills,
 * `desiredSize` drops to 0 or below and `writer.ready` holds back the producer.
 */
import { StreamStoppedError } from './quic-errors.ts';
import type { QuicStream } from './quic-stream.ts';
import { urgencyForSendOrder } from './send-order.ts';
import { WebTransportError, streamErrorCodeOf } from './webtransport-error.ts';

export interface SendStreamOptions {
  /** Bytes to send before any application data (a WebTransport stream header). */
  readonly prefix?: Uint8Array;
  readonly sendOrder?: number | null;
  readonly fromWireCode: (code: number) => number | null;
  readonly toWireCode: (code: number) => number;
  readonly highWaterMark?: number;
}

const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('WebTransport streams accept only BufferSource chunks');
}

interface PendingWrite {
  readonly bytes: Uint8Array;
  offset: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

export class QuicSendStream extends WritableStream<Uint8Array> {
  readonly #stream: QuicStream;
  #sendOrder: number | null;

  constructor(stream: QuicStream, options: SendStreamOptions) {
    let pending: PendingWrite | undefined;
    let controller!: WritableStreamDefaultController;
    let failed = false;

    const translate = (error: unknown): Error => {
      if (error instanceof StreamStoppedError) {
        return new WebTransportError('stream stopped by peer', { source: 'stream', streamErrorCode: options.fromWireCode(error.code) });
      }
      return error instanceof Error ? error : new Error(String(error));
    };

    /** Pushes as much of `write` as quiche takes; true when all of it went. */
    const advance = (write: { bytes: Uint8Array; offset: number }): boolean => {
      write.offset += stream.write(write.bytes.subarray(write.offset));
      return write.offset >= write.bytes.byteLength;
    };

    const writeAll = (bytes: Uint8Array): Promise<void> | undefined => {
      if (bytes.byteLength === 0) return undefined;
      const write = { bytes, offset: 0 };
      if (advance(write)) return undefined;
      return new Promise<void>((resolve, reject) => {
        pending = { bytes, offset: write.offset, resolve, reject };
      });
    };

    stream.onWritable = () => {
      if (failed) return;
      try {
        if (pending) {
          if (advance(pending)) {
            const done = pending;
            pending = undefined;
            done.resolve();
          }
        } else {
          // Nothing queued: just notice a STOP_SENDING early.
          stream.capacity();
        }
      } catch (error) {
        failed = true;
        const reason = translate(error);
        if (pending) {
          const broken = pending;
          pending = undefined;
          broken.reject(reason);
        } else {
          controller.error(reason);
        }
      }
    };

    /**
     * RESET_STREAM at once on abort(). WHATWG streams call the sink's abort() only after an
     * in-flight write settles, and a write to a peer that stopped reading never does: the stream,
     * its queued chunks and the abort reason would wait for the peer forever. The controller's
     * signal fires as soon as abort() is called, so the reset (and the release of what quiche and
     * this stream hold) happens then, and the pending write fails with the reason.
     */
    const resetNow = (reason: unknown): void => {
      if (failed) return;
      failed = true;
      stream.reset(options.toWireCode(streamErrorCodeOf(reason)));
      if (pending) {
        const broken = pending;
        pending = undefined;
        broken.reject(reason instanceof Error ? reason : new Error(String(reason)));
      }
    };

    stream.onTerminated = (error) => {
      if (failed) return;
      failed = true;
      if (pending) {
        const broken = pending;
        pending = undefined;
        broken.reject(error);
      } else {
        controller.error(error);
      }
    };

    super(
      {
        start(c) {
          controller = c;
          c.signal.addEventListener('abort', () => resetNow(c.signal.reason), { once: true });
          if (options.prefix) {
            try {
              return writeAll(options.prefix);
            } catch (error) {
              throw translate(error);
            }
          }
          return undefined;
        },
        write(chunk) {
          try {
            return writeAll(toBytes(chunk));
          } catch (error) {
            failed = true;
            throw translate(error);
          }
        },
        close() {
          try {
            stream.finish();
          } catch (error) {
            failed = true;
            throw translate(error);
          }
        },
        abort(reason) {
          resetNow(reason);
        },
      },
      { highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK, size: (chunk) => toBytes(chunk).byteLength },
    );
    this.#stream = stream;
    this.#sendOrder = options.sendOrder ?? null;
    if (this.#sendOrder !== null) stream.setPriority(urgencyForSendOrder(this.#sendOrder), true);
  }

  /** W3C WebTransportSendStream.sendOrder: higher values are sent first. */
  get sendOrder(): number | null {
    return this.#sendOrder;
  }

  set sendOrder(value: number | null) {
    this.#sendOrder = value;
    this.#stream.setPriority(urgencyForSendOrder(value), true);
  }

  /** The QUIC stream ID (diagnostics). */
  get streamId(): number {
    return this.#stream.id;
  }
}

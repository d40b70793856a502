/**
 * WHATWG ReadableStream (a byte stream, so BYOB readers work too) over a QUIC stream's
 * receive part. Backpressure: bytes are only pulled out of quiche while the stream's queue is
 * below its high-water mark; unread bytes stay in quiche and hold back the peer through QUIC
 * flow control (RFC 9000 §4).
 */
import { StreamResetError } from './quic-errors.ts';
import type { QuicStream } from './quic-stream.ts';
import { WebTransportError, streamErrorCodeOf } from './webtransport-error.ts';

export interface ReceiveStreamOptions {
  /** Bytes already read off the stream (e.g. after a WebTransport stream header). */
  readonly prefix?: Uint8Array;
  /** The FIN was already read with the prefix. */
  readonly ended?: boolean;
  /** Wire code → application code (WebTransport maps into the HTTP/3 space), null if unmapped. */
  readonly fromWireCode: (code: number) => number | null;
  /** Application code → wire code, for STOP_SENDING on cancel. */
  readonly toWireCode: (code: number) => number;
  readonly highWaterMark?: number;
}

const DEFAULT_HIGH_WATER_MARK = 256 * 1024;

export function createReceiveStream(stream: QuicStream, options: ReceiveStreamOptions): ReadableStream<Uint8Array> {
  let controller!: ReadableByteStreamController;
  let done = false;
  /** pull() asked for bytes a reader is waiting on (with a high-water mark of 0, desiredSize stays 0). */
  let wanted = false;

  const fail = (error: Error): void => {
    if (done) return;
    done = true;
    controller.error(error);
  };

  const pump = (): void => {
    if (done) return;
    try {
      while (wanted || (controller.desiredSize ?? 0) > 0) {
        const chunk = stream.read();
        if (!chunk) return;
        if (chunk.data.byteLength > 0) {
          wanted = false;
          controller.enqueue(chunk.data);
        }
        if (chunk.fin) {
          done = true;
          controller.close();
          return;
        }
      }
    } catch (error) {
      if (error instanceof StreamResetError) {
        fail(new WebTransportError('stream reset by peer', { source: 'stream', streamErrorCode: options.fromWireCode(error.code) }));
      } else {
        fail(error instanceof Error ? error : new Error(String(error)));
      }
    }
  };

  stream.onReadable = pump;
  stream.onTerminated = fail;

  return new ReadableStream(
    {
      type: 'bytes',
      start(c) {
        controller = c;
        if (options.prefix && options.prefix.byteLength > 0) controller.enqueue(options.prefix.slice());
        if (options.ended) {
          done = true;
          controller.close();
        }
      },
      pull() {
        wanted = true;
        pump();
      },
      cancel(reason) {
        done = true;
        stream.stopSending(options.toWireCode(streamErrorCodeOf(reason)));
      },
    },
    { highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK },
  );
}

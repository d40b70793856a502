/**
 * A WHATWG `WritableStream` (W3C WebTransportSendStream shape, with `sendOrder`) over a push
 * send stream, for the MoQ layers' control and request streams. A write resolves at once while
 * the stream's queue is under WRITE_HIGH_WATER, otherwise when it falls back under it; close()
 * resolves once the FIN is on the socket. Chunks are kept by reference, as on the push path.
 */
import { streamErrorCodeOf } from '../quic/webtransport-error.ts';
import type { QmuxSendStream } from './send-stream.ts';
import { streamResetError } from './recv-stream.ts';

const WRITE_HIGH_WATER = 64 * 1024;

export type QmuxWritable = WritableStream<Uint8Array> & { sendOrder: number };

export function writableFor(stream: QmuxSendStream, sessionGone: () => Error): QmuxWritable {
  let waiting: { resolve: () => void; reject: (error: Error) => void; fin: boolean } | undefined;
  let controller!: WritableStreamDefaultController;
  const wait = (fin: boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      waiting = { resolve, reject, fin };
    });
  stream.onProgress = () => {
    if (!waiting) return;
    if (waiting.fin ? stream.done : stream.queuedBytes <= WRITE_HIGH_WATER) {
      const { resolve } = waiting;
      waiting = undefined;
      resolve();
    }
  };
  stream.onStopped = (code) => {
    const error = code === undefined ? sessionGone() : streamResetError(code, 'STOP_SENDING');
    try {
      controller.error(error);
    } catch {
      // already errored
    }
    const pending = waiting;
    waiting = undefined;
    pending?.reject(error);
  };
  const writable = new WritableStream<Uint8Array>({
    start: (c) => {
      controller = c;
      // RESET_STREAM as soon as abort() is called, not once a write the peer may never let
      // finish has settled (WHATWG defers the sink's abort() until then): the queue is dropped
      // now and the waiting write fails with the reason.
      c.signal.addEventListener(
        'abort',
        () => {
          stream.reset(streamErrorCodeOf(c.signal.reason));
          const pending = waiting;
          waiting = undefined;
          pending?.reject(c.signal.reason instanceof Error ? c.signal.reason : new Error(String(c.signal.reason)));
        },
        { once: true },
      );
    },
    write: (chunk) => {
      stream.write(chunk);
      if (stream.queuedBytes > WRITE_HIGH_WATER) return wait(false);
    },
    close: () => {
      stream.finish();
      if (!stream.done) return wait(true);
    },
    abort: (reason: unknown) => {
      stream.reset(streamErrorCodeOf(reason));
    },
  }) as QmuxWritable;
  Object.defineProperty(writable, 'sendOrder', {
    enumerable: true,
    get: () => stream.sendOrder,
    set: (value: number) => {
      stream.sendOrder = value;
    },
  });
  return writable;
}

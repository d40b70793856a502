/**
 * Plumbing between QUIC streams and the HTTP/3 state machines: pulling bytes off a stream
 * as they arrive, parsing the varints that open a stream (type, session ID), and a buffered
 * writer for the streams HTTP/3 itself writes (control, request/CONNECT streams).
 */
import { StreamResetError } from '../quic/quic-errors.ts';
import type { QuicStream } from '../quic/quic-stream.ts';
import { readVarint } from '../../wire/varint.ts';

export type ConsumeResult = 'more' | 'stop';

/**
 * Feeds every chunk of `stream` to `onData` until it returns 'stop' or the stream ends.
 * `onEnd` runs on a peer reset (with its code) or a local failure (code undefined).
 */
export function consumeStream(
  stream: QuicStream,
  onData: (data: Uint8Array, fin: boolean) => ConsumeResult,
  onEnd: (resetCode: number | undefined, error?: Error) => void,
): void {
  let stopped = false;
  const pump = (): void => {
    while (!stopped) {
      let chunk: ReturnType<typeof stream.read>;
      try {
        chunk = stream.read();
      } catch (error) {
        stopped = true;
        if (error instanceof StreamResetError) onEnd(error.code);
        else onEnd(undefined, error instanceof Error ? error : new Error(String(error)));
        return;
      }
      if (!chunk) return;
      if (onData(chunk.data, chunk.fin) === 'stop' || chunk.fin) stopped = true;
    }
  };
  stream.onReadable = pump;
  stream.onTerminated = (error) => {
    if (stopped) return;
    stopped = true;
    onEnd(undefined, error);
  };
  pump();
}

/** Accumulates the first bytes of a stream (stream type, session ID: a few varints). */
export class PreambleBuffer {
  #bytes = new Uint8Array(0);

  push(data: Uint8Array): void {
    const merged = new Uint8Array(this.#bytes.byteLength + data.byteLength);
    merged.set(this.#bytes, 0);
    merged.set(data, this.#bytes.byteLength);
    this.#bytes = merged;
  }

  /** Every byte pushed so far. */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** A fresh cursor from the first byte: parsing restarts whenever more bytes arrive. */
  cursor(): VarintCursor {
    return new VarintCursor(this.#bytes);
  }
}

class VarintCursor {
  #offset = 0;
  constructor(private readonly bytes: Uint8Array) {}

  /** The next varint, or undefined if the bytes end inside it. */
  varint(): number | undefined {
    const decoded = readVarint(this.bytes, this.#offset);
    if (!decoded) return undefined;
    this.#offset = decoded.next;
    return decoded.value;
  }

  rest(): Uint8Array {
    return this.bytes.subarray(this.#offset);
  }
}

/**
 * Writes bytes in order, holding what quiche cannot take yet until the stream is writable.
 * Used for small protocol streams; a STOP_SENDING from the peer drops what is pending.
 */
export class StreamWriter {
  readonly #stream: QuicStream;
  readonly #queue: Uint8Array[] = [];
  #finish = false;
  #finished = false;
  #failed = false;

  constructor(stream: QuicStream) {
    this.#stream = stream;
    stream.onWritable = () => this.#flush();
  }

  get finished(): boolean {
    return this.#finished || this.#failed;
  }

  write(bytes: Uint8Array): void {
    if (this.#finish || this.#failed) return;
    if (bytes.byteLength > 0) this.#queue.push(bytes);
    this.#flush();
  }

  finish(): void {
    if (this.#finish) return;
    this.#finish = true;
    this.#flush();
  }

  #flush(): void {
    if (this.#failed || this.#finished) return;
    try {
      while (this.#queue.length > 0) {
        const head = this.#queue[0]!;
        const written = this.#stream.write(head);
        if (written < head.byteLength) {
          this.#queue[0] = head.subarray(written);
          return;
        }
        this.#queue.shift();
      }
      if (this.#finish) {
        this.#stream.finish();
        this.#finished = true;
      }
    } catch {
      // STOP_SENDING from the peer (StreamStoppedError) or a stream already gone: nothing to
      // deliver any more; the reader side of the stream reports what happened.
      this.#failed = true;
      this.#queue.length = 0;
    }
  }
}

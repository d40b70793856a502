/**
 * Reads protocol values from a WHATWG `ReadableStream<Uint8Array>` (a QUIC / WebTransport receive
 * stream). Chunks are queued without copying; a value that straddles chunks is assembled only
 * once all of its bytes have arrived, so memory is bounded by the caller's limits, never by a
 * length the peer claims.
 *
 * Errors: malformed input → `ProtocolError`; the stream being reset or the transport closing →
 * `StreamAbortedError`.
 */
import { ProtocolError, StreamAbortedError } from './errors.ts';
import type { IntegerFormat } from './byte-reader.ts';
import { decodeVarintAt, decodeVarintBigAt, varintLengthFromFirstByte } from './varint.ts';
import { decodeVi64At, decodeVi64BigAt, vi64LengthFromFirstByte } from './vi64.ts';

/** Default cap for a control message body (SUBSCRIBE, ANNOUNCE, SETUP, ...). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024;

export class StreamReader {
  readonly #reader: ReadableStreamDefaultReader<Uint8Array>;
  readonly #chunks: Uint8Array[] = [];
  #buffered = 0;
  #ended = false;
  /** How `varint()` fields are encoded (see ByteReader): 'vi64' on moq-transport draft-18+ streams. */
  readonly integers: IntegerFormat;

  constructor(stream: ReadableStream<Uint8Array>, integers: IntegerFormat = 'quic') {
    this.#reader = stream.getReader();
    this.integers = integers;
  }

  /** True once the peer finished the stream and every byte was consumed. Waits for data if needed. */
  async atEnd(): Promise<boolean> {
    while (this.#buffered === 0) {
      if (!(await this.#pull())) return true;
    }
    return false;
  }

  async u8(): Promise<number> {
    await this.#fill(1);
    return this.#take(1)[0]!;
  }

  async u16(): Promise<number> {
    await this.#fill(2);
    const bytes = this.#take(2);
    return bytes[0]! * 0x100 + bytes[1]!;
  }

  /** Varint as a number (≤ 2^53-1, else `ProtocolError`). */
  async varint(): Promise<number> {
    const bytes = await this.#varintBytes();
    return (this.integers === 'vi64' ? decodeVi64At : decodeVarintAt)(bytes, 0);
  }

  async varintBig(): Promise<bigint> {
    const bytes = await this.#varintBytes();
    return (this.integers === 'vi64' ? decodeVi64BigAt : decodeVarintBigAt)(bytes, 0);
  }

  /** Exactly `length` bytes; `length` must already be checked against a limit. */
  async bytes(length: number): Promise<Uint8Array> {
    if (length === 0) return new Uint8Array(0);
    await this.#fill(length);
    return this.#take(length);
  }

  /** A varint length prefix (≤ `maxBytes`) followed by that many bytes: the message body. */
  async message(maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Promise<Uint8Array> {
    const length = await this.varint();
    return this.bytes(checkLength(length, maxBytes));
  }

  /** Like `message`, but returns undefined if the stream ends cleanly before the prefix. */
  async messageOrEnd(maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Promise<Uint8Array | undefined> {
    if (await this.atEnd()) return undefined;
    return this.message(maxBytes);
  }

  /** A big-endian u16 length prefix (draft-14 control messages) followed by the body. */
  async messageU16(maxBytes = DEFAULT_MAX_MESSAGE_BYTES): Promise<Uint8Array> {
    const length = await this.u16();
    return this.bytes(checkLength(length, maxBytes));
  }

  /** Stops reading: tells the peer (STOP_SENDING) and drops buffered bytes. */
  async cancel(reason?: unknown): Promise<void> {
    this.#chunks.length = 0;
    this.#buffered = 0;
    this.#ended = true;
    await this.#reader.cancel(reason).catch(() => undefined);
  }

  async #varintBytes(): Promise<Uint8Array> {
    await this.#fill(1);
    const first = this.#chunks[0]![0]!;
    const length = this.integers === 'vi64' ? vi64LengthFromFirstByte(first) : varintLengthFromFirstByte(first);
    await this.#fill(length);
    return this.#take(length);
  }

  /** Buffers at least `length` bytes or throws `unexpected-end`. */
  async #fill(length: number): Promise<void> {
    while (this.#buffered < length) {
      if (!(await this.#pull())) {
        throw new ProtocolError('unexpected-end', `stream ended with ${this.#buffered} of ${length} needed bytes`);
      }
    }
  }

  async #pull(): Promise<boolean> {
    if (this.#ended) return false;
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await this.#reader.read();
    } catch (cause) {
      this.#ended = true;
      throw new StreamAbortedError(`stream aborted: ${describe(cause)}`, { cause });
    }
    if (result.done) {
      this.#ended = true;
      return false;
    }
    const chunk = result.value;
    if (chunk.byteLength > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.byteLength;
    }
    return true;
  }

  /** Removes `length` buffered bytes (caller ensured they are there). */
  #take(length: number): Uint8Array {
    const first = this.#chunks[0]!;
    this.#buffered -= length;
    if (first.byteLength > length) {
      this.#chunks[0] = first.subarray(length);
      return first.subarray(0, length);
    }
    if (first.byteLength === length) {
      this.#chunks.shift();
      return first;
    }
    const out = new Uint8Array(length);
    let written = 0;
    while (written < length) {
      const chunk = this.#chunks[0]!;
      const wanted = length - written;
      if (chunk.byteLength <= wanted) {
        out.set(chunk, written);
        written += chunk.byteLength;
        this.#chunks.shift();
      } else {
        out.set(chunk.subarray(0, wanted), written);
        this.#chunks[0] = chunk.subarray(wanted);
        written += wanted;
      }
    }
    return out;
  }
}

function checkLength(length: number, maxBytes: number): number {
  if (length > maxBytes) throw new ProtocolError('message-too-large', `length ${length} exceeds limit ${maxBytes}`);
  return length;
}

function describe(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  if (typeof cause === 'string') return cause;
  return String(cause);
}

import { Http3Error } from './h3-errors.ts';
import { readVarint } from '../../wire/varint.ts';

/**
 * Reads a complete, already-delimited payload (a frame or capsule body). Running past its end
 * throws Http3Error with the code the caller chose for "malformed".
 */
export class ByteCursor {
  #offset = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly errorCode: number,
  ) {}

  get remaining(): number {
    return this.bytes.byteLength - this.#offset;
  }

  get atEnd(): boolean {
    return this.remaining === 0;
  }

  varint(what: string): number {
    const decoded = readVarint(this.bytes, this.#offset);
    if (!decoded) throw new Http3Error(this.errorCode, `truncated ${what}`);
    this.#offset = decoded.next;
    return decoded.value;
  }

  uint32(what: string): number {
    if (this.remaining < 4) throw new Http3Error(this.errorCode, `truncated ${what}`);
    const b = this.bytes;
    const o = this.#offset;
    this.#offset += 4;
    return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
  }

  /** A view of the next `length` bytes; `length` is checked against what is left first. */
  take(length: number, what: string): Uint8Array {
    if (!Number.isSafeInteger(length) || length < 0 || length > this.remaining) throw new Http3Error(this.errorCode, `truncated ${what}`);
    const view = this.bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return view;
  }

  rest(): Uint8Array {
    return this.take(this.remaining, 'rest');
  }
}

/**
 * The unread part of `buffer` (from `offset`) followed by `chunk`, for incremental readers:
 * `chunk` itself when nothing is left unread, so the common case copies nothing.
 */
export function appendUnread(buffer: Uint8Array, offset: number, chunk: Uint8Array): Uint8Array {
  if (offset >= buffer.byteLength) return chunk;
  const rest = buffer.subarray(offset);
  const merged = new Uint8Array(rest.byteLength + chunk.byteLength);
  merged.set(rest, 0);
  merged.set(chunk, rest.byteLength);
  return merged;
}

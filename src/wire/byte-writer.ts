/**
 * Growable byte buffer for encoding messages. Encoders build the body here and wrap it with a
 * length prefix (`withVarintLength` for moq-lite and moq-transport data, `withU16Length` for
 * draft-14+ control messages).
 */
import type { IntegerFormat } from './byte-reader.ts';
import { varintLength, writeVarint } from './varint.ts';
import { vi64Length, writeVi64 } from './vi64.ts';

const utf8 = new TextEncoder();

export class ByteWriter {
  #buffer: Uint8Array;
  #length = 0;
  readonly integers: IntegerFormat;

  constructor(initialCapacity = 64, integers: IntegerFormat = 'quic') {
    this.#buffer = new Uint8Array(initialCapacity);
    this.integers = integers;
  }

  get length(): number {
    return this.#length;
  }

  u8(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xff) throw new RangeError(`u8 out of range: ${value}`);
    this.#reserve(1);
    this.#buffer[this.#length++] = value;
    return this;
  }

  u16(value: number): this {
    if (!Number.isInteger(value) || value < 0 || value > 0xffff) throw new RangeError(`u16 out of range: ${value}`);
    this.#reserve(2);
    this.#buffer[this.#length++] = value >>> 8;
    this.#buffer[this.#length++] = value & 0xff;
    return this;
  }

  bool(value: boolean): this {
    return this.u8(value ? 1 : 0);
  }

  varint(value: number | bigint): this {
    if (this.integers === 'vi64') {
      this.#reserve(vi64Length(value));
      this.#length = writeVi64(this.#buffer, this.#length, value);
      return this;
    }
    this.#reserve(varintLength(value));
    this.#length = writeVarint(this.#buffer, this.#length, value);
    return this;
  }

  bytes(value: Uint8Array): this {
    this.#reserve(value.byteLength);
    this.#buffer.set(value, this.#length);
    this.#length += value.byteLength;
    return this;
  }

  /** Varint length + raw bytes. */
  lengthPrefixedBytes(value: Uint8Array): this {
    return this.varint(value.byteLength).bytes(value);
  }

  /** Varint length + UTF-8. */
  string(value: string): this {
    return this.lengthPrefixedBytes(utf8.encode(value));
  }

  /** The bytes written so far (a copy-free view; do not write after taking it). */
  finish(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }

  #reserve(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#buffer.byteLength) return;
    const grown = new Uint8Array(Math.max(needed, this.#buffer.byteLength * 2));
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
  }
}

/** `body` prefixed with its varint length (moq-lite "Message Length (i)"). */
export function withVarintLength(body: Uint8Array): Uint8Array {
  return new ByteWriter(body.byteLength + 8).lengthPrefixedBytes(body).finish();
}

/** `body` prefixed with a big-endian u16 length (draft-14 control messages). */
export function withU16Length(body: Uint8Array): Uint8Array {
  if (body.byteLength > 0xffff) throw new RangeError(`message of ${body.byteLength} bytes exceeds the u16 length`);
  return new ByteWriter(body.byteLength + 2).u16(body.byteLength).bytes(body).finish();
}

/** Builds a message body with `fill` and returns it with a varint length prefix. */
export function encodeVarintFramed(fill: (writer: ByteWriter) => void): Uint8Array {
  const body = new ByteWriter();
  fill(body);
  return withVarintLength(body.finish());
}

/** Concatenates varints and byte strings into one buffer (HTTP/3 frame and stream headers). */
export function encodeParts(...parts: ReadonlyArray<number | Uint8Array>): Uint8Array {
  let size = 0;
  for (const part of parts) size += typeof part === 'number' ? varintLength(part) : part.byteLength;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    if (typeof part === 'number') offset = writeVarint(out, offset, part);
    else {
      out.set(part, offset);
      offset += part.byteLength;
    }
  }
  return out;
}

/**
 * Synchronous reader over one complete message body. Decoders read fields from it and finish
 * with `expectEnd()`; any shortfall, overflow or leftover raises `ProtocolError`, never another
 * error type, and nothing is allocated from a length that was not checked against the bytes
 * actually present.
 */
import { ProtocolError } from './errors.ts';
import { decodeVarintAt, decodeVarintBigAt, varintLengthFromFirstByte } from './varint.ts';
import { decodeVi64At, decodeVi64BigAt, vi64LengthFromFirstByte } from './vi64.ts';

/**
 * How `varint()` fields are encoded: QUIC varints (RFC 9000 §16; moq-lite, HTTP/3, moq-transport
 * up to draft-16) or vi64 (moq-transport draft-18+ §1.4.1, src/wire/vi64.ts).
 */
export type IntegerFormat = 'quic' | 'vi64';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class ByteReader {
  #bytes: Uint8Array;
  #offset = 0;
  readonly integers: IntegerFormat;

  constructor(bytes: Uint8Array, integers: IntegerFormat = 'quic') {
    this.#bytes = bytes;
    this.integers = integers;
  }

  get remaining(): number {
    return this.#bytes.byteLength - this.#offset;
  }

  get atEnd(): boolean {
    return this.remaining === 0;
  }

  u8(): number {
    this.#need(1);
    return this.#bytes[this.#offset++]!;
  }

  /** Big-endian u16 (draft-14 control message length). */
  u16(): number {
    this.#need(2);
    const value = this.#bytes[this.#offset]! * 0x100 + this.#bytes[this.#offset + 1]!;
    this.#offset += 2;
    return value;
  }

  /** A u8 that must be 0 or 1. */
  bool(): boolean {
    const value = this.u8();
    if (value > 1) throw new ProtocolError('invalid-value', `bool must be 0 or 1, got ${value}`);
    return value === 1;
  }

  /** Varint as a number; throws `ProtocolError('value-too-large')` above 2^53-1. */
  varint(): number {
    this.#need(1);
    const vi64 = this.integers === 'vi64';
    const length = (vi64 ? vi64LengthFromFirstByte : varintLengthFromFirstByte)(this.#bytes[this.#offset]!);
    this.#need(length);
    const value = (vi64 ? decodeVi64At : decodeVarintAt)(this.#bytes, this.#offset);
    this.#offset += length;
    return value;
  }

  /** Varint with the full range (62 bits QUIC, 64 bits vi64). */
  varintBig(): bigint {
    this.#need(1);
    const vi64 = this.integers === 'vi64';
    const length = (vi64 ? vi64LengthFromFirstByte : varintLengthFromFirstByte)(this.#bytes[this.#offset]!);
    this.#need(length);
    const value = (vi64 ? decodeVi64BigAt : decodeVarintBigAt)(this.#bytes, this.#offset);
    this.#offset += length;
    return value;
  }

  /** Varint no larger than `max`. */
  varintAtMost(max: number, what: string): number {
    const value = this.varint();
    if (value > max) throw new ProtocolError('value-too-large', `${what} ${value} exceeds ${max}`);
    return value;
  }

  /**
   * An element count. Each element takes at least `minElementBytes`, so a count the remaining
   * bytes cannot hold is rejected before any array is sized from it.
   */
  count(what: string, max: number, minElementBytes = 1): number {
    const value = this.varintAtMost(max, what);
    if (value * minElementBytes > this.remaining) {
      throw new ProtocolError('unexpected-end', `${what} ${value} exceeds the remaining ${this.remaining} bytes`);
    }
    return value;
  }

  /** `length` bytes, as a view into the message (no copy). */
  bytes(length: number): Uint8Array {
    this.#need(length);
    const view = this.#bytes.subarray(this.#offset, this.#offset + length);
    this.#offset += length;
    return view;
  }

  /** Everything left, as a view. */
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }

  /** Varint length + UTF-8 bytes. */
  string(): string {
    const length = this.varint();
    const raw = this.bytes(length);
    try {
      return utf8.decode(raw);
    } catch {
      throw new ProtocolError('invalid-utf8', 'string is not valid UTF-8');
    }
  }

  /** Varint length + raw bytes. */
  lengthPrefixedBytes(): Uint8Array {
    return this.bytes(this.varint());
  }

  expectEnd(what = 'message'): void {
    if (this.remaining !== 0) {
      throw new ProtocolError('trailing-bytes', `${what} has ${this.remaining} unread bytes`);
    }
  }

  #need(length: number): void {
    if (length > this.remaining) {
      throw new ProtocolError('unexpected-end', `need ${length} bytes, ${this.remaining} left`);
    }
  }
}

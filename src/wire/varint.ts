/**
 * QUIC variable-length integers (RFC 9000 §16): the two top bits of the first byte give the
 * length (1, 2, 4 or 8 bytes), the rest is the big-endian value, up to 2^62-1.
 *
 * moq-lite, moq-transport and HTTP/3 (frames, capsules, settings, stream preambles) all use
 * them. Values are plain numbers where a JS number is exact (≤ 2^53-1) and bigints where a field
 * may use all 62 bits.
 */
import { ProtocolError } from './errors.ts';

export const MAX_VARINT = (1n << 62n) - 1n;

export type VarintLength = 1 | 2 | 4 | 8;

/** Encoded size of `value`, always the shortest form. */
export function varintLength(value: number | bigint): VarintLength {
  if (typeof value === 'bigint') {
    if (value < 0n || value > MAX_VARINT) throw new RangeError(`varint out of range: ${value}`);
    if (value <= 0x3fffffffn) return varintLength(Number(value));
    return 8;
  }
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint out of range: ${value}`);
  if (value < 0x40) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x40000000) return 4;
  return 8;
}

/** Writes `value` at `offset` (space must be available) and returns the offset after it. */
export function writeVarint(target: Uint8Array, offset: number, value: number | bigint): number {
  const length = varintLength(value);
  switch (length) {
    case 1:
      target[offset] = Number(value);
      return offset + 1;
    case 2: {
      const n = Number(value);
      target[offset] = 0x40 | (n >>> 8);
      target[offset + 1] = n & 0xff;
      return offset + 2;
    }
    case 4: {
      const n = Number(value);
      target[offset] = 0x80 | (n >>> 24);
      target[offset + 1] = (n >>> 16) & 0xff;
      target[offset + 2] = (n >>> 8) & 0xff;
      target[offset + 3] = n & 0xff;
      return offset + 4;
    }
    case 8: {
      const big = BigInt(value);
      const view = new DataView(target.buffer, target.byteOffset + offset, 8);
      view.setBigUint64(0, big | 0xc000000000000000n);
      return offset + 8;
    }
  }
}

export function encodeVarint(value: number | bigint): Uint8Array {
  const out = new Uint8Array(varintLength(value));
  writeVarint(out, 0, value);
  return out;
}

/** Size of the varint whose first byte is `firstByte`. */
export function varintLengthFromFirstByte(firstByte: number): VarintLength {
  return (1 << (firstByte >> 6)) as VarintLength;
}

/**
 * Decodes the varint at `offset` as a bigint. The caller guarantees that
 * `varintLengthFromFirstByte(bytes[offset])` bytes are available.
 */
export function decodeVarintBigAt(bytes: Uint8Array, offset: number): bigint {
  const length = varintLengthFromFirstByte(bytes[offset]!);
  if (length !== 8) return BigInt(decodeSmallVarint(bytes, offset, length));
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, 8);
  return view.getBigUint64(0) & MAX_VARINT;
}

/** Like `decodeVarintBigAt` but as a number; throws `ProtocolError` above 2^53-1. */
export function decodeVarintAt(bytes: Uint8Array, offset: number): number {
  const length = varintLengthFromFirstByte(bytes[offset]!);
  if (length !== 8) return decodeSmallVarint(bytes, offset, length);
  const high = ((bytes[offset]! & 0x3f) * 2 ** 24 + bytes[offset + 1]! * 2 ** 16 + bytes[offset + 2]! * 2 ** 8 + bytes[offset + 3]!);
  const low = (bytes[offset + 4]! * 2 ** 24 + bytes[offset + 5]! * 2 ** 16 + bytes[offset + 6]! * 2 ** 8 + bytes[offset + 7]!);
  // 2^53 - 1 has 21 bits above the low 32.
  if (high >= 2 ** 21) throw new ProtocolError('value-too-large', 'varint exceeds 2^53-1');
  return high * 2 ** 32 + low;
}

function decodeSmallVarint(bytes: Uint8Array, offset: number, length: 1 | 2 | 4): number {
  const first = bytes[offset]! & 0x3f;
  if (length === 1) return first;
  if (length === 2) return first * 0x100 + bytes[offset + 1]!;
  return first * 0x1000000 + bytes[offset + 1]! * 0x10000 + bytes[offset + 2]! * 0x100 + bytes[offset + 3]!;
}

export interface DecodedVarint {
  readonly value: number;
  /** Offset just after the varint. */
  readonly next: number;
}

/**
 * Decodes the varint at `offset`, or returns undefined when `bytes` ends inside it (incremental
 * parsers wait for more). Never throws: above 2^53 the value is the nearest double, which only
 * matters for reserved or unknown HTTP/3 identifiers that are ignored anyway.
 */
export function readVarint(bytes: Uint8Array, offset: number): DecodedVarint | undefined {
  if (offset >= bytes.byteLength) return undefined;
  const first = bytes[offset]!;
  const length = varintLengthFromFirstByte(first);
  if (offset + length > bytes.byteLength) return undefined;
  let value = first & 0x3f;
  for (let i = 1; i < length; i++) value = value * 256 + bytes[offset + i]!;
  return { value, next: offset + length };
}

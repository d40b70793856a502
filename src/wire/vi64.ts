/**
 * moq-transport draft-18+ variable-length integers, "vi64" (draft-ietf-moq-transport-18 §1.4.1):
 * the number of leading 1 bits of the first byte gives the length minus one (1..8 bytes), the bits
 * after the first 0 and the following bytes are the big-endian value; eight leading 1 bits mean
 * nine bytes with all 64 value bits in the last eight. Any length that holds the value is valid
 * (`0x25` and `0x8025` are both 37); we always write the shortest.
 *
 * Not QUIC's RFC 9000 varint (src/wire/varint.ts): the same field reads differently.
 */
import { ProtocolError } from './errors.ts';

export const MAX_VI64 = (1n << 64n) - 1n;

/** Encoded size (1..9) of the vi64 whose first byte is `firstByte`. */
export function vi64LengthFromFirstByte(firstByte: number): number {
  let ones = 0;
  while (ones < 8 && (firstByte & (0x80 >> ones)) !== 0) ones++;
  return ones === 8 ? 9 : ones + 1;
}

/** Shortest encoded size of `value`. */
export function vi64Length(value: number | bigint): number {
  const big = typeof value === 'bigint' ? value : checkedNumber(value);
  if (big < 0n || big > MAX_VI64) throw new RangeError(`vi64 out of range: ${value}`);
  // Length n < 9 holds 7n bits.
  for (let length = 1; length <= 8; length++) if (big < 1n << BigInt(7 * length)) return length;
  return 9;
}

function checkedNumber(value: number): bigint {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`vi64 out of range: ${value}`);
  return BigInt(value);
}

/** Writes `value` at `offset` (space must be available) and returns the offset after it. */
export function writeVi64(target: Uint8Array, offset: number, value: number | bigint): number {
  const length = vi64Length(value);
  if (typeof value === 'number' && length <= 4) {
    // Fast path: fits 28 bits, plain integer arithmetic.
    let rest = value;
    for (let i = length - 1; i > 0; i--) {
      target[offset + i] = rest & 0xff;
      rest = Math.floor(rest / 256);
    }
    target[offset] = ((0xff00 >> (length - 1)) & 0xff) | rest;
    return offset + length;
  }
  let rest = BigInt(value);
  const valueBytes = length === 9 ? 8 : length - 1;
  for (let i = valueBytes; i > 0; i--) {
    target[offset + i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  target[offset] = length === 9 ? 0xff : ((0xff00 >> (length - 1)) & 0xff) | Number(rest);
  return offset + length;
}

export function encodeVi64(value: number | bigint): Uint8Array {
  const out = new Uint8Array(vi64Length(value));
  writeVi64(out, 0, value);
  return out;
}

/** The vi64 at `offset` as a bigint; the caller guarantees its bytes are present. */
export function decodeVi64BigAt(bytes: Uint8Array, offset: number): bigint {
  const length = vi64LengthFromFirstByte(bytes[offset]!);
  let value = length === 9 ? 0n : BigInt(bytes[offset]! & (0xff >> length));
  for (let i = 1; i < length; i++) value = (value << 8n) | BigInt(bytes[offset + i]!);
  return value;
}

/** Like `decodeVi64BigAt` but as a number; throws `ProtocolError('value-too-large')` above 2^53-1. */
export function decodeVi64At(bytes: Uint8Array, offset: number): number {
  const length = vi64LengthFromFirstByte(bytes[offset]!);
  if (length <= 4) {
    let value = bytes[offset]! & (0xff >> length);
    for (let i = 1; i < length; i++) value = value * 256 + bytes[offset + i]!;
    return value;
  }
  const big = decodeVi64BigAt(bytes, offset);
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolError('value-too-large', 'vi64 exceeds 2^53-1');
  return Number(big);
}

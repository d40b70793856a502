/**
 * QUIC variable-length integers (RFC 9000 §16): the two top bits of the first byte give the
 * length (1, 2, 4 or 8 bytes). Values are JS numbers; 8-byte values above 2^53 lose precision,
 * which only matters for reserved/unknown identifiers that are ignored anyway.
 */
export const MAX_VARINT = 2 ** 62 - 1;

export function varintLength(value: number): 1 | 2 | 4 | 8 {
  if (value < 0x40) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x40000000) return 4;
  return 8;
}

/** Writes `value` at `offset`; returns the offset after it. `out` must have room. */
export function writeVarint(out: Uint8Array, offset: number, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_VARINT) throw new RangeError(`not a varint: ${value}`);
  const length = varintLength(value);
  if (length === 1) {
    out[offset] = value;
  } else if (length === 2) {
    out[offset] = 0x40 | (value >>> 8);
    out[offset + 1] = value & 0xff;
  } else if (length === 4) {
    out[offset] = 0x80 | (value >>> 24);
    out[offset + 1] = (value >>> 16) & 0xff;
    out[offset + 2] = (value >>> 8) & 0xff;
    out[offset + 3] = value & 0xff;
  } else {
    const high = Math.floor(value / 2 ** 32);
    const low = value >>> 0;
    out[offset] = 0xc0 | (high >>> 24);
    out[offset + 1] = (high >>> 16) & 0xff;
    out[offset + 2] = (high >>> 8) & 0xff;
    out[offset + 3] = high & 0xff;
    out[offset + 4] = low >>> 24;
    out[offset + 5] = (low >>> 16) & 0xff;
    out[offset + 6] = (low >>> 8) & 0xff;
    out[offset + 7] = low & 0xff;
  }
  return offset + length;
}

export function encodeVarint(value: number): Uint8Array {
  const out = new Uint8Array(varintLength(value));
  writeVarint(out, 0, value);
  return out;
}

/** Concatenates varints and byte strings into one buffer. */
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

export interface DecodedVarint {
  readonly value: number;
  /** Offset just after the varint. */
  readonly next: number;
}

/** Decodes the varint at `offset`, or returns undefined when `bytes` ends inside it. */
export function readVarint(bytes: Uint8Array, offset: number): DecodedVarint | undefined {
  if (offset >= bytes.byteLength) return undefined;
  const first = bytes[offset]!;
  const length = 1 << (first >> 6);
  if (offset + length > bytes.byteLength) return undefined;
  let value = first & 0x3f;
  for (let i = 1; i < length; i++) value = value * 256 + bytes[offset + i]!;
  return { value, next: offset + length };
}

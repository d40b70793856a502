/**
 * QPACK primitives (RFC 9204 §4.1): prefixed integers (RFC 7541 §5.1) and string literals
 * with an optional Huffman flag just above the length prefix.
 */
import { Http3Error, H3ErrorCode } from './h3-errors.ts';
import { huffmanDecode, huffmanEncode, huffmanEncodedLength } from './huffman.ts';

const fail = (message: string): Http3Error => new Http3Error(H3ErrorCode.QpackDecompressionFailed, message);

/** Cursor over an encoded field section. */
export class QpackReader {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  get atEnd(): boolean {
    return this.offset >= this.bytes.byteLength;
  }

  peek(): number {
    if (this.atEnd) throw fail('truncated field line');
    return this.bytes[this.offset]!;
  }

  /** An N-bit prefixed integer starting in the current byte; values beyond 2^53 are rejected. */
  integer(prefixBits: number): number {
    const mask = (1 << prefixBits) - 1;
    let value = this.peek() & mask;
    this.offset++;
    if (value < mask) return value;
    let multiplier = 1;
    for (;;) {
      if (this.atEnd) throw fail('truncated integer');
      const byte = this.bytes[this.offset++]!;
      value += (byte & 0x7f) * multiplier;
      if (value > Number.MAX_SAFE_INTEGER) throw fail('integer too large');
      if ((byte & 0x80) === 0) return value;
      multiplier *= 128;
    }
  }

  /** A string literal whose H flag is bit `prefixBits` of the current byte. */
  string(prefixBits: number): Uint8Array {
    const huffman = (this.peek() & (1 << prefixBits)) !== 0;
    const length = this.integer(prefixBits);
    if (length > this.bytes.byteLength - this.offset) throw fail('string literal longer than the field section');
    const raw = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return huffman ? huffmanDecode(raw) : raw;
  }
}

/** Appends an N-bit prefixed integer; `flags` fills the bits above the prefix in the first byte. */
export function pushInteger(out: number[], flags: number, prefixBits: number, value: number): void {
  const mask = (1 << prefixBits) - 1;
  if (value < mask) {
    out.push(flags | value);
    return;
  }
  out.push(flags | mask);
  let rest = value - mask;
  while (rest >= 128) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

/** Appends a string literal, Huffman-coded when that is shorter; `flags` as in pushInteger. */
export function pushString(out: number[], flags: number, prefixBits: number, value: Uint8Array): void {
  const huffmanLength = huffmanEncodedLength(value);
  if (huffmanLength < value.byteLength) {
    pushInteger(out, flags | (1 << prefixBits), prefixBits, huffmanLength);
    for (const byte of huffmanEncode(value)) out.push(byte);
  } else {
    pushInteger(out, flags, prefixBits, value.byteLength);
    for (const byte of value) out.push(byte);
  }
}

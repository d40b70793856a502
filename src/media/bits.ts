import { MediaParseError } from './errors.ts';

/**
 * MSB-first bit reader over an RBSP or a configuration record (the bit order of H.264/H.265
 * syntax, ISO/IEC 14496-3 and every ISOBMFF record). Reads past the end throw MediaParseError.
 */
export class BitReader {
  private readonly data: Uint8Array;
  /** Absolute bit position. */
  private pos = 0;

  constructor(data: Uint8Array) {
    this.data = data;
  }

  get bitsLeft(): number {
    return this.data.length * 8 - this.pos;
  }

  get byteAligned(): boolean {
    return (this.pos & 7) === 0;
  }

  /** Byte offset of the next unread bit, rounded down. */
  get byteOffset(): number {
    return this.pos >>> 3;
  }

  private need(bits: number, what: string): void {
    if (bits > this.bitsLeft) throw new MediaParseError(`truncated data reading ${what}`);
  }

  readBit(): number {
    this.need(1, 'bit');
    const bit = (this.data[this.pos >>> 3]! >>> (7 - (this.pos & 7))) & 1;
    this.pos++;
    return bit;
  }

  readFlag(): boolean {
    return this.readBit() === 1;
  }

  /** Up to 32 bits as an unsigned number (arithmetic, not `<<`, so bit 31 stays positive). */
  readBits(n: number): number {
    if (!Number.isInteger(n) || n < 0 || n > 32) throw new MediaParseError(`cannot read ${n} bits at once`);
    this.need(n, `${n} bits`);
    let value = 0;
    for (let i = 0; i < n; i++) {
      value = value * 2 + ((this.data[this.pos >>> 3]! >>> (7 - (this.pos & 7))) & 1);
      this.pos++;
    }
    return value;
  }

  skipBits(n: number): void {
    this.need(n, `${n} skipped bits`);
    this.pos += n;
  }

  /** Skip to the next byte boundary (byte_alignment()). */
  byteAlign(): void {
    this.pos = Math.min(this.data.length * 8, (this.pos + 7) & ~7);
  }

  skipBytes(n: number): void {
    this.skipBits(n * 8);
  }

  /** ue(v), H.264 9.1 / H.265 9.2. Values need at most 32 leading zeros; more is corrupt. */
  readUe(): number {
    let leadingZeros = 0;
    while (this.readBit() === 0) {
      if (++leadingZeros > 31) throw new MediaParseError('Exp-Golomb code longer than 32 bits');
    }
    return 2 ** leadingZeros - 1 + this.readBits(leadingZeros);
  }

  /** se(v), H.264 9.1.1: codeNum k maps to (-1)^(k+1) * ceil(k / 2). */
  readSe(): number {
    const k = this.readUe();
    return k % 2 === 1 ? (k + 1) / 2 : -(k / 2);
  }

  /** Aligned byte read; the view shares memory with the input. */
  readBytes(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 0) throw new MediaParseError(`cannot read ${n} bytes`);
    if (!this.byteAligned) throw new MediaParseError('unaligned byte read');
    this.need(n * 8, `${n} bytes`);
    const start = this.pos >>> 3;
    this.pos += n * 8;
    return this.data.subarray(start, start + n);
  }
}

/** MSB-first bit writer for small records (AudioSpecificConfig). */
export class BitWriter {
  private readonly bytes: number[] = [];
  private bitCount = 0;

  writeBits(value: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) {
      const bit = Math.floor(value / 2 ** i) & 1;
      if ((this.bitCount & 7) === 0) this.bytes.push(0);
      if (bit) this.bytes[this.bytes.length - 1]! |= 0x80 >>> (this.bitCount & 7);
      this.bitCount++;
    }
  }

  /** The bits written so far, zero-padded to a whole byte. */
  toBytes(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

/**
 * NAL payload -> RBSP: drop each emulation_prevention_three_byte (the 0x03 in 00 00 03),
 * H.264 7.3.1 / H.265 7.3.1.1. Returns the input itself when there is none to drop.
 */
export function unescapeRbsp(data: Uint8Array): Uint8Array {
  let firstEscape = -1;
  for (let i = 2; i < data.length; i++) {
    if (data[i] === 3 && data[i - 1] === 0 && data[i - 2] === 0) {
      firstEscape = i;
      break;
    }
  }
  if (firstEscape < 0) return data;
  const out = new Uint8Array(data.length);
  out.set(data.subarray(0, firstEscape));
  let n = firstEscape;
  let zeros = 0;
  for (let i = firstEscape + 1; i < data.length; i++) {
    const byte = data[i]!;
    if (byte === 3 && zeros >= 2) {
      zeros = 0;
      continue;
    }
    zeros = byte === 0 ? zeros + 1 : 0;
    out[n++] = byte;
  }
  return out.subarray(0, n);
}

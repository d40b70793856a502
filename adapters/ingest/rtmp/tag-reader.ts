import { FlvTagError } from './errors.ts';

/**
 * Big-endian cursor over one FLV tag body. Every read is bounds-checked and throws
 * FlvTagError; returned byte ranges are views into the body, never copies or allocations.
 */
export class TagReader {
  private pos = 0;
  private readonly data: Uint8Array;

  constructor(data: Uint8Array) {
    this.data = data;
  }

  get remaining(): number {
    return this.data.length - this.pos;
  }

  private need(bytes: number, what: string): void {
    if (bytes > this.remaining) {
      throw new FlvTagError(`truncated tag: ${what} needs ${bytes} bytes, ${this.remaining} left`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.data[this.pos++]!;
  }

  u16(what: string): number {
    this.need(2, what);
    const value = (this.data[this.pos]! << 8) | this.data[this.pos + 1]!;
    this.pos += 2;
    return value;
  }

  u24(what: string): number {
    this.need(3, what);
    const d = this.data;
    const p = this.pos;
    this.pos += 3;
    return (d[p]! << 16) | (d[p + 1]! << 8) | d[p + 2]!;
  }

  /** SI24: the FLV CompositionTime field is a signed 24-bit two's-complement value. */
  si24(what: string): number {
    const value = this.u24(what);
    return value & 0x800000 ? value - 0x1000000 : value;
  }

  /** A FourCC as its four ASCII characters, e.g. `avc1`, `Opus`. */
  fourCc(what: string): string {
    this.need(4, what);
    const d = this.data;
    const p = this.pos;
    this.pos += 4;
    return String.fromCharCode(d[p]!, d[p + 1]!, d[p + 2]!, d[p + 3]!);
  }

  bytes(length: number, what: string): Uint8Array {
    this.need(length, what);
    const view = this.data.subarray(this.pos, this.pos + length);
    this.pos += length;
    return view;
  }

  rest(): Uint8Array {
    const view = this.data.subarray(this.pos);
    this.pos = this.data.length;
    return view;
  }
}

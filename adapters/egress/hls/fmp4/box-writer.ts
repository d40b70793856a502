/**
 * Writes ISO BMFF boxes (ISO/IEC 14496-12 §4.2) into one growing buffer: nested boxes are
 * written in place and their 32-bit size is patched when the body is done, so a whole init
 * segment or moof is built without intermediate arrays.
 */
export class BoxWriter {
  #bytes: Uint8Array;
  #view: DataView;
  #length = 0;

  constructor(capacity = 512) {
    this.#bytes = new Uint8Array(capacity);
    this.#view = new DataView(this.#bytes.buffer);
  }

  get length(): number {
    return this.#length;
  }

  /** `size type body` with the size patched afterwards. */
  box(type: string, body: () => void = () => {}): void {
    const start = this.#length;
    this.u32(0);
    this.fourcc(type);
    body();
    this.patchU32(start, this.#length - start);
  }

  /** A FullBox: version and 24-bit flags before the body (§4.2.2). */
  fullBox(type: string, version: number, flags: number, body: () => void = () => {}): void {
    this.box(type, () => {
      this.u8(version);
      this.u24(flags);
      body();
    });
  }

  u8(value: number): void {
    this.#reserve(1);
    this.#view.setUint8(this.#length, value);
    this.#length += 1;
  }

  u16(value: number): void {
    this.#reserve(2);
    this.#view.setUint16(this.#length, value);
    this.#length += 2;
  }

  i16(value: number): void {
    this.#reserve(2);
    this.#view.setInt16(this.#length, value);
    this.#length += 2;
  }

  u24(value: number): void {
    this.u8((value >>> 16) & 0xff);
    this.u16(value & 0xffff);
  }

  u32(value: number): void {
    this.#reserve(4);
    this.#view.setUint32(this.#length, value >>> 0);
    this.#length += 4;
  }

  i32(value: number): void {
    this.#reserve(4);
    this.#view.setInt32(this.#length, value | 0);
    this.#length += 4;
  }

  /** Unsigned 64-bit from a safe integer. */
  u64(value: number): void {
    this.u32(Math.floor(value / 0x1_0000_0000));
    this.u32(value % 0x1_0000_0000);
  }

  /** 16.16 fixed point (§6.2.2 widths, heights, rates). */
  fixed16(value: number): void {
    this.u32(Math.round(value * 0x10000));
  }

  fourcc(type: string): void {
    if (type.length !== 4) throw new Error(`box type must be 4 characters: ${type}`);
    for (let i = 0; i < 4; i++) this.u8(type.charCodeAt(i));
  }

  bytes(data: Uint8Array): void {
    this.#reserve(data.byteLength);
    this.#bytes.set(data, this.#length);
    this.#length += data.byteLength;
  }

  zeros(count: number): void {
    this.#reserve(count);
    this.#bytes.fill(0, this.#length, this.#length + count);
    this.#length += count;
  }

  patchU32(offset: number, value: number): void {
    this.#view.setUint32(offset, value >>> 0);
  }

  /** The bytes written so far (a copy sized to fit). */
  finish(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }

  /** The bytes written so far without copying: for a writer created with the right capacity. */
  view(): Uint8Array {
    return this.#bytes.subarray(0, this.#length);
  }

  #reserve(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#bytes.byteLength) return;
    let capacity = this.#bytes.byteLength * 2;
    while (capacity < needed) capacity *= 2;
    const grown = new Uint8Array(capacity);
    grown.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = grown;
    this.#view = new DataView(grown.buffer);
  }
}

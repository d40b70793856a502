/** A bounds-checked cursor over one received QMux message (frame.ts, params.ts). */
import { ProtocolError } from '../../wire/errors.ts';

/** Reads one message; every read checks the bytes are there. */
export class FrameReader {
  pos = 0;
  constructor(readonly bytes: Uint8Array) {}

  get remaining(): number {
    return this.bytes.byteLength - this.pos;
  }

  #need(n: number, what: string): void {
    if (this.pos + n > this.bytes.byteLength) throw new ProtocolError('unexpected-end', `frame truncated in ${what}`);
  }

  /** A varint as a bigint (frame types and codes may use all 62 bits). */
  big(what: string): bigint {
    this.#need(1, what);
    const first = this.bytes[this.pos]!;
    const length = 1 << (first >> 6);
    this.#need(length, what);
    let v = BigInt(first & 0x3f);
    for (let i = 1; i < length; i++) v = (v << 8n) | BigInt(this.bytes[this.pos + i]!);
    this.pos += length;
    return v;
  }

  /** A varint that must fit a number exactly (ids, offsets, sizes). */
  number(what: string): number {
    const v = this.big(what);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ProtocolError('value-too-large', `${what} exceeds 2^53-1`);
    return Number(v);
  }

  /** A limit: larger than 2^53-1 means "more than we will ever use". */
  limit(what: string): number {
    const v = this.big(what);
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  }

  /** An application error code, narrowed to the `unsigned long` of `streamErrorCode`. */
  code(what: string): number {
    return Number(BigInt.asUintN(32, this.big(what)));
  }

  take(n: number, what: string): Uint8Array {
    this.#need(n, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  rest(): Uint8Array {
    return this.take(this.remaining, 'rest');
  }
}

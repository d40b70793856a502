/**
 * HPACK/QPACK string Huffman code (RFC 7541 §5.2, Appendix B; reused by RFC 9204 §4.1.2).
 * The Appendix B code is canonical, so it is fully determined by each symbol's code length:
 * codes are handed out in order of (length, symbol). We keep only the lengths and rebuild the
 * codes, which makes the table short enough to check against the RFC by eye.
 */
import { Http3Error, H3ErrorCode } from './h3-errors.ts';

/** Code length in bits of symbols 0..255 (RFC 7541 Appendix B), then EOS (256). */
// prettier-ignore
const CODE_LENGTHS: readonly number[] = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

const EOS = 256;
const MAX_LENGTH = 30;

interface CanonicalCode {
  /** codes[symbol], lengths[symbol] */
  readonly codes: Uint32Array;
  /** Per length L: first code of that length, how many codes have it, index of the first in `symbols`. */
  readonly firstCode: Float64Array;
  readonly count: Uint16Array;
  readonly firstIndex: Uint16Array;
  /** Symbols sorted by (length, symbol). */
  readonly symbols: Uint16Array;
}

function buildCanonicalCode(): CanonicalCode {
  const order = CODE_LENGTHS.map((length, symbol) => ({ length, symbol })).sort((a, b) => a.length - b.length || a.symbol - b.symbol);
  const codes = new Uint32Array(CODE_LENGTHS.length);
  const firstCode = new Float64Array(MAX_LENGTH + 1).fill(-1);
  const count = new Uint16Array(MAX_LENGTH + 1);
  const firstIndex = new Uint16Array(MAX_LENGTH + 1);
  const symbols = new Uint16Array(order.length);
  let code = 0;
  let previousLength = order[0]!.length;
  order.forEach(({ length, symbol }, index) => {
    code *= 2 ** (length - previousLength);
    previousLength = length;
    if (count[length] === 0) {
      firstCode[length] = code;
      firstIndex[length] = index;
    }
    count[length]!++;
    codes[symbol] = code;
    symbols[index] = symbol;
    code++;
  });
  return { codes, firstCode, count, firstIndex, symbols };
}

const CODE = buildCanonicalCode();

/** Decodes a Huffman-coded string literal. Throws Http3Error(QPACK_DECOMPRESSION_FAILED). */
export function huffmanDecode(input: Uint8Array): Uint8Array {
  // Shortest code is 5 bits, so the output is at most 8/5 of the input: a safe bound to allocate.
  const out = new Uint8Array(Math.floor((input.byteLength * 8) / 5));
  let written = 0;
  let code = 0;
  let length = 0;
  for (const byte of input) {
    for (let bit = 7; bit >= 0; bit--) {
      code = code * 2 + ((byte >> bit) & 1);
      length++;
      const offset = code - CODE.firstCode[length]!;
      if (CODE.count[length]! > 0 && offset >= 0 && offset < CODE.count[length]!) {
        const symbol = CODE.symbols[CODE.firstIndex[length]! + offset]!;
        if (symbol === EOS) throw new Http3Error(H3ErrorCode.QpackDecompressionFailed, 'EOS inside a Huffman string');
        out[written++] = symbol;
        code = 0;
        length = 0;
      } else if (length >= MAX_LENGTH) {
        throw new Http3Error(H3ErrorCode.QpackDecompressionFailed, 'invalid Huffman code');
      }
    }
  }
  // RFC 7541 §5.2: padding is fewer than 8 bits, all ones (a prefix of EOS).
  if (length > 7 || code !== 2 ** length - 1) throw new Http3Error(H3ErrorCode.QpackDecompressionFailed, 'invalid Huffman padding');
  return out.slice(0, written);
}

export function huffmanEncodedLength(input: Uint8Array): number {
  let bits = 0;
  for (const byte of input) bits += CODE_LENGTHS[byte]!;
  return Math.ceil(bits / 8);
}

export function huffmanEncode(input: Uint8Array): Uint8Array {
  const out = new Uint8Array(huffmanEncodedLength(input));
  let written = 0;
  let pending = 0; // bits waiting to be written, right-aligned
  let pendingBits = 0;
  for (const byte of input) {
    const length = CODE_LENGTHS[byte]!;
    const code = CODE.codes[byte]!;
    for (let bit = length - 1; bit >= 0; bit--) {
      pending = (pending << 1) | (Math.floor(code / 2 ** bit) & 1);
      if (++pendingBits === 8) {
        out[written++] = pending;
        pending = 0;
        pendingBits = 0;
      }
    }
  }
  if (pendingBits > 0) out[written] = (pending << (8 - pendingBits)) | (0xff >> pendingBits);
  return out;
}


/**
 * Small helpers the fuzz targets share: turning one fuzz input into what a parser consumes (a
 * stream delivered in pieces, a list of messages, text), and building seed records.
 */

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

export function fromHex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text.replace(/\s+/g, ''), 'hex'));
}

/** One character per byte: how HTTP header and URL bytes reach string parsers. */
export const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');

const lenientUtf8 = new TextDecoder('utf-8');
/** Replacement characters for bad sequences, as a body read with `TextDecoder` would be. */
export const utf8 = (bytes: Uint8Array): string => lenientUtf8.decode(bytes);

export const ascii = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));
export const text = (value: string): Uint8Array => new TextEncoder().encode(value);

/** Concatenates byte arrays and plain byte values. */
export function cat(...parts: (Uint8Array | number[] | number)[]): Uint8Array {
  const arrays = parts.map((p) => (typeof p === 'number' ? Uint8Array.of(p) : p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.byteLength, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.byteLength;
  }
  return out;
}

/** QUIC variable-length integer (RFC 9000 §16), up to 2^62-1. */
export function quicVarint(value: number | bigint): Uint8Array {
  const v = BigInt(value);
  if (v < 0x40n) return Uint8Array.of(Number(v));
  if (v < 0x4000n) return Uint8Array.of(0x40 | Number(v >> 8n), Number(v & 0xffn));
  if (v < 0x40000000n) return bigEndian(v | 0x80000000n, 4);
  return bigEndian(v | 0xc000000000000000n, 8);
}

export function bigEndian(value: number | bigint, size: number): Uint8Array {
  let v = BigInt(value);
  const out = new Uint8Array(size);
  for (let i = size - 1; i >= 0; i--) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
}

/** The sizes the pieces of a stream come in: one byte, a few, a packet's worth, then the rest. */
const PIECE_SIZES = [1, 3, 64, 2, 1200, 7, 4096];

/**
 * Splits an input into the pieces a transport might deliver it in. Deterministic, so a failing
 * input replays exactly; the sizes vary so values straddle piece boundaries.
 */
export function pieces(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; at < bytes.byteLength; i++) {
    const size = PIECE_SIZES[(i + bytes.byteLength) % PIECE_SIZES.length]!;
    out.push(bytes.slice(at, at + size));
    at += size;
  }
  return out;
}

/** A finished ReadableStream delivering `bytes` in `pieces()`, as a QUIC receive stream would. */
export function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  const queue = pieces(bytes);
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = queue.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(next);
    },
  });
}

/** A writable that accepts and drops everything (the peer's side of a stream we answer on). */
export function sinkStream(): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({ write() {} });
}

/**
 * Splits an input into messages: each starts with a 1-byte length (< 0x80) or a 2-byte one
 * (0x80 set, 15 bits); a length past the end takes what is left. Seeds are built with `framed`.
 */
export function messages(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.byteLength) {
    let length = bytes[at++]!;
    if (length & 0x80) {
      length = ((length & 0x7f) << 8) | (bytes[at++] ?? 0);
    }
    out.push(bytes.slice(at, at + length));
    at += length;
  }
  return out;
}

/** The inverse of `messages`. */
export function framed(list: Uint8Array[]): Uint8Array {
  return cat(...list.map((m) => cat(m.byteLength < 0x80 ? [m.byteLength] : [0x80 | (m.byteLength >> 8), m.byteLength & 0xff], m)));
}

/** Resolves after pending I/O callbacks and timers that are due: lets async work settle. */
export const macrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A minimal DER (X.690) encoder: just the types an X.509 v3 certificate needs (RFC 5280).
 * Every function returns a complete TLV; callers compose them. Nothing here parses input.
 */

function encodeLength(length: number): Uint8Array {
  if (length < 0x80) return Uint8Array.of(length);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest & 0xff);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** Any tag with raw content bytes. */
function derTlv(tag: number, ...content: readonly Uint8Array[]): Uint8Array {
  const body = concat(content);
  return concat([Uint8Array.of(tag), encodeLength(body.byteLength), body]);
}

export const derSequence = (...items: readonly Uint8Array[]): Uint8Array => derTlv(0x30, ...items);
export const derSet = (...items: readonly Uint8Array[]): Uint8Array => derTlv(0x31, ...items);
export const derOctetString = (bytes: Uint8Array): Uint8Array => derTlv(0x04, bytes);
export const derBoolean = (value: boolean): Uint8Array => derTlv(0x01, Uint8Array.of(value ? 0xff : 0));
export const derUtf8String = (text: string): Uint8Array => derTlv(0x0c, new TextEncoder().encode(text));

/** BIT STRING with no unused bits (public keys, signatures). */
export const derBitString = (bytes: Uint8Array, unusedBits = 0): Uint8Array => derTlv(0x03, Uint8Array.of(unusedBits), bytes);

/** Non-negative INTEGER from big-endian magnitude bytes (a 0x00 is prepended when the top bit is set). */
export function derUnsignedInteger(magnitude: Uint8Array): Uint8Array {
  let start = 0;
  while (start < magnitude.byteLength - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  const needsPad = trimmed.byteLength === 0 || (trimmed[0]! & 0x80) !== 0;
  return derTlv(0x02, needsPad ? Uint8Array.of(0) : new Uint8Array(0), trimmed);
}

export const derSmallInteger = (value: number): Uint8Array => derUnsignedInteger(Uint8Array.of(value));

/** OBJECT IDENTIFIER from dotted form, e.g. "1.2.840.10045.4.3.2". */
export function derObjectIdentifier(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const first = arcs[0]! * 40 + arcs[1]!;
  const bytes: number[] = [];
  for (const arc of [first, ...arcs.slice(2)]) {
    const group: number[] = [arc & 0x7f];
    for (let rest = Math.floor(arc / 128); rest > 0; rest = Math.floor(rest / 128)) group.unshift(0x80 | (rest & 0x7f));
    bytes.push(...group);
  }
  return derTlv(0x06, Uint8Array.from(bytes));
}

/** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050. */
export function derTime(date: Date): Uint8Array {
  const pad = (n: number) => String(n).padStart(2, '0');
  const body =
    pad(date.getUTCMonth() + 1) + pad(date.getUTCDate()) + pad(date.getUTCHours()) + pad(date.getUTCMinutes()) + pad(date.getUTCSeconds()) + 'Z';
  const year = date.getUTCFullYear();
  if (year < 2050) return derTlv(0x17, new TextEncoder().encode(pad(year % 100) + body));
  return derTlv(0x18, new TextEncoder().encode(String(year) + body));
}

/** EXPLICIT context tag [n] (constructed). */
export const derExplicit = (tagNumber: number, inner: Uint8Array): Uint8Array => derTlv(0xa0 | tagNumber, inner);

/** IMPLICIT context tag [n] on a primitive value (e.g. GeneralName dNSName [2], iPAddress [7]). */
export const derImplicitPrimitive = (tagNumber: number, bytes: Uint8Array): Uint8Array => derTlv(0x80 | tagNumber, bytes);

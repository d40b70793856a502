/**
 * Key-Value-Pairs (draft-16 §1.4.2, draft-14 §1.4.2): even types carry one varint, odd types a
 * length and that many bytes. draft-16 encodes each type as a delta from the previous one (so
 * pairs go out sorted); draft-14 writes types as they are.
 */
import type { ByteReader, IntegerFormat } from '../../../wire/byte-reader.ts';
import { ByteWriter } from '../../../wire/byte-writer.ts';
import { IetfProtocolError, SessionErrorCode, violation } from '../errors.ts';
import { MAX_KEY_VALUE_BYTES } from '../limits.ts';

export interface KeyValuePair {
  type: bigint;
  /** A bigint for even types, bytes for odd ones. */
  value: bigint | Uint8Array;
}

export type TypeEncoding = 'absolute' | 'delta';

const MAX_TYPE = (1n << 64n) - 1n;

function isBytesType(type: bigint): boolean {
  return (type & 1n) === 1n;
}

/** Reads `count` pairs. */
export function readKeyValuePairs(reader: ByteReader, count: number, encoding: TypeEncoding): KeyValuePair[] {
  const pairs: KeyValuePair[] = [];
  let previous = 0n;
  for (let i = 0; i < count; i++) {
    const pair = readPair(reader, encoding, previous);
    previous = pair.type;
    pairs.push(pair);
  }
  return pairs;
}

/** Reads pairs until `reader` is exhausted (extension header blocks and Track Extensions). */
export function readKeyValuePairsToEnd(reader: ByteReader, encoding: TypeEncoding, maxPairs: number): KeyValuePair[] {
  const pairs: KeyValuePair[] = [];
  let previous = 0n;
  while (!reader.atEnd) {
    if (pairs.length >= maxPairs) throw violation(`more than ${maxPairs} key-value pairs`, 'value-too-large');
    const pair = readPair(reader, encoding, previous);
    previous = pair.type;
    pairs.push(pair);
  }
  return pairs;
}

function readPair(reader: ByteReader, encoding: TypeEncoding, previous: bigint): KeyValuePair {
  const raw = reader.varintBig();
  const type = encoding === 'delta' ? previous + raw : raw;
  if (type > MAX_TYPE) throw violation('key-value type delta overflows 2^64-1');
  if (!isBytesType(type)) return { type, value: reader.varintBig() };
  const length = reader.varint();
  if (length > MAX_KEY_VALUE_BYTES) throw violation(`key-value length ${length} exceeds ${MAX_KEY_VALUE_BYTES}`, 'message-too-large');
  return { type, value: reader.bytes(length) };
}

/** Writes the pairs (without a count); delta encoding sorts them by type first. */
export function writeKeyValuePairs(writer: ByteWriter, pairs: readonly KeyValuePair[], encoding: TypeEncoding): void {
  const ordered = encoding === 'delta' ? [...pairs].sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0)) : pairs;
  let previous = 0n;
  for (const pair of ordered) {
    writer.varint(encoding === 'delta' ? pair.type - previous : pair.type);
    previous = pair.type;
    if (isBytesType(pair.type)) {
      if (!(pair.value instanceof Uint8Array)) throw new RangeError(`key-value type ${pair.type} needs bytes`);
      writer.lengthPrefixedBytes(pair.value);
    } else {
      if (typeof pair.value !== 'bigint') throw new RangeError(`key-value type ${pair.type} needs a varint`);
      writer.varint(pair.value);
    }
  }
}

export function encodeKeyValuePairs(pairs: readonly KeyValuePair[], encoding: TypeEncoding, integers: IntegerFormat = 'quic'): Uint8Array {
  const writer = new ByteWriter(64, integers);
  writeKeyValuePairs(writer, pairs, encoding);
  return writer.finish();
}

/** The value of an even-typed pair, checked to fit a JS number. */
export function varintValue(pair: KeyValuePair, what: string): number {
  if (typeof pair.value !== 'bigint') throw formatting(`${what} must be a varint`);
  if (pair.value > BigInt(Number.MAX_SAFE_INTEGER)) throw violation(`${what} ${pair.value} is too large`, 'value-too-large');
  return Number(pair.value);
}

/** draft-16 §1.4.2: a known type whose value does not parse closes the session with this code. */
export function formatting(message: string): IetfProtocolError {
  return new IetfProtocolError(SessionErrorCode.keyValueFormattingError, message);
}

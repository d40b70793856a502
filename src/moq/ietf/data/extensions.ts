/**
 * Object extension header blocks (draft-16 §10.2.1.2, draft-14 §10.2.1.2): a byte length, then
 * Key-Value-Pairs (delta-encoded types in draft-16).
 */
import { ByteReader, type IntegerFormat } from '../../../wire/byte-reader.ts';
import type { ByteWriter } from '../../../wire/byte-writer.ts';
import type { StreamReader } from '../../../wire/stream-reader.ts';
import { violation } from '../errors.ts';
import { MAX_EXTENSION_BLOCK_BYTES } from '../limits.ts';
import { encodeKeyValuePairs, type KeyValuePair, readKeyValuePairsToEnd, type TypeEncoding } from '../wire/key-value.ts';

/** Enough for any real header set; bounds the work one block can cause. */
const MAX_EXTENSIONS_PER_OBJECT = 256;

export function parseExtensionBlock(block: Uint8Array, encoding: TypeEncoding, integers: IntegerFormat = 'quic'): KeyValuePair[] {
  return readKeyValuePairsToEnd(new ByteReader(block, integers), encoding, MAX_EXTENSIONS_PER_OBJECT);
}

export function readExtensionBlock(reader: ByteReader, encoding: TypeEncoding): KeyValuePair[] {
  const length = reader.varint();
  checkLength(length);
  return parseExtensionBlock(reader.bytes(length), encoding, reader.integers);
}

export async function readExtensionBlockFrom(reader: StreamReader, encoding: TypeEncoding): Promise<KeyValuePair[]> {
  const length = await reader.varint();
  checkLength(length);
  return parseExtensionBlock(await reader.bytes(length), encoding, reader.integers);
}

export function writeExtensionBlock(writer: ByteWriter, extensions: readonly KeyValuePair[], encoding: TypeEncoding): void {
  writer.lengthPrefixedBytes(encodeKeyValuePairs(extensions, encoding, writer.integers));
}

function checkLength(length: number): void {
  if (length > MAX_EXTENSION_BLOCK_BYTES) throw violation(`extension block of ${length} bytes exceeds ${MAX_EXTENSION_BLOCK_BYTES}`, 'message-too-large');
}

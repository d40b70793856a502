/** Reason Phrase (draft-16 §1.4.3): a length-prefixed UTF-8 string of at most 1024 bytes. */
import type { ByteReader } from '../../../wire/byte-reader.ts';
import type { ByteWriter } from '../../../wire/byte-writer.ts';
import { violation } from '../errors.ts';
import { MAX_REASON_PHRASE_BYTES } from '../limits.ts';

// Diagnostics only: a malformed phrase is shown with replacement characters, not fatal.
const lenientUtf8 = new TextDecoder('utf-8');
const utf8 = new TextEncoder();

export function readReason(reader: ByteReader): string {
  const length = reader.varint();
  if (length > MAX_REASON_PHRASE_BYTES) throw violation(`reason phrase of ${length} bytes exceeds ${MAX_REASON_PHRASE_BYTES}`, 'message-too-large');
  return lenientUtf8.decode(reader.bytes(length));
}

/** Writes `reason`, cut to the limit on a character boundary. */
export function writeReason(writer: ByteWriter, reason: string): void {
  let bytes = utf8.encode(reason);
  if (bytes.byteLength > MAX_REASON_PHRASE_BYTES) {
    let end = MAX_REASON_PHRASE_BYTES;
    while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
    bytes = bytes.subarray(0, end);
  }
  writer.lengthPrefixedBytes(bytes);
}

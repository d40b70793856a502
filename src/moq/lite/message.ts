/**
 * moq-lite message framing: every message is `Message Length (i)` + body
 * (draft-lcurley-moq-lite "Message Length"; added in lite-01). Decoders in this folder take the
 * body (as returned by `StreamReader.message`) and must consume it exactly.
 */
import { ByteReader } from '../../wire/byte-reader.ts';

export { encodeVarintFramed as encodeMessage } from '../../wire/byte-writer.ts';

/** Runs `read` over `body` and rejects leftover bytes (lite messages have no extension tail). */
export function decodeMessage<T>(body: Uint8Array, what: string, read: (reader: ByteReader) => T): T {
  const reader = new ByteReader(body);
  const value = read(reader);
  reader.expectEnd(what);
  return value;
}

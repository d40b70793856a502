/**
 * Bridges to the reference client's own encoders/decoders (@moq/lite 0.2.2) for cross-checks:
 * encode with theirs and decode with ours, and the reverse.
 */
import { Reader, Writer } from '../../node_modules/@moq/lite/stream.js';

export { Reader, Writer };

/** Bytes written by the reference `Writer` inside `fill`. */
export async function referenceEncode(fill: (writer: Writer) => Promise<void>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  // The reference writer reuses a scratch buffer, so copy each chunk.
  const writer = new Writer(new WritableStream<Uint8Array>({ write: (chunk) => void chunks.push(chunk.slice()) }));
  await fill(writer);
  writer.close();
  await writer.closed;
  return concat(chunks);
}

/** A reference `Reader` over a complete byte buffer. */
export function referenceReader(bytes: Uint8Array): Reader {
  return new Reader(undefined, bytes.slice());
}

export function concat(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

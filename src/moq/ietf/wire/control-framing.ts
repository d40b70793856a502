/**
 * Control message framing shared by draft-14 and draft-16 (§9): Message Type (i), Message Length
 * (16), payload. The 16-bit length bounds every control message at 64 KiB.
 */
import type { IntegerFormat } from '../../../wire/byte-reader.ts';
import { ByteWriter } from '../../../wire/byte-writer.ts';
import type { StreamReader } from '../../../wire/stream-reader.ts';
import { MAX_CONTROL_MESSAGE_BYTES } from '../limits.ts';

export interface RawControlMessage {
  type: number;
  body: Uint8Array;
}

/** The next message, or undefined when the peer finished the stream between messages. */
export async function readControlMessage(reader: StreamReader, maxBytes = MAX_CONTROL_MESSAGE_BYTES): Promise<RawControlMessage | undefined> {
  if (await reader.atEnd()) return undefined;
  const type = await reader.varint();
  const body = await reader.messageU16(maxBytes);
  return { type, body };
}

/** `integers`: the Message Type is a vi64 from draft-18 on (draft-18 §9). */
export function frameControlMessage(type: number, body: Uint8Array, integers: IntegerFormat = 'quic'): Uint8Array {
  if (body.byteLength > MAX_CONTROL_MESSAGE_BYTES) throw new RangeError(`control message of ${body.byteLength} bytes exceeds the 16-bit length`);
  return new ByteWriter(body.byteLength + 11, integers).varint(type).u16(body.byteLength).bytes(body).finish();
}

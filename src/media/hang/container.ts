import { decodeVarintAt, encodeVarint, varintLengthFromFirstByte } from '../../wire/varint.ts';
import { MediaParseError } from '../errors.ts';
import { ProtocolError } from '../../wire/errors.ts';

/**
 * hang's "legacy" container (draft-lcurley-moq-hang §Container/legacy): a QUIC varint with the
 * presentation timestamp in µs, then the codec payload.
 */
export interface LegacyFrame {
  /** Presentation timestamp in µs. */
  timestamp: number;
  payload: Uint8Array;
}

export function encodeLegacyFrame(timestamp: number, payload: Uint8Array): Uint8Array {
  const prefix = encodeVarint(Math.max(0, Math.round(timestamp)));
  const out = new Uint8Array(prefix.byteLength + payload.byteLength);
  out.set(prefix, 0);
  out.set(payload, prefix.byteLength);
  return out;
}

export function decodeLegacyFrame(bytes: Uint8Array): LegacyFrame {
  if (bytes.byteLength === 0) throw new MediaParseError('empty legacy frame');
  const size = varintLengthFromFirstByte(bytes[0]!);
  if (bytes.byteLength < size) throw new MediaParseError('truncated legacy frame timestamp');
  let timestamp: number;
  try {
    timestamp = decodeVarintAt(bytes, 0);
  } catch (error) {
    // A varint past 2^53 µs: the frame is malformed media, not a session protocol error.
    if (error instanceof ProtocolError) throw new MediaParseError(`legacy frame timestamp: ${error.message}`);
    throw error;
  }
  return { timestamp, payload: bytes.subarray(size) };
}

/**
 * The control-message codec for a negotiated version. The session speaks only the neutral model
 * (messages.ts); adding a draft means adding a codec here, not touching the session or relay.
 */
import { decodeDraft14, encodeDraft14 } from './draft14/control-codec.ts';
import { decodeDraft16, encodeDraft16 } from './draft16/control-codec.ts';
import { draft18ControlCodec, draft18LengthPrefixedLocationCodec, draft19ControlCodec, draft19LengthPrefixedLocationCodec } from './draft18/control-codec.ts';
import type { ControlMessage } from './messages.ts';
import type { IetfVersion } from './version.ts';
import { frameControlMessage, type RawControlMessage } from './wire/control-framing.ts';

export interface ControlCodec {
  readonly version: IetfVersion;
  /**
   * Throws ProtocolError (IetfProtocolError with the session code where one applies).
   * `streamRequestId`: draft-18+ responses carry no Request ID; they get the request stream's.
   */
  decode(raw: RawControlMessage, streamRequestId?: number): ControlMessage;
  encode(message: ControlMessage): RawControlMessage;
  /** Type + 16-bit length + payload, ready for the control stream. */
  frame(message: ControlMessage): Uint8Array;
}

/** `quirks.lengthPrefixedLocation`: draft-18+ only, for peers that length-prefix LARGEST_OBJECT (session/peer.ts). */
export function controlCodec(version: IetfVersion, quirks: { lengthPrefixedLocation?: boolean } = {}): ControlCodec {
  if (version === 'draft-18' || version === 'draft-19') {
    const plain = version === 'draft-18' ? draft18ControlCodec : draft19ControlCodec;
    const quirky = version === 'draft-18' ? draft18LengthPrefixedLocationCodec : draft19LengthPrefixedLocationCodec;
    const codec = quirks.lengthPrefixedLocation ? quirky : plain;
    return { version, decode: codec.decode, encode: codec.encode, frame: codec.frame };
  }
  const [decode, encode] = version === 'draft-14' ? [decodeDraft14, encodeDraft14] : [decodeDraft16, encodeDraft16];
  return {
    version,
    decode,
    encode,
    frame(message) {
      const raw = encode(message);
      return frameControlMessage(raw.type, raw.body);
    },
  };
}

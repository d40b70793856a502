import { MediaParseError } from '../../../src/media/errors.ts';

/**
 * H.264 access units (AVCC: 4-byte big-endian NAL lengths, the frame model's video payload)
 * to RTP payloads per RFC 6184, packetization mode 1: a NAL unit that fits goes as a single
 * NAL unit packet (§5.6), a larger one as FU-A fragments (§5.8). The marker bit is set on the
 * last packet of the access unit (§5.1).
 */

export interface RtpPayload {
  payload: Uint8Array;
  marker: boolean;
}

/** Room for RTP payload in a 1200-byte packet after RTP, header extensions and SRTP overhead. */
const DEFAULT_MAX_PAYLOAD = 1100;

const FU_A = 28;

/** The NAL units of an AVCC payload; throws MediaParseError on a length running past the end. */
export function splitAvcc(frame: Uint8Array, lengthSize = 4): Uint8Array[] {
  const nalus: Uint8Array[] = [];
  let offset = 0;
  while (offset < frame.byteLength) {
    if (offset + lengthSize > frame.byteLength) throw new MediaParseError('truncated AVCC NAL length');
    let length = 0;
    for (let i = 0; i < lengthSize; i++) length = length * 256 + frame[offset + i]!;
    offset += lengthSize;
    if (length === 0) continue;
    if (offset + length > frame.byteLength) throw new MediaParseError('AVCC NAL unit runs past the frame');
    nalus.push(frame.subarray(offset, offset + length));
    offset += length;
  }
  return nalus;
}

export function isSendable(nalu: Uint8Array): boolean {
  return nalu.byteLength > 0 && (nalu[0]! & 0x1f) < 24;
}

/** RTP payloads for one access unit's NAL units (parameter sets first, if the caller adds them). */
export function packetizeNalus(nalus: readonly Uint8Array[], maxPayload = DEFAULT_MAX_PAYLOAD): RtpPayload[] {
  const out: RtpPayload[] = [];
  for (const nalu of nalus) {
    // Types 24..31 are not H.264 NAL units but RTP aggregation/fragmentation types (§5.2): a
    // frame carrying one would be misread by every depacketizer, so it is left out.
    if (!isSendable(nalu)) continue;
    if (nalu.byteLength <= maxPayload) {
      out.push({ payload: nalu, marker: false });
      continue;
    }
    // §5.8: FU indicator keeps F and NRI, type 28; FU header S/E bits and the NAL type.
    const indicator = (nalu[0]! & 0xe0) | FU_A;
    const type = nalu[0]! & 0x1f;
    const body = nalu.subarray(1);
    const chunk = maxPayload - 2;
    for (let offset = 0; offset < body.byteLength; offset += chunk) {
      const end = Math.min(body.byteLength, offset + chunk);
      const payload = new Uint8Array(2 + end - offset);
      payload[0] = indicator;
      payload[1] = (offset === 0 ? 0x80 : 0) | (end === body.byteLength ? 0x40 : 0) | type;
      payload.set(body.subarray(offset, end), 2);
      out.push({ payload, marker: false });
    }
  }
  const last = out.at(-1);
  if (last) last.marker = true;
  return out;
}

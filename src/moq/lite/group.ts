/**
 * Group uni streams: stream type 0, then GROUP (subscribe id, group sequence) as a
 * length-prefixed message, then FRAMEs until FIN. A FRAME is a varint size and that many payload
 * bytes (lite-01..04 have no timestamp delta; that came in lite-05). FETCH (lite-03+) answers
 * with the same FRAME encoding on its bidi stream.
 */
import { encodeVarint } from '../../wire/varint.ts';
import { decodeMessage, encodeMessage } from './message.ts';

export interface GroupHeader {
  subscribeId: number;
  sequence: number;
}

export function encodeGroupHeader(message: GroupHeader): Uint8Array {
  return encodeMessage((w) => w.varint(message.subscribeId).varint(message.sequence));
}

export function decodeGroupHeader(body: Uint8Array): GroupHeader {
  return decodeMessage(body, 'GROUP', (r) => ({ subscribeId: r.varint(), sequence: r.varint() }));
}

/** The size prefix written before a frame payload (the payload follows unchanged). */
export function encodeFrameHeader(payloadBytes: number): Uint8Array {
  return encodeVarint(payloadBytes);
}

const onWire = new WeakMap<Uint8Array, Uint8Array>();

/**
 * A relay frame as a group stream carries it (size prefix, payload), built once per frame and
 * shared by every subscriber's stream: one write per frame instead of two halves the stream
 * writes (and QMux frames / QUIC stream sends) of fan-out. It lives as long as the frame does,
 * so the extra memory is bounded by the relay's own group cache.
 */
export function frameOnWire(frame: Uint8Array): Uint8Array {
  let bytes = onWire.get(frame);
  if (!bytes) {
    const header = encodeFrameHeader(frame.byteLength);
    bytes = new Uint8Array(header.byteLength + frame.byteLength);
    bytes.set(header, 0);
    bytes.set(frame, header.byteLength);
    onWire.set(frame, bytes);
  }
  return bytes;
}

/** Size prefix + payload in one buffer (for small frames and tests). */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  return encodeMessage((w) => w.bytes(payload));
}

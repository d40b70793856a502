/**
 * The QMux frame codec for WebSocket framings (draft-lcurley-qmux-websocket §Record Framing,
 * with frames as in QMux / RFC 9000 §19), byte-compatible with @moq/qmux 0.3.3:
 * - qmux-00: one frame per WebSocket message;
 * - qmux-01/02: a message is a record of frames (PADDING skipped);
 * - webtransport (web-transport-ws): a one-byte type, no offsets or lengths, no flow control:
 *   0x08/0x09 STREAM(+FIN) with data to the end of the message, 0x04 RESET_STREAM,
 *   0x05 STOP_SENDING, 0x1c/0x1d CONNECTION_CLOSE with the reason to the end.
 * Decoding is zero-copy (STREAM and DATAGRAM data are views of the message) and throws only
 * `ProtocolError`. Stream ids, offsets and sizes are numbers (a value above 2^53 is refused:
 * flow control keeps real ones far below); limits saturate at 2^53-1; codes wrap to 32 bits as
 * WebTransport's `streamErrorCode` does.
 */
import { ProtocolError } from '../../wire/errors.ts';
import { varintLength, writeVarint } from '../../wire/varint.ts';
import type { WsFraming } from '../subprotocol.ts';
import { FrameReader } from './reader.ts';
import { decodeTransportParameters, encodeTransportParameters, type TransportParameters } from './params.ts';

export type Frame =
  | { type: 'stream'; id: number; offset: number | undefined; data: Uint8Array; fin: boolean }
  | { type: 'reset_stream'; id: number; code: number; finalSize: number; reliableSize?: number }
  | { type: 'stop_sending'; id: number; code: number }
  | { type: 'close'; application: boolean; code: number; reason: string }
  | { type: 'max_data'; max: number }
  | { type: 'max_stream_data'; id: number; max: number }
  | { type: 'max_streams'; bidi: boolean; max: number }
  /** DATA_BLOCKED, STREAM_DATA_BLOCKED, STREAMS_BLOCKED: informational. */
  | { type: 'blocked' }
  | { type: 'transport_parameters'; params: TransportParameters }
  | { type: 'ping'; response: boolean; sequence: number }
  | { type: 'datagram'; data: Uint8Array; lengthPrefixed: boolean };

const FRAME_TRANSPORT_PARAMETERS = 0x3f5153300d0a0d0an;
const PING_REQUEST = 0x348c67529ef8c7bdn;
const PING_RESPONSE = 0x348c67529ef8c7ben;
/** RESET_STREAM_AT (draft-ietf-quic-reliable-stream-reset), allowed by QMux draft-02. */
const RESET_STREAM_AT = 0x24;

/** draft-00's `max_frame_size`, and the web-transport-ws limit @moq/qmux applies when sending. */
export const MAX_FRAME_SIZE = 16384;
/** Largest STREAM payload released @moq/qmux receivers take (its MAX_FRAME_PAYLOAD). */
const MAX_STREAM_PAYLOAD = MAX_FRAME_SIZE - 32;

export const isQmux = (framing: WsFraming): boolean => framing !== 'webtransport';
/** qmux-01 and later: records, QX_PING, DATAGRAM, max_record_size. */
export const usesRecords = (framing: WsFraming): boolean => framing === 'qmux-01' || framing === 'qmux-02';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Decodes one WebSocket message into its frames (PADDING dropped). */
export function decodeMessage(framing: WsFraming, message: Uint8Array): Frame[] {
  const reader = new FrameReader(message);
  if (framing === 'webtransport') return message.byteLength === 0 ? [] : [decodeLegacy(reader)];
  const frames: Frame[] = [];
  while (reader.remaining > 0) {
    const frame = decodeQmux(reader);
    if (frame) frames.push(frame);
    // draft-00: one frame per message (§5.2 of draft-00; @moq/qmux ignores anything after it).
    if (framing === 'qmux-00') break;
  }
  return frames;
}

function decodeLegacy(r: FrameReader): Frame {
  const type = r.take(1, 'type')[0]!;
  switch (type) {
    case 0x08:
    case 0x09:
      return { type: 'stream', id: r.number('stream id'), offset: undefined, data: r.rest(), fin: type === 0x09 };
    case 0x04:
      return { type: 'reset_stream', id: r.number('stream id'), code: r.code('code'), finalSize: 0 };
    case 0x05:
      return { type: 'stop_sending', id: r.number('stream id'), code: r.code('code') };
    case 0x1c:
    case 0x1d:
      return { type: 'close', application: type === 0x1d, code: r.code('code'), reason: utf8.decode(r.rest()) };
    default:
      throw new ProtocolError('invalid-value', `unknown web-transport-ws frame type 0x${type.toString(16)}`);
  }
}

function decodeQmux(r: FrameReader): Frame | undefined {
  const type = r.big('frame type');
  if (type >= 0x08n && type <= 0x0fn) {
    const bits = Number(type);
    const id = r.number('stream id');
    const offset = bits & 0x04 ? r.number('offset') : undefined;
    const data = bits & 0x02 ? r.take(r.number('length'), 'stream data') : r.rest();
    return { type: 'stream', id, offset, data, fin: (bits & 0x01) !== 0 };
  }
  switch (type) {
    case 0x00n:
      return undefined; // PADDING
    case 0x04n:
      return { type: 'reset_stream', id: r.number('stream id'), code: r.code('code'), finalSize: r.number('final size') };
    case BigInt(RESET_STREAM_AT): {
      const frame = { type: 'reset_stream' as const, id: r.number('stream id'), code: r.code('code'), finalSize: r.number('final size'), reliableSize: r.number('reliable size') };
      if (frame.reliableSize > frame.finalSize) throw new ProtocolError('invalid-value', 'RESET_STREAM_AT reliable size exceeds final size');
      return frame;
    }
    case 0x05n:
      return { type: 'stop_sending', id: r.number('stream id'), code: r.code('code') };
    case 0x1cn:
    case 0x1dn: {
      const application = type === 0x1dn;
      const code = r.code('code');
      // RFC 9000 §19.19: only CONNECTION_CLOSE (0x1c) carries the offending frame type.
      if (!application) r.big('frame type');
      const reason = utf8.decode(r.take(r.number('reason length'), 'reason'));
      return { type: 'close', application, code, reason };
    }
    case 0x10n:
      return { type: 'max_data', max: r.limit('maximum data') };
    case 0x11n:
      return { type: 'max_stream_data', id: r.number('stream id'), max: r.limit('maximum stream data') };
    case 0x12n:
    case 0x13n:
      return { type: 'max_streams', bidi: type === 0x12n, max: r.limit('maximum streams') };
    case 0x14n:
    case 0x16n:
    case 0x17n:
      r.big('limit');
      return { type: 'blocked' };
    case 0x15n:
      r.big('stream id');
      r.big('limit');
      return { type: 'blocked' };
    case FRAME_TRANSPORT_PARAMETERS:
      return { type: 'transport_parameters', params: decodeTransportParameters(r.take(r.number('parameters length'), 'transport parameters')) };
    case PING_REQUEST:
    case PING_RESPONSE:
      return { type: 'ping', response: type === PING_RESPONSE, sequence: r.limit('ping sequence') };
    case 0x30n:
      return { type: 'datagram', data: r.rest(), lengthPrefixed: false };
    case 0x31n:
      return { type: 'datagram', data: r.take(r.number('datagram length'), 'datagram'), lengthPrefixed: true };
    default:
      throw new ProtocolError('invalid-value', `unknown QMux frame type 0x${type.toString(16)}`);
  }
}

// --- encoding ------------------------------------------------------------------------------

type Field = number | bigint;

function fields(values: readonly Field[], tail?: Uint8Array): Uint8Array {
  let length = tail?.byteLength ?? 0;
  for (const v of values) length += varintLength(v);
  const out = new Uint8Array(length);
  let at = 0;
  for (const v of values) at = writeVarint(out, at, v);
  if (tail) out.set(tail, at);
  return out;
}

const utf8Encoder = new TextEncoder();

/** A control frame (anything but STREAM, whose header is written by `writeStreamHeader`). */
export type ControlFrame =
  | { type: 'reset_stream'; id: number; code: number; finalSize: number }
  | { type: 'stop_sending'; id: number; code: number }
  | { type: 'close'; application: boolean; code: number; reason: string }
  | { type: 'max_data'; max: number }
  | { type: 'max_stream_data'; id: number; max: number }
  | { type: 'max_streams'; bidi: boolean; max: number }
  | { type: 'transport_parameters'; params: TransportParameters }
  | { type: 'ping'; response: boolean; sequence: number }
  | { type: 'datagram'; data: Uint8Array };

export function encodeControl(framing: WsFraming, frame: ControlFrame): Uint8Array {
  if (framing === 'webtransport') {
    switch (frame.type) {
      case 'reset_stream':
        return fields([0x04, frame.id, frame.code]);
      case 'stop_sending':
        return fields([0x05, frame.id, frame.code]);
      case 'close':
        return fields([frame.application ? 0x1d : 0x1c, frame.code], utf8Encoder.encode(frame.reason));
      default:
        throw new Error(`${frame.type} does not exist in web-transport-ws`);
    }
  }
  switch (frame.type) {
    case 'reset_stream':
      return fields([0x04, frame.id, frame.code, frame.finalSize]);
    case 'stop_sending':
      return fields([0x05, frame.id, frame.code]);
    case 'close': {
      const reason = utf8Encoder.encode(frame.reason);
      return frame.application ? fields([0x1d, frame.code, reason.byteLength], reason) : fields([0x1c, frame.code, 0, reason.byteLength], reason);
    }
    case 'max_data':
      return fields([0x10, frame.max]);
    case 'max_stream_data':
      return fields([0x11, frame.id, frame.max]);
    case 'max_streams':
      return fields([frame.bidi ? 0x12 : 0x13, frame.max]);
    case 'transport_parameters': {
      const body = encodeTransportParameters(frame.params);
      return fields([FRAME_TRANSPORT_PARAMETERS, body.byteLength], body);
    }
    case 'ping':
      return fields([frame.response ? PING_RESPONSE : PING_REQUEST, frame.sequence]);
    case 'datagram':
      // Length-prefixed (0x31), as @moq/qmux sends it.
      return fields([0x31, frame.data.byteLength], frame.data);
  }
}

/** Bytes of a STREAM frame header with `length` bytes of data at `offset`. */
export function streamHeaderLength(framing: WsFraming, id: number, offset: number, length: number): number {
  if (framing === 'webtransport') return 1 + varintLength(id);
  return 1 + varintLength(id) + varintLength(offset) + varintLength(length);
}

/**
 * Writes a STREAM frame header at `at`; the data follows it in the same message. QMux frames
 * always carry OFF and LEN (type 0x0e | FIN), as @moq/qmux sends them.
 */
export function writeStreamHeader(target: Uint8Array, at: number, framing: WsFraming, id: number, offset: number, length: number, fin: boolean): number {
  if (framing === 'webtransport') {
    target[at] = fin ? 0x09 : 0x08;
    return writeVarint(target, at + 1, id);
  }
  target[at] = fin ? 0x0f : 0x0e;
  at = writeVarint(target, at + 1, id);
  at = writeVarint(target, at, offset);
  return writeVarint(target, at, length);
}

/**
 * Largest STREAM payload at `offset` that keeps the frame within `budget` bytes (the peer's
 * max_record_size, or MAX_FRAME_SIZE), and within MAX_STREAM_PAYLOAD. The length field is
 * counted at 2 bytes, which covers every payload up to MAX_STREAM_PAYLOAD.
 */
export function maxStreamPayload(framing: WsFraming, budget: number, id: number, offset: number): number {
  const header = framing === 'webtransport' ? 1 + varintLength(id) : 1 + varintLength(id) + varintLength(offset) + 2;
  return Math.max(0, Math.min(MAX_STREAM_PAYLOAD, budget - header));
}

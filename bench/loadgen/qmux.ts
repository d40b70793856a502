/**
 * The receive half of QMux over WebSocket (draft-lcurley-qmux-websocket, @moq/qmux's wire) a
 * bench viewer needs, and the legacy web-transport-ws framing:
 * - qmux-00: one QMux frame per WebSocket message; qmux-01/02: a message is a record of frames.
 * - webtransport: 0x08/0x09 STREAM (+FIN), stream id, data to the end of the message.
 * We advertise flow-control limits no bench run can exhaust, so we never send MAX_DATA or
 * MAX_STREAMS; the only frames we send are our transport parameters, STREAM (the SUBSCRIBE)
 * and QX_PING responses (qmux-01+ keep-alive; the gateway closes an unresponsive session).
 */

export type WsFraming = 'qmux-02' | 'qmux-01' | 'qmux-00' | 'webtransport';

export interface QmuxSink {
  onStream(id: number, data: Uint8Array, fin: boolean): void;
  onReset(id: number): void;
  onClose(reason: string): void;
  /** Bytes to send back (a QX_PING response). */
  reply(bytes: Uint8Array): void;
}

const TRANSPORT_PARAMETERS = 0x3f5153300d0a0d0an;
const PING_REQUEST = 0x348c67529ef8c7bdn;
const PING_RESPONSE = 0x348c67529ef8c7ben;

let pos = 0;

/** Reads a varint at `pos` as a number (exact below 2^53, enough for every field we keep). */
function varint(b: Uint8Array): number {
  const first = b[pos]!;
  const len = 1 << (first >> 6);
  let v = first & 0x3f;
  for (let k = 1; k < len; k++) v = v * 256 + b[pos + k]!;
  pos += len;
  return v;
}

/** A frame type: the 8-byte extension types need all 62 bits. */
function frameType(b: Uint8Array): bigint | number {
  if (b[pos]! >> 6 !== 3) return varint(b);
  const v = new DataView(b.buffer, b.byteOffset + pos, 8).getBigUint64(0) & 0x3fffffffffffffffn;
  pos += 8;
  return v;
}

export function encodeVarint(value: number | bigint): Uint8Array {
  const v = BigInt(value);
  if (v < 0x40n) return Uint8Array.of(Number(v));
  if (v < 0x4000n) return Uint8Array.of(0x40 | Number(v >> 8n), Number(v & 0xffn));
  if (v < 0x40000000n) {
    const n = Number(v);
    return Uint8Array.of(0x80 | (n >>> 24), (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  }
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v | 0xc000000000000000n);
  return out;
}

const concat = (parts: Uint8Array[]) => Buffer.concat(parts);

/** Our QX_TRANSPORT_PARAMETERS (QMux drafts only): limits a bench never reaches. */
export function transportParameters(): Uint8Array {
  const param = (id: number, value: number | bigint) => {
    const v = encodeVarint(value);
    return concat([encodeVarint(id), encodeVarint(v.byteLength), v]);
  };
  const big = 1n << 50n;
  const payload = concat([param(0x04, big), param(0x05, big), param(0x06, big), param(0x07, big), param(0x08, 1 << 20), param(0x09, 1n << 40n)]);
  return concat([encodeVarint(TRANSPORT_PARAMETERS), encodeVarint(payload.byteLength), payload]);
}

/** A STREAM frame from us (stream 0, the SUBSCRIBE) in the chosen framing. */
export function streamFrame(framing: WsFraming, id: number, data: Uint8Array, fin = false): Uint8Array {
  if (framing === 'webtransport') return concat([Uint8Array.of(fin ? 0x09 : 0x08), encodeVarint(id), data]);
  return concat([encodeVarint(0x0e | (fin ? 1 : 0)), encodeVarint(id), encodeVarint(0), encodeVarint(data.byteLength), data]);
}

/** Parses one WebSocket message and hands its STREAM data to `sink` (views, no copies). */
export function receiveMessage(framing: WsFraming, b: Uint8Array, sink: QmuxSink): void {
  pos = 0;
  if (framing === 'webtransport') {
    const type = b[pos++]!;
    if (type === 0x08 || type === 0x09) {
      const id = varint(b);
      sink.onStream(id, b.subarray(pos), type === 0x09);
    } else if (type === 0x04) sink.onReset(varint(b));
    else if (type === 0x1c || type === 0x1d) sink.onClose('peer closed the session');
    return;
  }
  while (pos < b.byteLength) {
    const type = frameType(b);
    if (typeof type === 'number' && type >= 0x08 && type <= 0x0f) {
      const id = varint(b);
      if (type & 0x04) varint(b);
      let end = b.byteLength;
      if (type & 0x02) end = varint(b) + pos;
      sink.onStream(id, b.subarray(pos, end), (type & 0x01) !== 0);
      pos = end;
      continue;
    }
    switch (type) {
      case 0x00: // PADDING
        continue;
      case 0x04: // RESET_STREAM
      case 0x24: // RESET_STREAM_AT
        sink.onReset(varint(b));
        varint(b);
        varint(b);
        if (type === 0x24) varint(b);
        continue;
      case 0x05: // STOP_SENDING
      case 0x11: // MAX_STREAM_DATA
      case 0x15: // STREAM_DATA_BLOCKED
        varint(b);
        varint(b);
        continue;
      case 0x10:
      case 0x12:
      case 0x13:
      case 0x14:
      case 0x16:
      case 0x17:
        varint(b);
        continue;
      case 0x1c:
      case 0x1d:
        sink.onClose('peer closed the session');
        return;
      case 0x30: // DATAGRAM to the end of the record
        return;
      case 0x31:
        pos += varint(b);
        continue;
      case TRANSPORT_PARAMETERS:
        pos += varint(b);
        continue;
      case PING_REQUEST: {
        const start = pos;
        varint(b);
        sink.reply(concat([encodeVarint(PING_RESPONSE), b.subarray(start, pos)]));
        continue;
      }
      case PING_RESPONSE:
        varint(b);
        continue;
      default:
        sink.onClose(`unknown QMux frame type 0x${type.toString(16)}`);
        return;
    }
  }
}

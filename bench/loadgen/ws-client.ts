/**
 * A receive-mostly WebSocket client over a raw TCP socket (RFC 6455), for bench viewers: the
 * `ws` library copies every message into a fresh Buffer and runs a per-message event pipeline;
 * here a message that lies within one TCP chunk is handed over as a view, and only messages that
 * straddle chunks are copied. Server frames are unmasked (§5.1); our few frames are masked with
 * a zero key (§5.3 allows any key; a bench needs no cache-poisoning defence).
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

export interface RawWebSocket {
  send(payload: Uint8Array): void;
  close(): void;
  /** The subprotocol the server chose. */
  readonly protocol: string;
}

export interface RawWebSocketHandlers {
  onMessage(payload: Uint8Array): void;
  onClose(): void;
}

const OP_CONTINUATION = 0x0;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;

function frame(opcode: number, payload: Uint8Array): Buffer {
  const n = payload.byteLength;
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10;
  const out = Buffer.allocUnsafe(head + 4 + n);
  out[0] = 0x80 | opcode;
  if (n < 126) out[1] = 0x80 | n;
  else if (n < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  out.writeUInt32BE(0, head); // zero masking key: payload unchanged
  out.set(payload, head + 4);
  return out;
}

export function connectRawWebSocket(url: URL, protocols: string[], handlers: RawWebSocketHandlers, timeoutMs: number): Promise<RawWebSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: url.hostname, port: Number(url.port || 80) });
    socket.setNoDelay(true);
    const timer = setTimeout(() => fail(new Error(`WebSocket open timed out after ${timeoutMs} ms`)), timeoutMs);
    let open = false;
    let closed = false;
    let handshake = Buffer.alloc(0);
    // Message reassembly: `pending` holds a partial frame header or a payload that straddles chunks.
    let pending: Buffer | undefined;
    let assembling: Buffer | undefined;
    let assembled = 0;
    let assemblingOpcode = 0;
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (!open) reject(error);
    };
    const end = () => {
      if (closed) return;
      closed = true;
      socket.destroy();
      handlers.onClose();
    };
    const control = (opcode: number, payload: Uint8Array) => {
      if (opcode === OP_PING) socket.write(frame(0xa, payload));
      else if (opcode === OP_CLOSE) end();
    };
    const deliver = (opcode: number, payload: Uint8Array) => {
      if (opcode >= 0x8) control(opcode, payload);
      else handlers.onMessage(payload);
    };
    const parse = (chunk: Buffer) => {
      let b = chunk;
      if (pending) {
        b = Buffer.concat([pending, chunk]);
        pending = undefined;
      }
      let i = 0;
      while (i < b.length) {
        if (assembling) {
          const take = Math.min(assembling.length - assembled, b.length - i);
          b.copy(assembling, assembled, i, i + take);
          assembled += take;
          i += take;
          if (assembled === assembling.length) {
            const payload = assembling;
            assembling = undefined;
            deliver(assemblingOpcode, payload);
          }
          continue;
        }
        if (b.length - i < 2) break;
        const opcode = b[i]! & 0x0f;
        let len = b[i + 1]! & 0x7f;
        let head = 2;
        if (len === 126) {
          if (b.length - i < 4) break;
          len = b.readUInt16BE(i + 2);
          head = 4;
        } else if (len === 127) {
          if (b.length - i < 10) break;
          len = Number(b.readBigUInt64BE(i + 2));
          head = 10;
        }
        i += head;
        // Fragmented messages (continuation frames) are not used by the servers we measure.
        const op = opcode === OP_CONTINUATION ? assemblingOpcode : opcode;
        if (b.length - i >= len) {
          deliver(op, b.subarray(i, i + len));
          i += len;
        } else {
          assembling = Buffer.allocUnsafe(len);
          assembled = 0;
          assemblingOpcode = op;
        }
      }
      if (i < b.length) pending = Buffer.from(b.subarray(i));
    };
    socket.on('data', (chunk: Buffer) => {
      if (open) return parse(chunk);
      handshake = Buffer.concat([handshake, chunk]);
      const at = handshake.indexOf('\r\n\r\n');
      if (at < 0) return;
      const head = handshake.subarray(0, at).toString('latin1');
      if (!/^HTTP\/1\.1 101/.test(head)) return fail(new Error(`WebSocket upgrade refused: ${head.split('\r\n')[0]}`));
      const protocol = /\r\nsec-websocket-protocol:\s*([^\r\n]+)/i.exec(head)?.[1]?.trim() ?? '';
      open = true;
      clearTimeout(timer);
      resolve({ protocol, send: (payload) => socket.write(frame(0x2, payload)), close: () => end() });
      const rest = handshake.subarray(at + 4);
      if (rest.length) parse(Buffer.from(rest));
    });
    socket.on('error', (error) => (open ? end() : fail(error)));
    socket.on('close', () => (open ? end() : fail(new Error('connection closed during the WebSocket upgrade'))));
    socket.on('connect', () => {
      const key = randomBytes(16).toString('base64');
      socket.write(
        `GET ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n${protocols.length ? `Sec-WebSocket-Protocol: ${protocols.join(', ')}\r\n` : ''}\r\n`,
      );
    });
  });
}

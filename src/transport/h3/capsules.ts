/**
 * Capsule protocol (RFC 9297 §3.2) carried in the DATA frames of a WebTransport CONNECT
 * stream: Type (i), Length (i), Value. We act on WT_CLOSE_SESSION and WT_DRAIN_SESSION
 * (draft-ietf-webtrans-http3 §6) and skip every other type unbuffered, as RFC 9297 requires
 * for unknown capsules.
 */
import { appendUnread } from './byte-cursor.ts';
import { Http3Error, H3ErrorCode } from './h3-errors.ts';
import { encodeParts } from '../../wire/byte-writer.ts';
import { readVarint } from '../../wire/varint.ts';

const CapsuleType = {
  Datagram: 0x00,
  CloseWebTransportSession: 0x2843,
  DrainWebTransportSession: 0x78ae,
} as const;

/** draft-ietf-webtrans-http3 §6: the close message is at most 1024 bytes of UTF-8. */
const MAX_CLOSE_REASON_BYTES = 1024;

export type Capsule =
  | { readonly type: 'close'; readonly code: number; readonly reason: string }
  | { readonly type: 'drain' }
  | { readonly type: 'unknown'; readonly capsuleType: number };

type Phase = { readonly name: 'header' } | { readonly name: 'value'; readonly type: number; readonly length: number } | { readonly name: 'skip'; remaining: number };

const utf8 = new TextDecoder('utf-8', { fatal: true });

export class CapsuleReader {
  #buffer: Uint8Array = new Uint8Array(0);
  #offset = 0;
  #phase: Phase = { name: 'header' };

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#buffer = appendUnread(this.#buffer, this.#offset, chunk);
    this.#offset = 0;
  }

  /** True between capsules (the CONNECT stream may end cleanly only here). */
  get atCapsuleBoundary(): boolean {
    return this.#phase.name === 'header' && this.#offset >= this.#buffer.byteLength;
  }

  /** The next capsule, or undefined until more bytes arrive. Throws Http3Error(H3_MESSAGE_ERROR). */
  next(): Capsule | undefined {
    for (;;) {
      const phase = this.#phase;
      const available = this.#buffer.byteLength - this.#offset;
      if (phase.name === 'header') {
        const type = readVarint(this.#buffer, this.#offset);
        if (!type) return undefined;
        const length = readVarint(this.#buffer, type.next);
        if (!length) return undefined;
        this.#offset = length.next;
        if (!Number.isSafeInteger(length.value)) throw new Http3Error(H3ErrorCode.MessageError, 'capsule length out of range');
        if (type.value === CapsuleType.CloseWebTransportSession) {
          if (length.value < 4 || length.value > 4 + MAX_CLOSE_REASON_BYTES) throw new Http3Error(H3ErrorCode.MessageError, 'bad WT_CLOSE_SESSION length');
          this.#phase = { name: 'value', type: type.value, length: length.value };
        } else if (type.value === CapsuleType.DrainWebTransportSession) {
          if (length.value !== 0) throw new Http3Error(H3ErrorCode.MessageError, 'WT_DRAIN_SESSION with a body');
          return { type: 'drain' };
        } else {
          this.#phase = { name: 'skip', remaining: length.value };
          return { type: 'unknown', capsuleType: type.value };
        }
        continue;
      }
      if (phase.name === 'skip') {
        const size = Math.min(available, phase.remaining);
        this.#offset += size;
        phase.remaining -= size;
        if (phase.remaining > 0) return undefined;
        this.#phase = { name: 'header' };
        continue;
      }
      if (available < phase.length) return undefined;
      const value = this.#buffer.subarray(this.#offset, this.#offset + phase.length);
      this.#offset += phase.length;
      this.#phase = { name: 'header' };
      const code = ((value[0]! << 24) | (value[1]! << 16) | (value[2]! << 8) | value[3]!) >>> 0;
      let reason: string;
      try {
        reason = utf8.decode(value.subarray(4));
      } catch {
        throw new Http3Error(H3ErrorCode.MessageError, 'WT_CLOSE_SESSION reason is not UTF-8');
      }
      return { type: 'close', code, reason };
    }
  }
}

/** Truncates to at most `maxBytes` of UTF-8 without splitting a character. */
function truncateUtf8(text: string, maxBytes: number): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  if (bytes.byteLength <= maxBytes) return bytes;
  let end = maxBytes;
  while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--; // back off continuation bytes
  return bytes.subarray(0, end);
}

export function encodeCloseCapsule(code: number, reason: string): Uint8Array {
  const message = truncateUtf8(reason, MAX_CLOSE_REASON_BYTES);
  const value = new Uint8Array(4 + message.byteLength);
  new DataView(value.buffer).setUint32(0, code >>> 0);
  value.set(message, 4);
  return encodeParts(CapsuleType.CloseWebTransportSession, value.byteLength, value);
}

export function encodeDrainCapsule(): Uint8Array {
  return encodeParts(CapsuleType.DrainWebTransportSession, 0);
}

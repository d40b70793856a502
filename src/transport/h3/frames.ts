/**
 * HTTP/3 frames (RFC 9114 §7): Type (i), Length (i), Payload. FrameReader parses a stream
 * incrementally: DATA payloads are passed through in pieces as they arrive, unknown frame
 * types are skipped without buffering (§9), and the other known frames are buffered whole
 * up to a size limit, so a hostile length never makes us allocate more than that limit.
 */
import { appendUnread } from './byte-cursor.ts';
import { Http3Error, H3ErrorCode } from './h3-errors.ts';
import { encodeParts } from '../../wire/byte-writer.ts';
import { readVarint } from '../../wire/varint.ts';

export const FrameType = {
  Data: 0x00,
  Headers: 0x01,
  CancelPush: 0x03,
  Settings: 0x04,
  PushPromise: 0x05,
  Goaway: 0x07,
  MaxPushId: 0x0d,
  /** draft-ietf-webtrans-http3 §4.2: only valid as the first bytes of a bidirectional stream. */
  WebTransportStream: 0x41,
  PriorityUpdateRequest: 0xf0700,
  PriorityUpdatePush: 0xf0701,
} as const;

/** RFC 9114 §7.2.8: HTTP/2 frame types that have no meaning in HTTP/3. */
const HTTP2_ONLY_TYPES: ReadonlySet<number> = new Set([0x02, 0x06, 0x08, 0x09]);

const BUFFERED_TYPES: ReadonlySet<number> = new Set([
  FrameType.Headers,
  FrameType.CancelPush,
  FrameType.Settings,
  FrameType.PushPromise,
  FrameType.Goaway,
  FrameType.MaxPushId,
  FrameType.PriorityUpdateRequest,
  FrameType.PriorityUpdatePush,
]);

export type FrameEvent =
  /** A complete frame of a known, non-DATA type. */
  | { readonly kind: 'frame'; readonly type: number; readonly payload: Uint8Array }
  /** The next piece of a DATA frame's payload (never empty). */
  | { readonly kind: 'data'; readonly chunk: Uint8Array }
  /** A frame of an unknown or reserved type started; its payload is skipped. */
  | { readonly kind: 'unknown'; readonly type: number };

type Phase =
  | { readonly name: 'header' }
  | { readonly name: 'data'; remaining: number }
  | { readonly name: 'skip'; remaining: number }
  | { readonly name: 'payload'; readonly type: number; readonly length: number };

const DEFAULT_MAX_FRAME_PAYLOAD = 64 * 1024;

export class FrameReader {
  #buffer: Uint8Array = new Uint8Array(0);
  #offset = 0;
  #phase: Phase = { name: 'header' };
  readonly #maxPayload: number;

  constructor(maxFramePayload = DEFAULT_MAX_FRAME_PAYLOAD) {
    this.#maxPayload = maxFramePayload;
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#buffer = appendUnread(this.#buffer, this.#offset, chunk);
    this.#offset = 0;
  }

  /** True between frames: the stream may legitimately end here (RFC 9114 §7.1). */
  get atFrameBoundary(): boolean {
    return this.#phase.name === 'header' && this.#offset >= this.#buffer.byteLength;
  }

  /** The next event, or undefined until more bytes are pushed. Throws Http3Error. */
  next(): FrameEvent | undefined {
    for (;;) {
      const available = this.#buffer.byteLength - this.#offset;
      const phase = this.#phase;
      switch (phase.name) {
        case 'header': {
          const type = readVarint(this.#buffer, this.#offset);
          if (!type) return undefined;
          const length = readVarint(this.#buffer, type.next);
          if (!length) return undefined;
          this.#offset = length.next;
          const event = this.#startFrame(type.value, length.value);
          if (event) return event;
          continue;
        }
        case 'data': {
          if (phase.remaining === 0) {
            this.#phase = { name: 'header' };
            continue;
          }
          if (available === 0) return undefined;
          const size = Math.min(available, phase.remaining);
          const chunk = this.#buffer.subarray(this.#offset, this.#offset + size);
          this.#offset += size;
          phase.remaining -= size;
          if (phase.remaining === 0) this.#phase = { name: 'header' };
          return { kind: 'data', chunk };
        }
        case 'skip': {
          const size = Math.min(available, phase.remaining);
          this.#offset += size;
          phase.remaining -= size;
          if (phase.remaining > 0) return undefined;
          this.#phase = { name: 'header' };
          continue;
        }
        case 'payload': {
          if (available < phase.length) return undefined;
          const payload = this.#buffer.subarray(this.#offset, this.#offset + phase.length);
          this.#offset += phase.length;
          this.#phase = { name: 'header' };
          return { kind: 'frame', type: phase.type, payload };
        }
      }
    }
  }

  #startFrame(type: number, length: number): FrameEvent | undefined {
    if (!Number.isSafeInteger(length)) throw new Http3Error(H3ErrorCode.FrameError, 'frame length out of range');
    if (type === FrameType.Data) {
      this.#phase = { name: 'data', remaining: length };
      return undefined;
    }
    if (type === FrameType.WebTransportStream) throw new Http3Error(H3ErrorCode.FrameError, 'WT_STREAM signal inside a frame sequence');
    if (HTTP2_ONLY_TYPES.has(type)) throw new Http3Error(H3ErrorCode.FrameUnexpected, `HTTP/2 frame type 0x${type.toString(16)}`);
    if (BUFFERED_TYPES.has(type)) {
      if (length > this.#maxPayload) throw new Http3Error(H3ErrorCode.ExcessiveLoad, `frame 0x${type.toString(16)} of ${length} bytes exceeds ${this.#maxPayload}`);
      this.#phase = { name: 'payload', type, length };
      return undefined;
    }
    this.#phase = { name: 'skip', remaining: length };
    return { kind: 'unknown', type };
  }
}

export function encodeFrame(type: number, payload: Uint8Array): Uint8Array {
  return encodeParts(type, payload.byteLength, payload);
}

/** Just the frame header, for a DATA frame whose payload is written separately. */
export function encodeFrameHeader(type: number, length: number): Uint8Array {
  return encodeParts(type, length);
}

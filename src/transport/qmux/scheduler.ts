/**
 * The send side of a QMux WebSocket session: control frames, datagrams and stream data, written
 * as WebSocket binary frames straight to the socket once per event-loop turn (and on 'drain'),
 * while the socket holds less than a small high-water mark. Order: control frames first, then
 * datagrams (dropped rather than queued under backpressure), then stream data by highest
 * sendOrder, round-robin among equal ones (W3C WebTransport `sendOrder`), within the peer's
 * flow control (MAX_DATA, MAX_STREAM_DATA) and its max_record_size (one frame per message).
 *
 * Each frame is [WebSocket header + QMux STREAM header, payload views] inside cork()/uncork():
 * the payload bytes are the writer's, shared by every session that sends them. `ws` writes its
 * own frames (pong, close) whole and synchronously (ws/lib/sender.js sendFrame, with
 * permessage-deflate off), so they can never land inside one of ours.
 */
import type { Duplex } from 'node:stream';
import type { WsFraming } from '../subprotocol.ts';
import { maxStreamPayload, streamHeaderLength, writeStreamHeader } from './frame.ts';
import type { QmuxSendStream } from './send-stream.ts';
import { wsHeaderLength, writeWsBinaryHeader } from './ws-frame.ts';

/** Bytes the socket may hold before we stop handing it stream data. */
const SOCKET_HIGH_WATER = 256 * 1024;
/** Datagrams are unreliable: a burst beyond this is dropped. */
const DATAGRAM_QUEUE_LIMIT = 256;

export interface SchedulerHost {
  readonly framing: WsFraming;
  /** False once the WebSocket is closing: nothing more may be written. */
  writable(): boolean;
  /** Largest message the peer accepts (max_record_size, or MAX_FRAME_SIZE). */
  frameBudget(): number;
  /** Connection-level credit left (peer MAX_DATA minus bytes sent). */
  connectionCredit(): number;
  /** `bytes` of stream data went out. */
  sentStreamData(bytes: number): void;
  /** The stream sent its FIN or was dropped: forget it. */
  streamDone(stream: QmuxSendStream): void;
  /** Something was written (keep-alive bookkeeping). */
  wrote(): void;
}

export class SendScheduler {
  #control: Uint8Array[] = [];
  #datagrams: Uint8Array[] = [];
  #streams = new Set<QmuxSendStream>();
  #scheduled = false;
  #serve = 0;
  readonly #parts: Uint8Array[] = [];

  constructor(
    private readonly socket: Duplex,
    private readonly host: SchedulerHost,
  ) {
    socket.on('drain', this.#onDrain);
  }

  detach(): void {
    this.socket.off('drain', this.#onDrain);
    this.#control = [];
    this.#datagrams = [];
    this.#streams.clear();
  }

  control(frame: Uint8Array): void {
    this.#control.push(frame);
    this.#schedule();
  }

  /** Best effort: dropped when the socket is backed up or the lane is full. */
  datagram(frame: Uint8Array): boolean {
    if (this.socket.writableLength >= SOCKET_HIGH_WATER || this.#datagrams.length >= DATAGRAM_QUEUE_LIMIT) return false;
    this.#datagrams.push(frame);
    this.#schedule();
    return true;
  }

  stream(stream: QmuxSendStream): void {
    this.#streams.add(stream);
    this.#schedule();
  }

  /** Stream credit or connection credit grew. */
  wake(): void {
    if (this.#streams.size > 0) this.#schedule();
  }

  forget(stream: QmuxSendStream): void {
    this.#streams.delete(stream);
  }

  /** Writes queued control frames now (before a close). */
  flushControl(): void {
    if (!this.host.writable()) return;
    this.socket.cork();
    this.#writeControl();
    this.socket.uncork();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#flush);
  }

  readonly #onDrain = (): void => {
    if (!this.#scheduled) this.#flush();
  };

  readonly #flush = (): void => {
    this.#scheduled = false;
    if (!this.host.writable()) return;
    const socket = this.socket;
    socket.cork();
    let progressed: Set<QmuxSendStream> | undefined;
    try {
      this.#writeControl();
      for (const frame of this.#datagrams) this.#writeMessage(frame);
      this.#datagrams = [];
      while (socket.writableLength < SOCKET_HIGH_WATER) {
        const stream = this.#next();
        if (!stream) break;
        this.#writeStreamFrame(stream);
        (progressed ??= new Set()).add(stream);
      }
    } finally {
      socket.uncork();
    }
    if (progressed) {
      this.host.wrote();
      for (const stream of progressed) stream.onProgress?.();
    }
  };

  #writeControl(): void {
    if (this.#control.length === 0) return;
    const control = this.#control;
    this.#control = [];
    for (const frame of control) this.#writeMessage(frame);
    this.host.wrote();
  }

  /** One pre-encoded frame as one message (header and frame copied together: they are small). */
  #writeMessage(frame: Uint8Array): void {
    const out = Buffer.allocUnsafe(wsHeaderLength(frame.byteLength) + frame.byteLength);
    out.set(frame, writeWsBinaryHeader(out, 0, frame.byteLength));
    this.socket.write(out);
  }

  /** The sendable stream with the highest send order, least recently served among equals. */
  #next(): QmuxSendStream | undefined {
    const connection = this.host.connectionCredit();
    let best: QmuxSendStream | undefined;
    for (const stream of this.#streams) {
      if (stream.done) {
        this.#streams.delete(stream);
        this.host.streamDone(stream);
        continue;
      }
      const hasData = stream.queuedBytes > 0 && connection > 0 && stream.maxData > stream.sentOffset;
      if (!hasData && !stream.finPending) {
        if (stream.queuedBytes === 0 && !stream.ended) this.#streams.delete(stream); // idle until its next write
        continue;
      }
      if (!best || stream.sendOrder > best.sendOrder || (stream.sendOrder === best.sendOrder && stream.lastServed < best.lastServed)) best = stream;
    }
    return best;
  }

  #writeStreamFrame(stream: QmuxSendStream): void {
    const framing = this.host.framing;
    const offset = stream.sentOffset;
    const budget = maxStreamPayload(framing, this.host.frameBudget(), stream.id, offset);
    const max = Math.min(budget, stream.queuedBytes, this.host.connectionCredit(), stream.maxData - offset);
    const parts = this.#parts;
    parts.length = 0;
    const { bytes, fin } = stream.take(Math.max(0, max), parts);
    const header = streamHeaderLength(framing, stream.id, offset, bytes);
    const message = header + bytes;
    const head = Buffer.allocUnsafe(wsHeaderLength(message) + header);
    writeStreamHeader(head, writeWsBinaryHeader(head, 0, message), framing, stream.id, offset, bytes, fin);
    const socket = this.socket;
    socket.write(head);
    for (const part of parts) socket.write(part);
    parts.length = 0;
    stream.lastServed = ++this.#serve;
    if (bytes > 0) this.host.sentStreamData(bytes);
    if (stream.done) {
      this.#streams.delete(stream);
      this.host.streamDone(stream);
    }
  }
}

/**
 * The shared WebTransport-shaped session (session-types.ts). The layer that owns the QUIC
 * connection (raw QUIC or HTTP/3) supplies a SessionCarrier and reports events through the
 * `mark*` / `deliver*` methods; everything the application sees is built here.
 */
import type { PushSendStream, PushStreamOpener } from '../push-stream.ts';
import { QuicPushStream } from './quic-push-stream.ts';
import type { QuicStream } from './quic-stream.ts';
import { createReceiveStream } from './receive-stream.ts';
import { QuicSendStream } from './send-stream.ts';
import { SessionDatagrams } from './session-datagrams.ts';
import type { SessionCarrier, SessionStats, WebTransportBidiStream, WebTransportSession } from './session-types.ts';
import { WebTransportError } from './webtransport-error.ts';

type SessionState = 'connecting' | 'connected' | 'closed' | 'failed';

/** Sweep ended streams out of the session's set once it grows past this. */
const STREAM_SWEEP_THRESHOLD = 256;

export class QuicWebTransportSession implements WebTransportSession, PushStreamOpener {
  readonly transportKind: 'webtransport' | 'quic';
  readonly ready: Promise<void>;
  readonly closed: Promise<WebTransportCloseInfo>;
  readonly draining: Promise<void>;
  readonly incomingBidirectionalStreams: ReadableStream<WebTransportBidiStream>;
  readonly incomingUnidirectionalStreams: ReadableStream<ReadableStream<Uint8Array>>;
  readonly datagrams: SessionDatagrams;

  readonly #carrier: SessionCarrier;
  readonly #streams = new Set<QuicStream>();
  #protocol = '';
  #state: SessionState = 'connecting';
  #bidiController!: ReadableStreamDefaultController<WebTransportBidiStream>;
  #uniController!: ReadableStreamDefaultController<ReadableStream<Uint8Array>>;
  #resolveReady!: () => void;
  #rejectReady!: (error: Error) => void;
  #resolveClosed!: (info: WebTransportCloseInfo) => void;
  #rejectClosed!: (error: Error) => void;
  #resolveDraining!: () => void;

  constructor(carrier: SessionCarrier, transportKind: 'webtransport' | 'quic') {
    this.#carrier = carrier;
    this.transportKind = transportKind;
    this.ready = new Promise((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    this.closed = new Promise((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    });
    this.draining = new Promise((resolve) => (this.#resolveDraining = resolve));
    // Like a browser, never turn an unobserved failure into an unhandled rejection.
    this.ready.catch(() => {});
    this.closed.catch(() => {});
    this.incomingBidirectionalStreams = new ReadableStream({ start: (c) => void (this.#bidiController = c) });
    this.incomingUnidirectionalStreams = new ReadableStream({ start: (c) => void (this.#uniController = c) });
    this.datagrams = new SessionDatagrams(carrier, this.ready);
  }

  get protocol(): string {
    return this.#protocol;
  }

  get state(): SessionState {
    return this.#state;
  }

  // ---- application API (W3C WebTransport) ----

  async createBidirectionalStream(options?: WebTransportSendStreamOptions): Promise<WebTransportBidiStream> {
    return this.#open(true, ({ stream, header }) => this.#bidiStream(stream, header, options?.sendOrder));
  }

  async createUnidirectionalStream(options?: WebTransportSendStreamOptions): Promise<QuicSendStream> {
    return this.#open(false, ({ stream, header }) => this.#sendStream(stream, header, options?.sendOrder));
  }

  /** A uni stream for the fan-out hot path: synchronous writes, no WHATWG stream (../push-stream.ts). */
  async openPushStream(sendOrder: number): Promise<PushSendStream> {
    return this.#open(
      false,
      ({ stream, header }) =>
        new QuicPushStream(stream, {
          prefix: header,
          sendOrder,
          fromWireCode: (code) => this.#carrier.fromWireCode(code),
          toWireCode: (code) => this.#carrier.toWireCode(code),
        }),
    );
  }

  async getStats(): Promise<SessionStats> {
    const stats = this.#carrier.stats();
    return {
      bytesSent: stats.bytesSent,
      bytesReceived: stats.bytesReceived,
      packetsSent: stats.packetsSent,
      packetsReceived: stats.packetsReceived,
      packetsLost: stats.packetsLost,
      smoothedRtt: stats.rttMs,
      estimatedSendRate: stats.deliveryRateBytesPerSecond > 0 ? stats.deliveryRateBytesPerSecond * 8 : null,
    };
  }

  drain(): void {
    if (this.#state === 'connected') this.#carrier.drain();
  }

  close(closeInfo: WebTransportCloseInfo = {}): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    const info = { closeCode: closeInfo.closeCode ?? 0, reason: closeInfo.reason ?? '' };
    if (this.#state === 'connecting') {
      this.#carrier.close(info.closeCode, info.reason);
      this.markFailed(new WebTransportError('session closed before it was established', { source: 'session' }));
      return;
    }
    this.#carrier.close(info.closeCode, info.reason);
    this.#end(info, undefined);
  }

  // ---- carrier-facing events ----

  markReady(protocol: string): void {
    if (this.#state !== 'connecting') return;
    this.#protocol = protocol;
    this.#state = 'connected';
    this.#resolveReady();
  }

  /** `fin`: the peer already ended the stream within the bytes read so far (`prefix`). */
  deliverStream(stream: QuicStream, prefix?: Uint8Array, fin = false): void {
    if (this.#state === 'closed' || this.#state === 'failed') {
      stream.terminate(new WebTransportError('session closed', { source: 'session' }), this.#carrier.sessionGoneCode);
      return;
    }
    this.#track(stream);
    if (stream.bidirectional) this.#bidiController.enqueue(this.#bidiStream(stream, undefined, undefined, prefix, fin));
    else this.#uniController.enqueue(this.#receiveStream(stream, prefix, fin));
  }

  deliverDatagram(payload: Uint8Array): void {
    if (this.#state === 'connected') this.datagrams.deliver(payload);
  }

  markDraining(): void {
    this.#resolveDraining();
  }

  /** Clean end decided by the peer (or by the carrier after our own close). */
  markClosed(info: WebTransportCloseInfo): void {
    if (this.#state === 'connecting') {
      this.markFailed(new WebTransportError(`session refused (${info.closeCode ?? 0}${info.reason ? `: ${info.reason}` : ''})`, { source: 'session' }));
      return;
    }
    this.#end({ closeCode: info.closeCode ?? 0, reason: info.reason ?? '' }, undefined);
  }

  /** Abrupt end: handshake failure, connection loss, protocol error. */
  markFailed(error: Error): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    const wasConnecting = this.#state === 'connecting';
    this.#end(undefined, error);
    if (wasConnecting) this.#rejectReady(error);
  }

  // ---- internals ----

  /** Opens a stream and wraps it in the same turn as the liveness check, so no close slips in between. */
  async #open<T>(bidirectional: boolean, wrap: (opened: { stream: QuicStream; header?: Uint8Array }) => T): Promise<T> {
    await this.ready;
    if (this.#state !== 'connected') throw new WebTransportError('session is closed', { source: 'session' });
    const opened = await this.#carrier.openStream(bidirectional);
    if (this.#state !== 'connected' || opened.stream.sendEnded) {
      opened.stream.terminate(new WebTransportError('session closed', { source: 'session' }), this.#carrier.sessionGoneCode);
      throw new WebTransportError('session is closed', { source: 'session' });
    }
    this.#track(opened.stream);
    return wrap(opened);
  }

  #bidiStream(
    stream: QuicStream,
    header: Uint8Array | undefined,
    sendOrder: number | null | undefined,
    prefix?: Uint8Array,
    fin = false,
  ): WebTransportBidiStream {
    // Both wrappers listen for termination; chain them so each side learns of it.
    const readable = this.#receiveStream(stream, prefix, fin);
    const onReceiveTerminated = stream.onTerminated;
    const writable = this.#sendStream(stream, header, sendOrder);
    const onSendTerminated = stream.onTerminated;
    stream.onTerminated = (error) => {
      onReceiveTerminated?.(error);
      onSendTerminated?.(error);
    };
    return { readable, writable };
  }

  #receiveStream(stream: QuicStream, prefix?: Uint8Array, fin = false): ReadableStream<Uint8Array> {
    return createReceiveStream(stream, {
      prefix,
      ended: fin,
      highWaterMark: this.#carrier.receiveHighWaterMark,
      fromWireCode: (code) => this.#carrier.fromWireCode(code),
      toWireCode: (code) => this.#carrier.toWireCode(code),
    });
  }

  #sendStream(stream: QuicStream, header: Uint8Array | undefined, sendOrder: number | null | undefined): QuicSendStream {
    return new QuicSendStream(stream, {
      prefix: header,
      sendOrder,
      fromWireCode: (code) => this.#carrier.fromWireCode(code),
      toWireCode: (code) => this.#carrier.toWireCode(code),
    });
  }

  #track(stream: QuicStream): void {
    if (this.#streams.size >= STREAM_SWEEP_THRESHOLD) {
      for (const known of this.#streams) if (known.receiveEnded && known.sendEnded) this.#streams.delete(known);
    }
    this.#streams.add(stream);
  }

  #end(info: WebTransportCloseInfo | undefined, error: Error | undefined): void {
    this.#state = info ? 'closed' : 'failed';
    const streamError = error ?? new WebTransportError('session closed', { source: 'session' });
    for (const stream of this.#streams) {
      if (!(stream.receiveEnded && stream.sendEnded)) stream.terminate(streamError, this.#carrier.sessionGoneCode);
    }
    this.#streams.clear();
    for (const controller of [this.#bidiController, this.#uniController] as ReadableStreamDefaultController<unknown>[]) {
      try {
        if (error) controller.error(error);
        else controller.close();
      } catch {
        // already closed by a cancelled reader
      }
    }
    this.datagrams.end(error);
    if (info) this.#resolveClosed(info);
    else this.#rejectClosed(streamError);
  }
}

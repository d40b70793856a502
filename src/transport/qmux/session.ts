/**
 * The server side of QMux over WebSocket (draft-lcurley-qmux-websocket; QMux drafts 00-02 as
 * @moq/qmux 0.3.3 speaks them) and of the older web-transport-ws framing, on a socket `ws` has
 * upgraded. `ws` keeps the handshake and parses the client's (masked) frames; we write our
 * frames to the socket ourselves (scheduler.ts). The session is WebTransport-shaped for the MoQ
 * layers and opens push streams (../push-stream.ts) for the fan-out path.
 *
 * Stream ids are QUIC's (RFC 9000 §2.1): bit 0 = server-initiated, bit 1 = unidirectional.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { ProtocolError } from '../../wire/errors.ts';
import type { PushSendStream, PushStreamOpener } from '../push-stream.ts';
import { WebTransportError } from '../quic/webtransport-error.ts';
import type { WsFraming } from '../subprotocol.ts';
import { type ControlFrame, decodeMessage, encodeControl, type Frame, isQmux, MAX_FRAME_SIZE, usesRecords } from './frame.ts';
import { IncomingQueue } from './incoming.ts';
import { DEFAULT_MAX_RECORD_SIZE, DEFAULT_PARAMETERS, type TransportParameters } from './params.ts';
import { QmuxRecvStream, type RecvStreamOwner, streamResetError } from './recv-stream.ts';
import { SendScheduler } from './scheduler.ts';
import { QmuxSendStream, type SendStreamOwner } from './send-stream.ts';
import { type QmuxWritable, writableFor } from './writable.ts';
import { varintLength } from '../../wire/varint.ts';

/** QUIC transport error codes (RFC 9000 §20.1) for CONNECTION_CLOSE. */
const FLOW_CONTROL_ERROR = 0x03;
const STREAM_LIMIT_ERROR = 0x04;
const STREAM_STATE_ERROR = 0x05;
const FRAME_ENCODING_ERROR = 0x07;
const TRANSPORT_PARAMETER_ERROR = 0x08;
const PROTOCOL_VIOLATION = 0x0a;

/** What we advertise: @moq/qmux's defaults, so clients see the same limits as before. */
const OUR_PARAMETERS: TransportParameters = {
  maxIdleTimeout: 30_000,
  initialMaxData: 1024 * 1024,
  initialMaxStreamDataBidiLocal: 256 * 1024,
  initialMaxStreamDataBidiRemote: 256 * 1024,
  initialMaxStreamDataUni: 256 * 1024,
  initialMaxStreamsBidi: 100,
  initialMaxStreamsUni: 100,
  maxDatagramFrameSize: DEFAULT_MAX_RECORD_SIZE,
  maxRecordSize: DEFAULT_MAX_RECORD_SIZE,
  resetStreamAt: false,
};

/** web-transport-ws has no flow control: past this many buffered bytes we stop reading the socket. */
const LEGACY_RECEIVE_BUFFER = 1024 * 1024;
/** ... nor stream limits: more live peer streams than this closes the session. */
const LEGACY_MAX_STREAMS = 1024;
const DATAGRAM_RECEIVE_QUEUE = 256;

class Violation extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export interface QmuxBidiStream {
  readable: ReadableStream<Uint8Array>;
  writable: QmuxWritable;
}

const isUni = (id: number): boolean => (id & 2) !== 0;
const isServerStream = (id: number): boolean => (id & 1) !== 0;
const indexOf = (id: number): number => Math.floor(id / 4);

/** Which peer-opened stream indexes are over (FIN, RESET, or cancelled and then ended). */
class PeerStreamIds {
  /** Streams 0..opened-1 have been opened (opening N opens every lower one, RFC 9000 §2.1). */
  opened = 0;
  readonly #unseen = new Set<number>();

  isOver(index: number, live: boolean): boolean {
    return !live && index < this.opened && !this.#unseen.has(index);
  }

  open(index: number): void {
    if (index < this.opened) {
      this.#unseen.delete(index);
      return;
    }
    for (let hole = this.opened; hole < index; hole++) this.#unseen.add(hole);
    this.opened = index + 1;
  }
}

/** New limit to advertise once the peer used half of `window` (@moq/qmux credit.js replenishWindow). */
function replenish(consumed: number, current: number, window: number): number | undefined {
  return current - consumed <= window / 2 ? consumed + window : undefined;
}

export class QmuxServerSession implements PushStreamOpener, SendStreamOwner, RecvStreamOwner {
  readonly ready: Promise<void> = Promise.resolve();
  readonly closed: Promise<WebTransportCloseInfo>;
  readonly incomingBidirectionalStreams: ReadableStream<QmuxBidiStream>;
  readonly incomingUnidirectionalStreams: ReadableStream<ReadableStream<Uint8Array>>;
  readonly datagrams: WebTransportDatagramDuplexStream;
  readonly framing: WsFraming;

  readonly #ws: WebSocket;
  readonly #socket: Duplex;
  readonly #scheduler: SendScheduler;
  readonly #qmux: boolean;
  readonly #ours: TransportParameters;
  #peer: TransportParameters = DEFAULT_PARAMETERS;
  #peerParamsReceived = false;
  #closeError: Error | undefined;
  #resolveClosed!: (info: WebTransportCloseInfo) => void;
  #rejectClosed!: (error: Error) => void;

  // Send side: the peer's limits.
  #connSent = 0;
  #connMax: number;
  #streamsMax = { bidi: 0, uni: 0 };
  #opened = { bidi: 0, uni: 0 };
  #openWaiters: Array<{ uni: boolean; resolve: () => void; reject: (error: Error) => void }> = [];
  readonly #sendStreams = new Map<number, QmuxSendStream>();

  // Receive side: our limits.
  #connReceived = 0;
  #connConsumed = 0;
  #connAdvertised: number;
  readonly #recvStreams = new Map<number, QmuxRecvStream>();
  readonly #peerIds = { bidi: new PeerStreamIds(), uni: new PeerStreamIds() };
  readonly #peerStreamsDone = { bidi: 0, uni: 0 };
  #streamsAdvertised: { bidi: number; uni: number };
  readonly #incomingBidi = new IncomingQueue<QmuxBidiStream>();
  readonly #incomingUni = new IncomingQueue<ReadableStream<Uint8Array>>();
  readonly #incomingDatagrams = new IncomingQueue<Uint8Array>(DATAGRAM_RECEIVE_QUEUE);
  #legacyBuffered = 0;
  #paused = false;

  // Keep-alive (qmux-01+: QX_PING and max_idle_timeout).
  #lastReceived = Date.now();
  #lastSent = Date.now();
  #nextPing = 0;
  #lastPingReceived = -1;
  #idleTimer: NodeJS.Timeout | undefined;

  /** `protocol`: the MoQ protocol the subprotocol named ('' for a bare framing). */
  constructor(ws: WebSocket, socket: Duplex, framing: WsFraming, readonly protocol = '') {
    this.#ws = ws;
    this.#socket = socket;
    this.framing = framing;
    this.#qmux = isQmux(framing);
    this.#ours = {
      ...OUR_PARAMETERS,
      // Datagrams need records (qmux-01+); RESET_STREAM_AT is a draft-02 extension.
      maxDatagramFrameSize: usesRecords(framing) ? OUR_PARAMETERS.maxDatagramFrameSize : 0,
      resetStreamAt: framing === 'qmux-02',
    };
    const unlimited = Number.MAX_SAFE_INTEGER;
    // QMux: nothing may be sent before the peer's parameters; web-transport-ws has no limits.
    this.#connMax = this.#qmux ? 0 : unlimited;
    if (!this.#qmux) this.#streamsMax = { bidi: unlimited, uni: unlimited };
    this.#connAdvertised = this.#ours.initialMaxData;
    this.#streamsAdvertised = { bidi: this.#ours.initialMaxStreamsBidi, uni: this.#ours.initialMaxStreamsUni };
    this.closed = new Promise<WebTransportCloseInfo>((resolve, reject) => {
      this.#resolveClosed = resolve;
      this.#rejectClosed = reject;
    });
    this.closed.catch(() => undefined);
    this.incomingBidirectionalStreams = this.#incomingBidi.readable;
    this.incomingUnidirectionalStreams = this.#incomingUni.readable;
    this.datagrams = this.#datagramDuplex();

    this.#scheduler = new SendScheduler(socket, {
      framing,
      writable: () => ws.readyState === ws.OPEN && !this.#closeError,
      frameBudget: () => (usesRecords(framing) ? this.#peer.maxRecordSize : MAX_FRAME_SIZE),
      connectionCredit: () => this.#connMax - this.#connSent,
      sentStreamData: (bytes) => {
        this.#connSent += bytes;
      },
      streamDone: (stream) => {
        if (this.#sendStreams.get(stream.id) === stream) this.#sendStreams.delete(stream.id);
      },
      wrote: () => {
        this.#lastSent = Date.now();
      },
    });
    if (this.#qmux) this.#control({ type: 'transport_parameters', params: this.#ours });

    ws.on('message', (data: Buffer, isBinary: boolean) => this.#onMessage(data, isBinary));
    ws.on('ping', () => {
      this.#lastReceived = Date.now();
    });
    ws.on('close', (code: number, reason: Buffer) => {
      this.#end(new WebTransportError(`WebSocket closed: ${code} ${reason.toString()}`.trim(), { source: 'session' }));
    });
  }

  // --- WebTransport API --------------------------------------------------------------------

  async openPushStream(sendOrder: number): Promise<PushSendStream> {
    return this.#openSend(true, sendOrder);
  }

  async createUnidirectionalStream(options?: { sendOrder?: number | null }): Promise<QmuxWritable> {
    const stream = await this.#openSend(true, options?.sendOrder ?? 0);
    return writableFor(stream, () => this.#gone());
  }

  async createBidirectionalStream(options?: { sendOrder?: number | null }): Promise<QmuxBidiStream> {
    const send = await this.#openSend(false, options?.sendOrder ?? 0);
    const recv = new QmuxRecvStream(send.id, this.#ours.initialMaxStreamDataBidiLocal, this);
    this.#recvStreams.set(send.id, recv);
    return { readable: recv.readable, writable: writableFor(send, () => this.#gone()) };
  }

  close(info: { closeCode?: number; reason?: string } = {}): void {
    if (this.#closeError) return;
    const closeCode = info.closeCode ?? 0;
    const reason = info.reason ?? '';
    this.#control({ type: 'close', application: true, code: closeCode, reason });
    this.#scheduler.flushControl();
    this.#end(new WebTransportError(`session closed: ${closeCode} ${reason}`.trim(), { source: 'session' }), { closeCode, reason });
  }

  // --- push-stream owner -------------------------------------------------------------------

  schedule(stream: QmuxSendStream): void {
    if (!this.#closeError) this.#scheduler.stream(stream);
  }

  reset(stream: QmuxSendStream, code: number): void {
    this.#scheduler.forget(stream);
    this.#sendStreams.delete(stream.id);
    this.#control({ type: 'reset_stream', id: stream.id, code, finalSize: stream.sentOffset });
  }

  // --- receive-stream owner ----------------------------------------------------------------

  consumed(stream: QmuxRecvStream, bytes: number): void {
    if (!this.#qmux) return this.#legacyConsumed(bytes);
    if (this.#recvStreams.get(stream.id) === stream) {
      const max = replenish(stream.consumed, stream.maxData, this.#streamWindow(stream.id));
      if (max !== undefined) {
        stream.maxData = max;
        this.#control({ type: 'max_stream_data', id: stream.id, max });
      }
    }
    this.#connectionConsumed(bytes);
  }

  cancelled(stream: QmuxRecvStream, code: number, discarded: number): void {
    if (this.#closeError) return;
    if (this.#qmux) this.#connectionConsumed(discarded);
    else this.#legacyConsumed(discarded);
    this.#control({ type: 'stop_sending', id: stream.id, code });
    this.#peerStreamOver(stream.id);
  }

  // --- internals ---------------------------------------------------------------------------

  #gone(): Error {
    return this.#closeError ?? new WebTransportError('session closed', { source: 'session' });
  }

  #control(frame: ControlFrame): void {
    if (this.#closeError) return;
    this.#scheduler.control(encodeControl(this.framing, frame));
  }

  async #openSend(uni: boolean, sendOrder: number): Promise<QmuxSendStream> {
    const kind = uni ? 'uni' : 'bidi';
    while (this.#opened[kind] >= this.#streamsMax[kind]) {
      if (this.#closeError) throw this.#closeError;
      await new Promise<void>((resolve, reject) => this.#openWaiters.push({ uni, resolve, reject }));
    }
    if (this.#closeError) throw this.#closeError;
    const id = this.#opened[kind]++ * 4 + (uni ? 3 : 1);
    const credit = this.#qmux ? (uni ? this.#peer.initialMaxStreamDataUni : this.#peer.initialMaxStreamDataBidiRemote) : Number.MAX_SAFE_INTEGER;
    const stream = new QmuxSendStream(id, sendOrder, credit, this);
    this.#sendStreams.set(id, stream);
    return stream;
  }

  #wakeOpeners(): void {
    const waiters = this.#openWaiters;
    this.#openWaiters = [];
    for (const waiter of waiters) waiter.resolve();
  }

  #streamWindow(id: number): number {
    if (isUni(id)) return this.#ours.initialMaxStreamDataUni;
    return isServerStream(id) ? this.#ours.initialMaxStreamDataBidiLocal : this.#ours.initialMaxStreamDataBidiRemote;
  }

  #connectionConsumed(bytes: number): void {
    if (bytes === 0 || this.#closeError) return;
    this.#connConsumed += bytes;
    const max = replenish(this.#connConsumed, this.#connAdvertised, this.#ours.initialMaxData);
    if (max !== undefined) {
      this.#connAdvertised = max;
      this.#control({ type: 'max_data', max });
    }
  }

  #legacyConsumed(bytes: number): void {
    this.#legacyBuffered -= bytes;
    if (this.#paused && this.#legacyBuffered < LEGACY_RECEIVE_BUFFER / 2) {
      this.#paused = false;
      this.#ws.resume();
    }
  }

  #onMessage(data: Buffer, isBinary: boolean): void {
    if (this.#closeError) return;
    this.#lastReceived = Date.now();
    try {
      if (!isBinary) throw new Violation(PROTOCOL_VIOLATION, 'text messages are not valid for QMux');
      // qmux-01+: a message is a record, bounded by our max_record_size; draft-00: a frame,
      // bounded by max_frame_size. web-transport-ws negotiates nothing (ws maxPayload bounds it).
      if (usesRecords(this.framing) && data.byteLength > this.#ours.maxRecordSize) {
        throw new Violation(PROTOCOL_VIOLATION, `record of ${data.byteLength} bytes exceeds max_record_size ${this.#ours.maxRecordSize}`);
      }
      if (this.framing === 'qmux-00' && data.byteLength > MAX_FRAME_SIZE) {
        throw new Violation(PROTOCOL_VIOLATION, `frame of ${data.byteLength} bytes exceeds max_frame_size ${MAX_FRAME_SIZE}`);
      }
      for (const frame of decodeMessage(this.framing, data)) {
        if (this.#closeError) return;
        this.#onFrame(frame);
      }
    } catch (error) {
      if (error instanceof Violation) return this.#fail(error.code, error.message);
      if (error instanceof ProtocolError) return this.#fail(FRAME_ENCODING_ERROR, error.message);
      this.#fail(PROTOCOL_VIOLATION, `internal error: ${(error as Error).message}`);
    }
  }

  #onFrame(frame: Frame): void {
    // draft-02: QX_TRANSPORT_PARAMETERS is the first frame, and only the first.
    if (this.framing === 'qmux-02' && (frame.type === 'transport_parameters') === this.#peerParamsReceived) {
      throw new Violation(PROTOCOL_VIOLATION, 'QX_TRANSPORT_PARAMETERS must be the first frame, once');
    }
    switch (frame.type) {
      case 'stream':
        return this.#onStream(frame.id, frame.offset, frame.data, frame.fin);
      case 'reset_stream':
        return this.#onReset(frame.id, frame.code, frame.finalSize, frame.reliableSize);
      case 'stop_sending': {
        const stream = this.#sendStreams.get(frame.id);
        if (!stream) return;
        // RFC 9000 §3.5: answer STOP_SENDING with RESET_STREAM.
        this.#scheduler.forget(stream);
        this.#sendStreams.delete(frame.id);
        this.#control({ type: 'reset_stream', id: frame.id, code: frame.code, finalSize: stream.sentOffset });
        stream.stop(frame.code);
        return;
      }
      case 'close': {
        const error = new WebTransportError(`peer closed the session: ${frame.code} ${frame.reason}`.trim(), { source: 'session' });
        // APPLICATION_CLOSE is a graceful end; CONNECTION_CLOSE reports an error (@moq/qmux).
        return this.#end(error, frame.application ? { closeCode: frame.code, reason: frame.reason } : undefined);
      }
      case 'max_data':
        if (frame.max > this.#connMax) {
          this.#connMax = frame.max;
          this.#scheduler.wake();
        }
        return;
      case 'max_stream_data': {
        const stream = this.#sendStreams.get(frame.id);
        if (stream && frame.max > stream.maxData) {
          stream.maxData = frame.max;
          this.#scheduler.wake();
        }
        return;
      }
      case 'max_streams': {
        const kind = frame.bidi ? 'bidi' : 'uni';
        if (frame.max > this.#streamsMax[kind]) {
          this.#streamsMax[kind] = frame.max;
          this.#wakeOpeners();
        }
        return;
      }
      case 'blocked':
        return;
      case 'transport_parameters':
        return this.#onParameters(frame.params);
      case 'ping':
        return this.#onPing(frame.response, frame.sequence);
      case 'datagram':
        return this.#onDatagram(frame.data, frame.lengthPrefixed);
    }
  }

  #onParameters(params: TransportParameters): void {
    if (this.#peerParamsReceived) return;
    if (usesRecords(this.framing) && params.maxRecordSize < DEFAULT_MAX_RECORD_SIZE) {
      throw new Violation(TRANSPORT_PARAMETER_ERROR, `max_record_size ${params.maxRecordSize} is below ${DEFAULT_MAX_RECORD_SIZE}`);
    }
    this.#peerParamsReceived = true;
    this.#peer = params;
    this.#connMax = Math.max(this.#connMax, params.initialMaxData);
    this.#streamsMax = { bidi: Math.max(this.#streamsMax.bidi, params.initialMaxStreamsBidi), uni: Math.max(this.#streamsMax.uni, params.initialMaxStreamsUni) };
    // Streams the peer opened before its parameters (drafts 00/01 allow it) get their credit now.
    for (const stream of this.#sendStreams.values()) {
      const initial = isUni(stream.id) ? params.initialMaxStreamDataUni : isServerStream(stream.id) ? params.initialMaxStreamDataBidiRemote : params.initialMaxStreamDataBidiLocal;
      stream.maxData = Math.max(stream.maxData, initial);
    }
    this.#wakeOpeners();
    this.#scheduler.wake();
    this.#startIdleTimer();
  }

  #onStream(id: number, offset: number | undefined, data: Uint8Array, fin: boolean): void {
    const uni = isUni(id);
    if (uni && isServerStream(id)) throw new Violation(STREAM_STATE_ERROR, `STREAM on our unidirectional stream ${id}`);
    let recv = this.#recvStreams.get(id);
    if (!recv) {
      if (this.#streamOver(id)) return this.#discard(data.byteLength);
      recv = this.#acceptPeerStream(id);
    }
    if (offset !== undefined && offset !== recv.received) throw new Violation(PROTOCOL_VIOLATION, `stream ${id} data at offset ${offset}, expected ${recv.received}`);
    this.#receive(recv, data.byteLength);
    if (!recv.push(data)) {
      if (this.#qmux) this.#connectionConsumed(data.byteLength);
    } else if (!this.#qmux) {
      this.#legacyBuffered += data.byteLength;
      if (!this.#paused && this.#legacyBuffered > LEGACY_RECEIVE_BUFFER) {
        this.#paused = true;
        this.#ws.pause();
      }
    }
    if (fin) {
      recv.finish();
      this.#recvStreams.delete(id);
      this.#peerStreamOver(id);
    }
  }

  /** A frame for a stream that is not live: already over (ignore it), or not ours to use. */
  #streamOver(id: number): boolean {
    if (isServerStream(id)) {
      if (indexOf(id) >= this.#opened.bidi) throw new Violation(STREAM_STATE_ERROR, `STREAM on bidirectional stream ${id} we never opened`);
      return true;
    }
    return this.#peerIds[isUni(id) ? 'uni' : 'bidi'].isOver(indexOf(id), false);
  }

  /** Bytes for a stream that is over still count against (and free) connection credit. */
  #discard(bytes: number): void {
    if (!this.#qmux || bytes === 0) return;
    if (this.#connReceived + bytes > this.#connAdvertised) throw new Violation(FLOW_CONTROL_ERROR, 'connection flow control exceeded');
    this.#connReceived += bytes;
    this.#connectionConsumed(bytes);
  }

  #receive(recv: QmuxRecvStream, bytes: number): void {
    if (this.#qmux) {
      if (recv.received + bytes > recv.maxData) throw new Violation(FLOW_CONTROL_ERROR, `stream ${recv.id} flow control exceeded`);
      if (this.#connReceived + bytes > this.#connAdvertised) throw new Violation(FLOW_CONTROL_ERROR, 'connection flow control exceeded');
      this.#connReceived += bytes;
    }
    recv.received += bytes;
  }

  #acceptPeerStream(id: number): QmuxRecvStream {
    const uni = isUni(id);
    const kind = uni ? 'uni' : 'bidi';
    const index = indexOf(id);
    if (this.#qmux && index >= this.#streamsAdvertised[kind]) throw new Violation(STREAM_LIMIT_ERROR, `peer opened ${kind} stream ${index} beyond the limit ${this.#streamsAdvertised[kind]}`);
    // web-transport-ws has no MAX_STREAMS: bound live streams, and how far ahead an id may jump
    // (every id skipped is remembered as not yet opened).
    if (!this.#qmux && (this.#recvStreams.size >= LEGACY_MAX_STREAMS || index >= this.#peerIds[kind].opened + LEGACY_MAX_STREAMS)) {
      throw new Violation(STREAM_LIMIT_ERROR, `more than ${LEGACY_MAX_STREAMS} live streams`);
    }
    this.#peerIds[kind].open(index);
    const recv = new QmuxRecvStream(id, this.#streamWindow(id), this);
    this.#recvStreams.set(id, recv);
    const accepted = (): void => {
      acceptedFlag = true;
      if (overFlag) this.#creditPeerStream(kind);
    };
    let acceptedFlag = false;
    let overFlag = false;
    this.#peerStreamEnd.set(id, () => {
      overFlag = true;
      if (acceptedFlag) this.#creditPeerStream(kind);
    });
    if (uni) {
      this.#incomingUni.push(recv.readable, accepted);
    } else {
      const credit = this.#qmux ? this.#peer.initialMaxStreamDataBidiLocal : Number.MAX_SAFE_INTEGER;
      const send = new QmuxSendStream(id, 0, credit, this);
      this.#sendStreams.set(id, send);
      this.#incomingBidi.push({ readable: recv.readable, writable: writableFor(send, () => this.#gone()) }, accepted);
    }
    return recv;
  }

  /** Per peer stream: called once when its receive half is over (FIN, RESET or cancel). */
  readonly #peerStreamEnd = new Map<number, () => void>();

  #peerStreamOver(id: number): void {
    const end = this.#peerStreamEnd.get(id);
    if (!end) return;
    this.#peerStreamEnd.delete(id);
    end();
  }

  /** An accepted peer stream is over: MAX_STREAMS once half the window is used. */
  #creditPeerStream(kind: 'bidi' | 'uni'): void {
    if (!this.#qmux || this.#closeError) return;
    const done = ++this.#peerStreamsDone[kind];
    const window = kind === 'bidi' ? this.#ours.initialMaxStreamsBidi : this.#ours.initialMaxStreamsUni;
    const max = replenish(done, this.#streamsAdvertised[kind], window);
    if (max !== undefined) {
      this.#streamsAdvertised[kind] = max;
      this.#control({ type: 'max_streams', bidi: kind === 'bidi', max });
    }
  }

  #onReset(id: number, code: number, finalSize: number, reliableSize: number | undefined): void {
    if (reliableSize !== undefined && !this.#ours.resetStreamAt) throw new Violation(PROTOCOL_VIOLATION, 'RESET_STREAM_AT without reset_stream_at');
    if (isUni(id) && isServerStream(id)) throw new Violation(STREAM_STATE_ERROR, `RESET_STREAM on our unidirectional stream ${id}`);
    let recv = this.#recvStreams.get(id);
    if (!recv) {
      if (this.#streamOver(id)) return;
      // A stream opened only to be reset.
      recv = this.#acceptPeerStream(id);
    }
    // Drafts up to 02 let senders put 0 as the final size (@moq/qmux accepts it): the unseen
    // tail, if any, counts as received and at once consumed, like the buffered bytes dropped.
    const gap = Math.max(0, finalSize - recv.received);
    this.#receive(recv, gap);
    const discarded = recv.fail(streamResetError(code, 'RESET_STREAM'));
    if (this.#qmux) this.#connectionConsumed(gap + discarded);
    else this.#legacyConsumed(discarded);
    this.#recvStreams.delete(id);
    this.#peerStreamOver(id);
  }

  #onPing(response: boolean, sequence: number): void {
    if (!response) {
      if (this.framing === 'qmux-02') {
        if (sequence <= this.#lastPingReceived) throw new Violation(PROTOCOL_VIOLATION, 'QX_PING sequence must increase');
        this.#lastPingReceived = sequence;
      }
      return this.#control({ type: 'ping', response: true, sequence });
    }
    if (this.framing === 'qmux-02' && sequence >= this.#nextPing) throw new Violation(PROTOCOL_VIOLATION, 'QX_PING response to a request never sent');
  }

  #onDatagram(data: Uint8Array, lengthPrefixed: boolean): void {
    const max = this.#ours.maxDatagramFrameSize;
    if (max === 0) throw new Violation(PROTOCOL_VIOLATION, 'DATAGRAM without max_datagram_frame_size');
    const size = data.byteLength + 1 + (lengthPrefixed ? varintLength(data.byteLength) : 0);
    if (size > max) throw new Violation(PROTOCOL_VIOLATION, `DATAGRAM frame of ${size} bytes exceeds ${max}`);
    this.#incomingDatagrams.push(data);
  }

  #datagramDuplex(): WebTransportDatagramDuplexStream {
    const session = this;
    const writable = new WritableStream<Uint8Array>({
      write: (chunk) => {
        session.#sendDatagram(chunk);
      },
    });
    return {
      readable: this.#incomingDatagrams.readable,
      writable,
      get maxDatagramSize() {
        return session.#maxDatagramPayload();
      },
      incomingHighWaterMark: DATAGRAM_RECEIVE_QUEUE,
      incomingMaxAge: null,
      outgoingHighWaterMark: 1,
      outgoingMaxAge: null,
    } as unknown as WebTransportDatagramDuplexStream;
  }

  /** The peer's datagram limit, within one record, minus our 0x31 frame's header. */
  #maxDatagramPayload(): number {
    if (!usesRecords(this.framing) || this.#peer.maxDatagramFrameSize === 0) return 0;
    const cap = Math.min(this.#peer.maxRecordSize, this.#peer.maxDatagramFrameSize);
    return Math.max(0, cap - 1 - varintLength(cap));
  }

  #sendDatagram(data: Uint8Array): void {
    // Unreliable: too large, unsupported or backed up means dropped (W3C WebTransport).
    if (this.#closeError || data.byteLength > this.#maxDatagramPayload()) return;
    this.#scheduler.datagram(encodeControl(this.framing, { type: 'datagram', data }));
  }

  #startIdleTimer(): void {
    if (!usesRecords(this.framing) || this.#idleTimer) return;
    const ours = this.#ours.maxIdleTimeout;
    const theirs = this.#peer.maxIdleTimeout;
    // RFC 9000 §10.1: the smaller of the non-zero values.
    const timeout = theirs === 0 ? ours : Math.min(ours, theirs);
    if (timeout === 0) return;
    this.#idleTimer = setInterval(() => {
      const now = Date.now();
      if (now - this.#lastReceived > timeout) return this.#fail(PROTOCOL_VIOLATION, 'idle timeout');
      if (now - this.#lastSent > timeout / 3) this.#control({ type: 'ping', response: false, sequence: this.#nextPing++ });
    }, Math.max(50, timeout / 6));
    this.#idleTimer.unref();
  }

  /** A protocol violation: CONNECTION_CLOSE, then the WebSocket closes; only this session ends. */
  #fail(code: number, reason: string): void {
    if (this.#closeError) return;
    this.#control({ type: 'close', application: false, code, reason });
    this.#scheduler.flushControl();
    this.#ws.close(1002);
    this.#end(new WebTransportError(`QMux protocol violation: ${reason}`, { source: 'session' }));
  }

  /** Terminal: `info` = a graceful close (`closed` fulfills), otherwise `closed` rejects. */
  #end(error: Error, info?: WebTransportCloseInfo): void {
    if (this.#closeError) return;
    this.#closeError = error;
    if (this.#idleTimer) clearInterval(this.#idleTimer);
    this.#scheduler.detach();
    if (this.#ws.readyState === this.#ws.OPEN) this.#ws.close();
    // RFC 6455 §7.1.1: the server should close the TCP connection first. ws would keep it open
    // 30 s waiting for the peer's close frame (a peer that timed out its handshake may never
    // send one): end our side after the close frames, and ws destroys the socket after its
    // closeTimeout (websocket.ts) if the peer does not end its side.
    this.#socket.end();
    if (this.#paused) this.#ws.resume();
    for (const stream of this.#sendStreams.values()) stream.stop(undefined);
    this.#sendStreams.clear();
    for (const recv of this.#recvStreams.values()) recv.fail(error);
    this.#recvStreams.clear();
    this.#peerStreamEnd.clear();
    this.#incomingBidi.close(error);
    this.#incomingUni.close(error);
    this.#incomingDatagrams.close();
    const waiters = this.#openWaiters;
    this.#openWaiters = [];
    for (const waiter of waiters) waiter.reject(error);
    if (info) this.#resolveClosed(info);
    else this.#rejectClosed(error);
  }
}

/**
 * HTTP/3 on one QUIC connection (RFC 9114), reduced to what WebTransport needs: control
 * streams with SETTINGS (§6.2.1, §7.2.4), QPACK without a dynamic table (RFC 9204), request
 * streams (server), and the routing of WebTransport streams and datagrams to their session
 * (draft-ietf-webtrans-http3 §4). Errors on a request or CONNECT stream reset that stream and
 * end only that request or session; errors on the control streams close the connection.
 */
import type { ConnectionStats, QuicConnection, QuicConnectionHandler } from '../quic/quic-connection.ts';
import type { ConnectionCloseInfo } from '../quic/quic-errors.ts';
import type { QuicStream } from '../quic/quic-stream.ts';
import { WebTransportError } from '../quic/webtransport-error.ts';
import { FrameReader, FrameType, encodeFrame } from './frames.ts';
import { Http3Error, H3ErrorCode } from './h3-errors.ts';
import { SettingId, decodeSettings, encodeSettings } from './settings.ts';
import { PreambleBuffer, StreamWriter, consumeStream } from './stream-io.ts';
import { encodeParts } from '../../wire/byte-writer.ts';
import { readVarint } from '../../wire/varint.ts';
import { WebTransportErrorCode, WebTransportStreamType } from './webtransport-codes.ts';
import { WebTransportLink, type LinkHost } from './webtransport-link.ts';

/** RFC 9114 §6.2 and RFC 9204 §4.2 unidirectional stream types. */
const UniStreamType = { Control: 0x00, Push: 0x01, QpackEncoder: 0x02, QpackDecoder: 0x03 } as const;

/** Streams that arrive before their session is established are held, up to this many. */
const MAX_BUFFERED_STREAMS = 64;

/** The SETTINGS both roles send: static-table-only QPACK, extended CONNECT, datagrams, WebTransport. */
export const LOCAL_SETTINGS: ReadonlyMap<number, number> = new Map([
  [SettingId.QpackMaxTableCapacity, 0],
  [SettingId.QpackBlockedStreams, 0],
  [SettingId.EnableConnectProtocol, 1],
  [SettingId.H3Datagram, 1],
  [SettingId.EnableWebTransportDraft02, 1],
]);

interface BufferedStream {
  readonly stream: QuicStream;
  readonly rest: Uint8Array;
  readonly fin: boolean;
}

export interface Http3ConnectionOptions {
  /** Handles a request stream opened by the client (server role only). */
  readonly onRequestStream?: (http3: Http3Connection, stream: QuicStream, preamble: Uint8Array, fin: boolean) => void;
  /** Runs when a session ends and when the last one has ended. */
  readonly onSessionEnded?: (http3: Http3Connection, link: WebTransportLink) => void;
}

export class Http3Connection implements QuicConnectionHandler, LinkHost {
  readonly quic: QuicConnection;
  readonly #options: Http3ConnectionOptions;
  readonly #links = new Map<number, WebTransportLink>();
  readonly #endedSessions = new Set<number>();
  readonly #buffered = new Map<number, BufferedStream[]>();
  #bufferedCount = 0;
  #peerControlSeen = false;
  #peerSettings: Map<number, number> | undefined;
  readonly #settingsWaiters: Array<(settings: Map<number, number> | undefined) => void> = [];
  #closed = false;

  constructor(quic: QuicConnection, options: Http3ConnectionOptions = {}) {
    this.quic = quic;
    this.#options = options;
    quic.handler = this;
    this.#openControlStream();
  }

  get sessionCount(): number {
    return this.#links.size;
  }

  get peerSettings(): ReadonlyMap<number, number> | undefined {
    return this.#peerSettings;
  }

  /** Resolves with the peer's SETTINGS (undefined if the connection closed first). */
  whenPeerSettings(): Promise<Map<number, number> | undefined> {
    if (this.#peerSettings || this.#closed) return Promise.resolve(this.#peerSettings);
    return new Promise((resolve) => this.#settingsWaiters.push(resolve));
  }

  /** Registers a session on its CONNECT stream; it becomes visible once `sessionReady`. */
  createLink(connectStream: QuicStream, writer: StreamWriter): WebTransportLink {
    const link = new WebTransportLink(this, connectStream, writer);
    this.#links.set(link.sessionId, link);
    return link;
  }

  /** The session is established: hand it the streams that raced ahead of it. */
  sessionReady(link: WebTransportLink): void {
    const waiting = this.#buffered.get(link.sessionId);
    if (!waiting) return;
    this.#buffered.delete(link.sessionId);
    this.#bufferedCount -= waiting.length;
    for (const { stream, rest, fin } of waiting) link.session.deliverStream(stream, rest, fin);
  }

  /** Closes the whole connection with an HTTP/3 error (RFC 9114 §8). */
  connectionError(code: number, message: string): void {
    this.quic.close(true, code, message);
  }

  // ---- LinkHost ----

  openStream(bidirectional: boolean): Promise<QuicStream> {
    return this.quic.openStreamWhenAllowed(bidirectional);
  }

  sendDatagram(payload: Uint8Array): boolean {
    return this.quic.sendDatagram(payload);
  }

  get maxDatagramPayload(): number {
    return this.quic.maxDatagramPayload;
  }

  stats(): ConnectionStats {
    return this.quic.stats();
  }

  sessionEnded(link: WebTransportLink): void {
    if (this.#links.get(link.sessionId) !== link) return;
    this.#links.delete(link.sessionId);
    this.#endedSessions.add(link.sessionId);
    this.#rejectBuffered(link.sessionId, WebTransportErrorCode.SessionGone);
    this.#options.onSessionEnded?.(this, link);
  }

  // ---- QuicConnectionHandler ----

  onStream(stream: QuicStream): void {
    if (!stream.bidirectional) this.#acceptUniStream(stream);
    else this.#acceptBidiStream(stream);
  }

  /** RFC 9297 §2.1: a datagram starts with the Quarter Stream ID of its session. */
  onDatagram(payload: Uint8Array): void {
    const quarter = readVarint(payload, 0);
    if (!quarter) return;
    const link = this.#links.get(quarter.value * 4);
    link?.session.deliverDatagram(payload.subarray(quarter.next));
  }

  onClosed(info: ConnectionCloseInfo): void {
    this.#closed = true;
    for (const waiter of this.#settingsWaiters.splice(0)) waiter(undefined);
    const reason = `connection closed by ${info.initiator} (code 0x${info.code.toString(16)}${info.reason ? `: ${info.reason}` : ''})`;
    // Our own graceful shutdown (H3_NO_ERROR) ends sessions cleanly; anything else is a loss.
    const graceful = info.initiator === 'local' && info.isApplication && info.code === H3ErrorCode.NoError;
    for (const link of [...this.#links.values()]) {
      if (graceful) link.closedWithConnection(info.reason);
      else link.connectionLost(reason);
    }
    this.#buffered.clear();
    this.#bufferedCount = 0;
  }

  // ---- streams ----

  #openControlStream(): void {
    const stream = this.quic.openStream(false);
    if (!stream) {
      this.connectionError(H3ErrorCode.StreamCreationError, 'no unidirectional stream credit for the control stream');
      return;
    }
    stream.setPriority(0, false);
    new StreamWriter(stream).write(encodeParts(UniStreamType.Control, encodeFrame(FrameType.Settings, encodeSettings(LOCAL_SETTINGS))));
  }

  #acceptUniStream(stream: QuicStream): void {
    const preamble = new PreambleBuffer();
    consumeStream(
      stream,
      (data, fin) => {
        preamble.push(data);
        const cursor = preamble.cursor();
        const type = cursor.varint();
        if (type === undefined) return 'more';
        switch (type) {
          case UniStreamType.Control:
            if (this.#peerControlSeen) this.connectionError(H3ErrorCode.StreamCreationError, 'second control stream');
            else this.#readControlStream(stream, cursor.rest(), fin);
            return 'stop';
          case UniStreamType.QpackEncoder:
          case UniStreamType.QpackDecoder:
            // With a zero-capacity table there is nothing to act on; keep reading to drain.
            if (fin) this.connectionError(H3ErrorCode.ClosedCriticalStream, 'QPACK stream closed');
            else this.#discardCriticalStream(stream);
            return 'stop';
          case WebTransportStreamType.Unidirectional: {
            const sessionId = cursor.varint();
            if (sessionId === undefined) return 'more';
            this.#routeStream(stream, sessionId, cursor.rest(), fin);
            return 'stop';
          }
          case UniStreamType.Push:
            this.connectionError(H3ErrorCode.StreamCreationError, 'push stream');
            return 'stop';
          default:
            // §6.2: unknown stream types are ignored; tell the peer we will not read it.
            stream.stopSending(H3ErrorCode.StreamCreationError);
            return 'stop';
        }
      },
      () => {},
    );
  }

  #acceptBidiStream(stream: QuicStream): void {
    const preamble = new PreambleBuffer();
    consumeStream(
      stream,
      (data, fin) => {
        preamble.push(data);
        const cursor = preamble.cursor();
        const first = cursor.varint();
        if (first === undefined) return 'more';
        if (first === WebTransportStreamType.Bidirectional) {
          const sessionId = cursor.varint();
          if (sessionId === undefined) return 'more';
          this.#routeStream(stream, sessionId, cursor.rest(), fin);
          return 'stop';
        }
        if (this.quic.role === 'client' || !this.#options.onRequestStream) {
          // RFC 9114 §6.1: servers do not open bidirectional request streams.
          this.connectionError(H3ErrorCode.StreamCreationError, 'unexpected bidirectional stream');
          return 'stop';
        }
        this.#options.onRequestStream(this, stream, preamble.bytes, fin);
        return 'stop';
      },
      () => {},
    );
  }

  #readControlStream(stream: QuicStream, rest: Uint8Array, fin: boolean): void {
    this.#peerControlSeen = true;
    const frames = new FrameReader();
    const handle = (data: Uint8Array, fin: boolean): 'more' | 'stop' => {
      try {
        frames.push(data);
        for (let event = frames.next(); event; event = frames.next()) this.#onControlEvent(event);
        if (fin) throw new Http3Error(H3ErrorCode.ClosedCriticalStream, 'control stream closed');
        return 'more';
      } catch (error) {
        const h3 = error instanceof Http3Error ? error : new Http3Error(H3ErrorCode.InternalError, String(error));
        this.connectionError(h3.code, h3.message);
        return 'stop';
      }
    };
    if (handle(rest, fin) === 'stop') return;
    consumeStream(stream, handle, (resetCode) => {
      if (resetCode !== undefined) this.connectionError(H3ErrorCode.ClosedCriticalStream, 'control stream reset');
    });
  }

  #onControlEvent(event: ReturnType<FrameReader['next']> & object): void {
    if (event.kind === 'unknown') return;
    if (event.kind === 'data') throw new Http3Error(H3ErrorCode.FrameUnexpected, 'DATA on the control stream');
    if (!this.#peerSettings) {
      if (event.type !== FrameType.Settings) throw new Http3Error(H3ErrorCode.MissingSettings, 'first control frame is not SETTINGS');
      this.#peerSettings = decodeSettings(event.payload);
      for (const waiter of this.#settingsWaiters.splice(0)) waiter(this.#peerSettings);
      return;
    }
    switch (event.type) {
      case FrameType.Settings:
      case FrameType.Headers:
      case FrameType.PushPromise:
        throw new Http3Error(H3ErrorCode.FrameUnexpected, `frame 0x${event.type.toString(16)} on the control stream`);
      case FrameType.Goaway:
        // §5.2: no new requests; WebTransport sessions are asked to wind down (draft §4.6).
        for (const link of this.#links.values()) link.session.markDraining();
        return;
      default:
        return; // CANCEL_PUSH, MAX_PUSH_ID, PRIORITY_UPDATE: nothing to do without push/priorities
    }
  }

  #discardCriticalStream(stream: QuicStream): void {
    consumeStream(
      stream,
      (_data, fin) => {
        if (fin) this.connectionError(H3ErrorCode.ClosedCriticalStream, 'QPACK stream closed');
        return 'more';
      },
      (resetCode) => {
        if (resetCode !== undefined) this.connectionError(H3ErrorCode.ClosedCriticalStream, 'QPACK stream reset');
      },
    );
  }

  /** A WebTransport stream: to its session, into the waiting room, or refused. */
  #routeStream(stream: QuicStream, sessionId: number, rest: Uint8Array, fin: boolean): void {
    const link = this.#links.get(sessionId);
    if (link && link.session.state === 'connected') {
      link.session.deliverStream(stream, rest, fin);
      return;
    }
    const gone = new WebTransportError('no such WebTransport session', { source: 'session' });
    // Session IDs are client-initiated bidirectional stream IDs (draft §4.1).
    if (sessionId % 4 !== 0 || this.#endedSessions.has(sessionId)) {
      stream.terminate(gone, WebTransportErrorCode.SessionGone);
      return;
    }
    if (this.#bufferedCount >= MAX_BUFFERED_STREAMS) {
      stream.terminate(gone, WebTransportErrorCode.BufferedStreamRejected);
      return;
    }
    const waiting = this.#buffered.get(sessionId) ?? [];
    waiting.push({ stream, rest, fin });
    this.#buffered.set(sessionId, waiting);
    this.#bufferedCount++;
  }

  #rejectBuffered(sessionId: number, code: number): void {
    const waiting = this.#buffered.get(sessionId);
    if (!waiting) return;
    this.#buffered.delete(sessionId);
    this.#bufferedCount -= waiting.length;
    const gone = new WebTransportError('WebTransport session gone', { source: 'session' });
    for (const { stream } of waiting) stream.terminate(gone, code);
  }
}

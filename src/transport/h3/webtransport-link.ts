/**
 * One WebTransport session over HTTP/3, seen from the CONNECT stream that established it
 * (draft-ietf-webtrans-http3 §3-§6). It is the SessionCarrier of the application-facing
 * session: it opens WebTransport streams with their header, frames datagrams with the Quarter
 * Stream ID (RFC 9297 §2.1), and turns capsules on the CONNECT stream into session events.
 * The session ID is the CONNECT stream's ID.
 */
import type { ConnectionStats } from '../quic/quic-connection.ts';
import type { QuicStream } from '../quic/quic-stream.ts';
import type { SessionCarrier } from '../quic/session-types.ts';
import { WebTransportError } from '../quic/webtransport-error.ts';
import { QuicWebTransportSession } from '../quic/webtransport-session.ts';
import { CapsuleReader, encodeCloseCapsule, encodeDrainCapsule } from './capsules.ts';
import { type FrameReader, FrameType, encodeFrame } from './frames.ts';
import { Http3Error, H3ErrorCode } from './h3-errors.ts';
import { consumeStream, type StreamWriter } from './stream-io.ts';
import { WebTransportErrorCode, WebTransportStreamType, applicationCodeToHttp3, http3CodeToApplication } from './webtransport-codes.ts';
import { encodeParts } from '../../wire/byte-writer.ts';
import { varintLength } from '../../wire/varint.ts';

/** What a link needs from its HTTP/3 connection. */
export interface LinkHost {
  openStream(bidirectional: boolean): Promise<QuicStream>;
  sendDatagram(payload: Uint8Array): boolean;
  readonly maxDatagramPayload: number;
  stats(): ConnectionStats;
  /** The session ended (either way); the host forgets it. */
  sessionEnded(link: WebTransportLink): void;
}

/** After our WT_CLOSE_SESSION: how long our FIN trails the peer's FIN, and the most it waits. */
const CLOSE_FIN_DELAY_MS = 250;
const CLOSE_FIN_TIMEOUT_MS = 2000;

export class WebTransportLink implements SessionCarrier {
  readonly sessionId: number;
  readonly session: QuicWebTransportSession;
  readonly sessionGoneCode = WebTransportErrorCode.SessionGone;
  readonly #host: LinkHost;
  readonly #connectStream: QuicStream;
  readonly #writer: StreamWriter;
  readonly #capsules = new CapsuleReader();
  #closeSent = false;
  /** Pending FIN after our own WT_CLOSE_SESSION; see close(). */
  #finTimer: NodeJS.Timeout | undefined;
  #ended = false;
  /** Resolves when the peer finished or reset its side of the CONNECT stream. */
  readonly peerDone: Promise<void>;
  #resolvePeerDone!: () => void;

  constructor(host: LinkHost, connectStream: QuicStream, writer: StreamWriter) {
    this.#host = host;
    this.#connectStream = connectStream;
    this.#writer = writer;
    this.sessionId = connectStream.id;
    this.session = new QuicWebTransportSession(this, 'webtransport');
    this.peerDone = new Promise((resolve) => (this.#resolvePeerDone = resolve));
  }

  get ended(): boolean {
    return this.#ended;
  }

  // ---- SessionCarrier ----

  async openStream(bidirectional: boolean): Promise<{ stream: QuicStream; header: Uint8Array }> {
    const stream = await this.#host.openStream(bidirectional);
    const type = bidirectional ? WebTransportStreamType.Bidirectional : WebTransportStreamType.Unidirectional;
    return { stream, header: encodeParts(type, this.sessionId) };
  }

  sendDatagram(payload: Uint8Array): boolean {
    return this.#host.sendDatagram(encodeParts(this.sessionId / 4, payload));
  }

  stats(): ConnectionStats {
    return this.#host.stats();
  }

  maxDatagramSize(): number {
    return Math.max(0, this.#host.maxDatagramPayload - varintLength(this.sessionId / 4));
  }

  /** §4.6: WT_DRAIN_SESSION in a DATA frame; the session stays usable. */
  drain(): void {
    if (!this.#closeSent) this.#writer.write(encodeFrame(FrameType.Data, encodeDrainCapsule()));
  }

  /**
   * §6: WT_CLOSE_SESSION in a DATA frame, then FIN on the CONNECT stream. The FIN is held
   * back until the peer has answered with its own FIN and CLOSE_FIN_DELAY_MS more have
   * passed (or CLOSE_FIN_TIMEOUT_MS without an answer). Chromium 156 loses the close code
   * when its CONNECT stream completes in both directions (our FIN, and our ACK of its FIN)
   * before it has handed the close to the page: `WebTransport.closed` then rejects with
   * "Connection lost." instead of resolving with our code. Its net-log shows exactly that
   * ordering in every failing run. Measured here (test/e2e/webtransport-chromium.test.ts
   * pattern in a loop): 5-15% of server-initiated closes with an immediate FIN, 0 of 300
   * with the FIN held back.
   */
  close(code: number, reason: string): void {
    if (this.#closeSent) return;
    this.#closeSent = true;
    this.#writer.write(encodeFrame(FrameType.Data, encodeCloseCapsule(code, reason)));
    this.#finishLater(CLOSE_FIN_TIMEOUT_MS);
    this.#end();
  }

  toWireCode(code: number): number {
    return applicationCodeToHttp3(code);
  }

  fromWireCode(code: number): number | null {
    return http3CodeToApplication(code);
  }

  // ---- CONNECT stream after the 2xx ----

  /**
   * Reads the rest of the CONNECT stream as capsules. `frames` may already hold bytes, and
   * `finSeen` says the peer's FIN was already read with them.
   */
  attach(frames: FrameReader, finSeen = false): void {
    if (!this.#drain(frames)) return;
    if (finSeen) {
      this.#peerFinished(frames);
      return;
    }
    consumeStream(
      this.#connectStream,
      (data, fin) => {
        frames.push(data);
        if (!this.#drain(frames)) return 'stop';
        if (fin) this.#peerFinished(frames);
        return 'more';
      },
      (resetCode, error) => {
        if (this.#finTimer) this.#finishNow();
        this.#resolvePeerDone();
        this.session.markFailed(
          error ?? new WebTransportError(`CONNECT stream reset by peer (code 0x${(resetCode ?? 0).toString(16)})`, { source: 'session' }),
        );
        this.#end();
      },
    );
  }

  /** Stream-level protocol error: reset the CONNECT stream and fail only this session. */
  fail(error: Http3Error): void {
    clearTimeout(this.#finTimer);
    this.#connectStream.reset(error.code);
    this.#connectStream.stopSending(error.code);
    this.#resolvePeerDone();
    this.session.markFailed(new WebTransportError(`HTTP/3 error 0x${error.code.toString(16)}: ${error.message}`, { source: 'session' }));
    this.#end();
  }

  /** We closed the connection gracefully (server shutdown): a clean end for the session. */
  closedWithConnection(reason: string): void {
    clearTimeout(this.#finTimer);
    this.#resolvePeerDone();
    this.session.markClosed({ closeCode: 0, reason });
    this.#end();
  }

  /** The connection went away under the session. */
  connectionLost(reason: string): void {
    clearTimeout(this.#finTimer);
    this.#resolvePeerDone();
    this.session.markFailed(new WebTransportError(reason, { source: 'session' }));
    this.#end();
  }

  /** Processes complete frames; false if the session failed. */
  #drain(frames: FrameReader): boolean {
    try {
      for (let event = frames.next(); event; event = frames.next()) {
        if (event.kind === 'data') {
          this.#capsules.push(event.chunk);
          for (let capsule = this.#capsules.next(); capsule; capsule = this.#capsules.next()) {
            if (capsule.type === 'close') {
              this.session.markClosed({ closeCode: capsule.code, reason: capsule.reason });
              // Answer with our FIN (§6) unless we already closed.
              this.#closeSent = true;
              this.#writer.finish();
              this.#end();
            } else if (capsule.type === 'drain') {
              this.session.markDraining();
            }
          }
        } else if (event.kind === 'frame' && event.type !== FrameType.Headers) {
          // Trailers (HEADERS) are tolerated; any other known frame is out of place here.
          throw new Http3Error(H3ErrorCode.FrameUnexpected, `frame 0x${event.type.toString(16)} on a CONNECT stream`);
        }
      }
      return true;
    } catch (error) {
      this.fail(error instanceof Http3Error ? error : new Http3Error(H3ErrorCode.InternalError, String(error)));
      return false;
    }
  }

  /** FIN: §6 treats a clean end without a capsule as close code 0, empty reason. */
  #peerFinished(frames: FrameReader): void {
    if (!frames.atFrameBoundary || !this.#capsules.atCapsuleBoundary) {
      this.fail(new Http3Error(H3ErrorCode.MessageError, 'CONNECT stream ended inside a frame or capsule'));
      return;
    }
    this.#resolvePeerDone();
    this.session.markClosed({ closeCode: 0, reason: '' });
    if (this.#finTimer) this.#finishLater(CLOSE_FIN_DELAY_MS);
    else if (!this.#closeSent) {
      this.#closeSent = true;
      this.#writer.finish();
    }
    this.#end();
  }

  /** (Re)schedules the held-back FIN after our WT_CLOSE_SESSION; see close(). */
  #finishLater(delayMs: number): void {
    clearTimeout(this.#finTimer);
    this.#finTimer = setTimeout(() => this.#finishNow(), delayMs);
    this.#finTimer.unref();
  }

  #finishNow(): void {
    clearTimeout(this.#finTimer);
    this.#finTimer = undefined;
    this.#writer.finish();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#host.sessionEnded(this);
  }
}

/**
 * Drives one quiche connection: feeds it received packets, services it (dispatches stream and
 * datagram events, flushes a burst of packets, re-arms its timer) and reports how it ended.
 * Packets go out through `packets` (the socket's packet memory, see packet-trains.ts); a
 * ServiceQueue shared per UDP socket batches work.
 * No I/O happens here besides those two hooks, so client and server use the same class.
 */
import { ConnectionLifecycle, type ConnectionStateName } from './connection-lifecycle.ts';
import { isNativeError } from './native-errors.ts';
import type { HostPort, NativeConnection, PeerError } from './native-quiche.ts';
import { QuicTransportError, type ConnectionCloseInfo } from './quic-errors.ts';
import type { QuicStream, StreamHost } from './quic-stream.ts';
import type { ServiceQueue } from './service-queue.ts';
import type { Role } from './stream-id.ts';
import { StreamTable } from './stream-table.ts';

/** What owns the application side of the connection (raw QUIC session or HTTP/3). */
export interface QuicConnectionHandler {
  /** A stream the peer opened. */
  onStream(stream: QuicStream): void;
  onDatagram(payload: Uint8Array): void;
  onClosed(info: ConnectionCloseInfo): void;
}

export interface QuicConnectionOptions {
  readonly native: NativeConnection;
  readonly role: Role;
  readonly local: HostPort;
  readonly remote: HostPort;
  readonly queue: ServiceQueue;
  /** Packet memory shared per socket: quiche writes into `region`, `commit` queues the packet. */
  readonly packets: PacketSink;
  /** Scratch for stream reads, shared per socket (reads copy out at once). */
  readonly readBuffer: Uint8Array<ArrayBuffer>;
  /** Largest UDP payload quiche may produce. */
  readonly maxUdpPayload: number;
  /** Runs synchronously when the handshake completes, before any stream is dispatched. */
  readonly onEstablished?: (connection: QuicConnection) => void;
  /** Runs once when quiche reports the connection closed (after draining). */
  readonly onFinished?: (connection: QuicConnection, info: ConnectionCloseInfo) => void;
  /** Send an ack-eliciting PING this often while established (keeps NAT bindings and idle timers alive). */
  readonly keepAliveMs?: number;
  /** Close the connection if the handshake has not completed by then. */
  readonly handshakeTimeoutMs?: number;
}

export interface PacketSink {
  region(size: number): Uint8Array;
  commit(length: number, to: HostPort): void;
}

/** APPLICATION_ERROR (RFC 9000 §20.1): what an application close becomes before confirmation. */
const APPLICATION_ERROR = 0x0c;
/** How long a client application close waits for handshake confirmation. */
const PENDING_CLOSE_LIMIT_MS = 1000;
/** How often a waiting application close checks for confirmation. */
const PENDING_CLOSE_RETRY_MS = 5;
/**
 * A closing connection sends one CONNECTION_CLOSE (RFC 9000 §10.2.1) and then drains. If
 * quiche keeps producing packets instead, stop talking after this many.
 */
const MAX_PACKETS_WHILE_CLOSING = 32;

/** Packets generated per service pass before yielding to the event loop (incoming ACKs). */
const MAX_PACKETS_PER_PASS = 512;
/** Size of the scratch buffer stream reads go through. */
export const READ_BUFFER_BYTES = 64 * 1024;

function decodeReason(error: PeerError): string {
  return Buffer.from(error.reason).toString('utf8');
}

export interface ConnectionStats {
  readonly bytesSent: number;
  readonly bytesReceived: number;
  readonly bytesLost: number;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  readonly packetsLost: number;
  readonly rttMs: number;
  readonly congestionWindow: number;
  readonly deliveryRateBytesPerSecond: number;
}

export class QuicConnection implements StreamHost {
  readonly role: Role;
  readonly native: NativeConnection;
  readonly local: HostPort;
  #remote: HostPort;
  readonly readBuffer: Uint8Array<ArrayBuffer>;
  handler: QuicConnectionHandler | undefined;

  readonly #options: QuicConnectionOptions;
  readonly #lifecycle = new ConnectionLifecycle();
  readonly #streams: StreamTable;
  /**
   * An application close that waits for handshake confirmation (see close()); it lives only
   * in the open states, and its retry timer is owned by the current one.
   */
  #pendingClose: { code: number; reason: string; since: number } | undefined;
  #flushEpoch = 0;
  #lastFailure: unknown;
  /** quiche's own timer (loss detection, idle, draining): re-armed every pass until closed. */
  #serviceTimer: NodeJS.Timeout | undefined;
  readonly established: Promise<void>;
  readonly closed: Promise<ConnectionCloseInfo>;
  #resolveEstablished!: () => void;
  #rejectEstablished!: (error: Error) => void;
  #resolveClosed!: (info: ConnectionCloseInfo) => void;

  constructor(options: QuicConnectionOptions) {
    this.#options = options;
    this.role = options.role;
    this.native = options.native;
    this.local = options.local;
    this.#remote = options.remote;
    this.readBuffer = options.readBuffer;
    this.#streams = new StreamTable(this);
    this.established = new Promise<void>((resolve, reject) => {
      this.#resolveEstablished = resolve;
      this.#rejectEstablished = reject;
    });
    this.established.catch(() => {});
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    if (options.handshakeTimeoutMs !== undefined) {
      // Owned by 'handshaking': completing the handshake (or any close) disarms it.
      this.#lifecycle.own(() => this.close(false, 0x0, 'handshake timeout'), options.handshakeTimeoutMs);
    }
  }

  get remote(): HostPort {
    return this.#remote;
  }

  /** Where the connection is in its lifecycle (see connection-lifecycle.ts). */
  get state(): ConnectionStateName {
    return this.#lifecycle.name;
  }

  get isFinished(): boolean {
    return this.#lifecycle.name === 'closed';
  }

  /** The negotiated ALPN (empty before the handshake). */
  get alpn(): string {
    return Buffer.from(this.native.applicationProto()).toString('latin1');
  }

  /** SNI the client asked for, if any. */
  get serverName(): string | undefined {
    return this.native.serverName() ?? undefined;
  }

  /** Feeds one received UDP payload. */
  receive(packet: Uint8Array, from: HostPort): void {
    if (this.isFinished) return;
    this.#streams.sendRoomMayHaveChanged();
    try {
      this.native.recv(packet, { from, to: this.local });
      this.#remote = from;
    } catch (error) {
      // Undecryptable or stray packets are dropped; fatal errors close the connection and
      // show up in the service pass through isClosed()/localError().
      if (!isNativeError(error, 'Done')) this.schedule();
    }
    const state = this.#lifecycle.state;
    if (state.name === 'established') state.heardFromPeer = true;
    if (this.#streams.hasDeferredFins && this.#streams.releaseDeferredFins() && !this.native.isClosed()) {
      if (this.#flush()) this.schedule();
    }
    this.schedule();
  }

  get flushEpoch(): number {
    return this.#flushEpoch;
  }

  deferFinish(stream: QuicStream): void {
    this.#streams.deferFin(stream);
    // Make the peer answer soon even if nothing else is in flight.
    try {
      this.native.sendAckEliciting();
    } catch {
      // closing
    }
    this.schedule();
  }

  schedule(): void {
    if (!this.isFinished) this.#options.queue.schedule(this);
  }

  /** One pass: handshake state, datagrams, streams, waiting openers, packets out, timer. */
  service(): void {
    if (this.isFinished) return;
    if (this.#lifecycle.name === 'handshaking' && this.native.isEstablished()) this.#markEstablished();
    if (this.#streams.hasDeferredFins) this.#streams.releaseOverdueFins();
    if (this.#streamsFlow() && this.handler && !this.native.isClosed()) {
      this.#dispatch(this.handler);
      this.#streams.serveWaiters((bidirectional) => this.openStream(bidirectional));
    }
    const more = this.#flush();
    if (this.isFinished) return;
    this.#armTimer();
    // Draining (RFC 9000 §10.2.2) already means the end for the application.
    if (this.native.isDraining() || this.native.isClosed()) this.#notifyClosing();
    if (this.native.isClosed()) this.#finish();
    else if (more) this.schedule();
  }

  /**
   * A bug or an application callback threw during a service pass: close this connection
   * (INTERNAL_ERROR, RFC 9000 §20.1) rather than leave it, or its neighbours, wedged.
   */
  fail(error: unknown): void {
    this.#lastFailure = error;
    this.close(false, 0x1, `internal error: ${error instanceof Error ? error.message : String(error)}`.slice(0, 200));
    try {
      this.#flush();
      this.#armTimer();
    } catch {
      // nothing more we can do; the idle timeout will end it
    }
  }

  /**
   * The peer is gone (a client's connected socket got ICMP port unreachable): end now, as the
   * idle timeout would later, without a CONNECTION_CLOSE nobody would receive. Like a TCP reset,
   * it lets a client notice a crashed server within one keep-alive interval.
   */
  abandon(reason: string): void {
    this.#finish(reason);
  }

  /** The exception that made `fail()` close the connection, for diagnostics. */
  get lastFailure(): unknown {
    return this.#lastFailure;
  }

  /** Opens a stream now, or returns undefined when the peer's MAX_STREAMS limit is reached. */
  openStream(bidirectional: boolean): QuicStream | undefined {
    if (!this.#streamsFlow() || this.native.isDraining()) return undefined;
    return this.#streams.open(bidirectional);
  }

  /** Opens a stream, waiting for the peer to grant more stream credit if needed. */
  openStreamWhenAllowed(bidirectional: boolean): Promise<QuicStream> {
    const stream = this.openStream(bidirectional);
    if (stream) return Promise.resolve(stream);
    if (!this.#lifecycle.isLive) return Promise.reject(new QuicTransportError('connection closed'));
    const waiting = this.#streams.wait(bidirectional);
    this.schedule();
    return waiting;
  }

  /** Queues an unreliable datagram (RFC 9221); false when it cannot be sent. */
  sendDatagram(payload: Uint8Array): boolean {
    if (this.isFinished) return false;
    try {
      this.native.dgramSend(payload);
    } catch {
      return false;
    }
    this.schedule();
    return true;
  }

  /** Largest datagram payload the peer accepts on the current path (0 if none). */
  get maxDatagramPayload(): number {
    if (this.isFinished) return 0;
    try {
      return this.native.dgramMaxWritableLen() ?? 0;
    } catch {
      return 0;
    }
  }

  /** CONNECTION_CLOSE (RFC 9000 §10.2): application close (0x1d) or transport close (0x1c). */
  close(application: boolean, code: number, reason = ''): void {
    // Closing already, or ended: quiche would refuse a second CONNECTION_CLOSE (Done) anyway.
    if (!this.#lifecycle.isOpen) return;
    if (application && !this.#handshakeLikelyConfirmed()) {
      // RFC 9000 §10.2.3: an application close waits for handshake confirmation. quiche 0.18
      // would otherwise keep emitting Handshake packets without ever closing (a packet storm).
      // A client's handshake is confirmed by the server's HANDSHAKE_DONE, about one round
      // trip after the client completes it; retry until then, and fall back to a
      // transport-level close (APPLICATION_ERROR) if confirmation does not seem to come.
      if (this.#pendingClose === undefined) {
        this.#pendingClose = { code, reason, since: Date.now() };
        this.#retryPendingClose();
      }
      return;
    }
    this.#pendingClose = undefined;
    this.#lifecycle.enter({ name: 'closing', packetsSent: 0, afterHandshake: this.#lifecycle.name === 'established' });
    try {
      this.native.close(application, code, new TextEncoder().encode(reason));
    } catch {
      // Already closing.
    }
    this.schedule();
  }

  /** Counters of the connection and its active path (quiche reports RTT in ms, rate in bytes/s). */
  stats(): ConnectionStats {
    const stats = this.native.stats();
    const path = this.native.pathStats()[0];
    return {
      bytesSent: stats.sentBytes,
      bytesReceived: stats.recvBytes,
      bytesLost: stats.lostBytes,
      packetsSent: stats.sent,
      packetsReceived: stats.recv,
      packetsLost: stats.lost,
      rttMs: path?.rtt ?? 0,
      congestionWindow: path?.cwnd ?? 0,
      deliveryRateBytesPerSecond: path?.deliveryRate ?? 0,
    };
  }

  /** A reset hands the stream's unsent bytes' credit back: other streams may be writable. */
  streamShutDown(): void {
    this.#streams.sendRoomMayHaveChanged();
  }

  retire(stream: QuicStream): void {
    this.#streams.retire(stream);
  }

  get closeInfo(): ConnectionCloseInfo | undefined {
    return this.#lifecycle.closeInfo;
  }

  /**
   * Streams are dispatched and opened once the handshake completed, until the application
   * learns of the end; a close we requested does not stop them before quiche drains.
   */
  #streamsFlow(): boolean {
    const state = this.#lifecycle.state;
    return state.name === 'established' || (state.name === 'closing' && state.afterHandshake);
  }

  #markEstablished(): void {
    this.#lifecycle.enter({ name: 'established', since: Date.now(), heardFromPeer: false });
    this.#options.onEstablished?.(this);
    this.#resolveEstablished();
    const keepAliveMs = this.#options.keepAliveMs;
    // onEstablished may have closed the connection already: then there is nothing to keep alive.
    if (keepAliveMs !== undefined && keepAliveMs > 0 && this.#lifecycle.name === 'established') {
      // Owned by 'established': a close or the end stops the pings.
      this.#lifecycle.own(
        () => {
          try {
            this.native.sendAckEliciting();
          } catch {
            // closing
          }
          this.schedule();
        },
        keepAliveMs,
        true,
      );
    }
    // The handshake state owned the retry timer of a close waiting for confirmation.
    if (this.#pendingClose) this.#retryPendingClose();
  }

  #dispatchDatagrams(handler: QuicConnectionHandler): void {
    for (;;) {
      let payload: Uint8Array | null;
      try {
        payload = this.native.dgramRecvVec();
      } catch {
        return;
      }
      if (payload === null) return;
      handler.onDatagram(payload);
    }
  }

  /** Datagrams, then readable streams, then writable ones; each only when it can have news. */
  #dispatch(handler: QuicConnectionHandler): void {
    // isReadable() (stream data or a datagram waiting) is a cheap flag; readable() builds a
    // native iterator, which costs more than the rest of a pass without packets.
    if (this.native.isReadable()) {
      this.#dispatchDatagrams(handler);
      this.#streams.dispatchReadable(handler);
    }
    this.#streams.dispatchWritable(handler);
  }

  /**
   * Generates and sends packets; true if it stopped early with more to send. One pass sends
   * at most quiche's send quantum (its pacing burst, RFC 9002 §7.7), and at least one packet.
   */
  #flush(): boolean {
    const maxPayload = this.#options.maxUdpPayload;
    const packets = this.#options.packets;
    let budget = Math.max(maxPayload, this.native.sendQuantum());
    for (let count = 0; count < MAX_PACKETS_PER_PASS; count++) {
      const out = packets.region(maxPayload);
      let result: ReturnType<NativeConnection['send']>;
      try {
        result = this.native.send(out);
      } catch {
        return false;
      }
      if (result === null) return false;
      const [length, info] = result;
      if (count === 0) this.#flushEpoch++;
      packets.commit(length, info.to);
      const state = this.#lifecycle.state;
      if (state.name === 'closing' && !this.native.isDraining() && ++state.packetsSent > MAX_PACKETS_WHILE_CLOSING) {
        this.#finish(); // give up: forget the connection without further packets
        return false;
      }
      budget -= length;
      if (budget <= 0) return true;
    }
    return true;
  }

  #armTimer(): void {
    clearTimeout(this.#serviceTimer);
    this.#serviceTimer = undefined;
    const timeout = this.native.timeout();
    if (timeout === null) return;
    this.#serviceTimer = setTimeout(this.#onTimer, Math.max(0, timeout));
    this.#serviceTimer.unref();
  }

  readonly #onTimer = (): void => {
    this.#serviceTimer = undefined;
    if (this.isFinished) return;
    this.#streams.sendRoomMayHaveChanged();
    this.native.onTimeout();
    this.service();
  };

  /** The connection is closing or draining: no more application traffic either way. */
  #notifyClosing(abandonReason?: string): void {
    if (!this.#lifecycle.isLive) return;
    const info = this.#describeClose(abandonReason);
    this.#pendingClose = undefined;
    this.#lifecycle.enter({ name: 'draining', info });
    const error = new QuicTransportError(`connection closed (${info.initiator}, code ${info.code}${info.reason ? `: ${info.reason}` : ''})`);
    this.#rejectEstablished(error);
    this.#streams.terminateAll(error);
    this.handler?.onClosed(info);
  }

  /** Servers confirm on completion (RFC 9001 §4.1.2); clients ~1 RTT later (HANDSHAKE_DONE). */
  #handshakeLikelyConfirmed(): boolean {
    const state = this.#lifecycle.state;
    if (state.name !== 'established') return false;
    if (this.role === 'server') return true;
    const rttMs = this.native.pathStats()[0]?.rtt ?? 1;
    return state.heardFromPeer && Date.now() - state.since >= 2 * Math.max(1, rttMs) + 5;
  }

  #retryPendingClose(): void {
    const pending = this.#pendingClose;
    if (!pending || !this.#lifecycle.isOpen) return;
    if (this.#handshakeLikelyConfirmed()) {
      this.#pendingClose = undefined;
      this.close(true, pending.code, pending.reason);
      return;
    }
    if (Date.now() - pending.since > PENDING_CLOSE_LIMIT_MS) {
      this.#pendingClose = undefined;
      this.close(false, APPLICATION_ERROR, `application close ${pending.code}${pending.reason ? `: ${pending.reason}` : ''}`);
      return;
    }
    this.#lifecycle.own(() => this.#retryPendingClose(), PENDING_CLOSE_RETRY_MS);
  }

  /** quiche is done with the connection (draining period over), or we gave up on it. */
  #finish(abandonReason?: string): void {
    if (this.isFinished) return;
    this.#notifyClosing(abandonReason);
    // handler.onClosed may have ended the connection itself (abandon): it is told only once.
    if (this.isFinished) return;
    const info = this.#lifecycle.closeInfo!;
    this.#lifecycle.enter({ name: 'closed', info });
    clearTimeout(this.#serviceTimer);
    this.#options.onFinished?.(this, info);
    this.#resolveClosed(info);
  }

  #describeClose(abandonReason: string | undefined): ConnectionCloseInfo {
    if (abandonReason !== undefined) return { initiator: 'timeout', isApplication: false, code: 0, reason: abandonReason };
    const peer = this.native.peerError();
    if (peer) return { initiator: 'peer', isApplication: peer.isApp, code: peer.errorCode, reason: decodeReason(peer) };
    const local = this.native.localError();
    if (local) return { initiator: 'local', isApplication: local.isApp, code: local.errorCode, reason: decodeReason(local) };
    return { initiator: 'timeout', isApplication: false, code: 0, reason: this.native.isTimedOut() ? 'idle timeout' : 'closed' };
  }
}

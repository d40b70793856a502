/**
 * Drives one quiche connection: feeds it received packets, services it (dispatches stream and
 * datagram events, flushes a burst of packets, re-arms its timer) and reports how it ended.
 * Packets go out through `packets` (the socket's packet memory, see packet-trains.ts); a
 * ServiceQueue shared per UDP socket batches work.
 * No I/O happens here besides those two hooks, so client and server use the same class.
 */
import { isNativeError } from './native-errors.ts';
import type { HostPort, NativeConnection, PeerError } from './native-quiche.ts';
import { QuicTransportError, type ConnectionCloseInfo } from './quic-errors.ts';
import { QuicStream, type StreamHost } from './quic-stream.ts';
import type { ServiceQueue } from './service-queue.ts';
import { PeerStreamTracker, firstLocalStreamId, initiatorOf, type Role } from './stream-id.ts';

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

interface StreamWaiter {
  readonly bidirectional: boolean;
  readonly resolve: (stream: QuicStream) => void;
  readonly reject: (error: Error) => void;
}

export class QuicConnection implements StreamHost {
  readonly role: Role;
  readonly native: NativeConnection;
  readonly local: HostPort;
  #remote: HostPort;
  readonly readBuffer: Uint8Array<ArrayBuffer>;
  handler: QuicConnectionHandler | undefined;

  readonly #options: QuicConnectionOptions;
  readonly #streams = new Map<number, QuicStream>();
  readonly #peerStreams = new PeerStreamTracker();
  readonly #nextLocal = { bidi: 0, uni: 0 };
  readonly #waiters: StreamWaiter[] = [];
  /** Streams whose FIN waits for a safe moment (QuicStream.finish). */
  readonly #deferredFins = new Set<QuicStream>();
  #flushEpoch = 0;
  /**
   * Whether writable() could report something new since the last dispatch. quiche grows send
   * room (connection tx_cap, stream credit) and learns of STOP_SENDING only while processing a
   * packet, and hands back credit when we reset a stream; timers are included to be safe. In
   * between, writable() (a costly native iterator) would re-announce the same streams to
   * handlers with nothing new to do, so passes triggered by our own writes skip it.
   */
  #writableMayHaveChanged = true;
  #closeRequested = false;
  #pendingClose: { code: number; reason: string; since: number } | undefined;
  #establishedAt = 0;
  #heardSinceEstablished = false;
  /** Packets generated since close() without quiche entering the draining state. */
  #packetsWhileClosing = 0;
  #lastFailure: unknown;
  #timer: NodeJS.Timeout | undefined;
  #keepAlive: NodeJS.Timeout | undefined;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #established = false;
  #finished = false;
  #closeInfo: ConnectionCloseInfo | undefined;
  #abandonReason: string | undefined;
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
    this.#nextLocal.bidi = firstLocalStreamId(options.role, true);
    this.#nextLocal.uni = firstLocalStreamId(options.role, false);
    this.established = new Promise<void>((resolve, reject) => {
      this.#resolveEstablished = resolve;
      this.#rejectEstablished = reject;
    });
    this.established.catch(() => {});
    this.closed = new Promise((resolve) => (this.#resolveClosed = resolve));
    if (options.handshakeTimeoutMs !== undefined) {
      this.#handshakeTimer = setTimeout(() => {
        if (!this.#established) this.close(false, 0x0, 'handshake timeout');
      }, options.handshakeTimeoutMs);
      this.#handshakeTimer.unref();
    }
  }

  get remote(): HostPort {
    return this.#remote;
  }

  get isEstablished(): boolean {
    return this.#established;
  }

  get isFinished(): boolean {
    return this.#finished;
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
    if (this.#finished) return;
    this.#writableMayHaveChanged = true;
    try {
      this.native.recv(packet, { from, to: this.local });
      this.#remote = from;
    } catch (error) {
      // Undecryptable or stray packets are dropped; fatal errors close the connection and
      // show up in the service pass through isClosed()/localError().
      if (!isNativeError(error, 'Done')) this.schedule();
    }
    if (this.#established) this.#heardSinceEstablished = true;
    if (this.#deferredFins.size > 0) this.#releaseDeferredFins();
    this.schedule();
  }

  get flushEpoch(): number {
    return this.#flushEpoch;
  }

  deferFinish(stream: QuicStream): void {
    this.#deferredFins.add(stream);
    // Make the peer answer soon even if nothing else is in flight.
    try {
      this.native.sendAckEliciting();
    } catch {
      // closing
    }
    this.schedule();
    setTimeout(() => this.schedule(), 10_100).unref(); // the FIN give-up fallback, even if nothing arrives
  }

  /** Just after quiche processed a packet: queue the deferred FINs that fit and send them now. */
  #releaseDeferredFins(): void {
    let released = false;
    for (const stream of [...this.#deferredFins]) {
      let done: boolean;
      try {
        done = stream.finishIfRoom(true);
      } catch {
        done = true; // stopped by the peer: nothing left to finish
      }
      if (done) {
        this.#deferredFins.delete(stream);
        released = true;
      }
    }
    if (released && !this.native.isClosed()) {
      if (this.#flush()) this.schedule();
    }
  }

  schedule(): void {
    if (!this.#finished) this.#options.queue.schedule(this);
  }

  /** One pass: handshake state, datagrams, streams, waiting openers, packets out, timer. */
  service(): void {
    if (this.#finished) return;
    if (!this.#established && this.native.isEstablished()) this.#markEstablished();
    if (this.#deferredFins.size > 0) this.#releaseOverdueFins();
    if (this.#established && this.handler && !this.native.isClosed()) {
      this.#dispatch(this.handler);
      this.#serveWaiters();
    }
    const more = this.#flush();
    if (this.#finished) return;
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
    if (this.#finished) return;
    this.#abandonReason = reason;
    this.#finish();
  }

  /** The exception that made `fail()` close the connection, for diagnostics. */
  get lastFailure(): unknown {
    return this.#lastFailure;
  }

  /** Opens a stream now, or returns undefined when the peer's MAX_STREAMS limit is reached. */
  openStream(bidirectional: boolean): QuicStream | undefined {
    if (this.#closeInfo || !this.#established || this.native.isDraining()) return undefined;
    const left = bidirectional ? this.native.peerStreamsLeftBidi() : this.native.peerStreamsLeftUni();
    if (left <= 0) return undefined;
    const id = bidirectional ? this.#nextLocal.bidi : this.#nextLocal.uni;
    try {
      // A zero-length send makes quiche create the stream (and count it against the limit).
      this.native.streamSend(id, new Uint8Array(0), false);
    } catch (error) {
      if (isNativeError(error, 'StreamLimit')) return undefined;
      throw new QuicTransportError(`cannot open stream ${id}: ${String(error)}`);
    }
    if (bidirectional) this.#nextLocal.bidi += 4;
    else this.#nextLocal.uni += 4;
    const stream = new QuicStream(this, id);
    this.#streams.set(id, stream);
    return stream;
  }

  /** Opens a stream, waiting for the peer to grant more stream credit if needed. */
  openStreamWhenAllowed(bidirectional: boolean): Promise<QuicStream> {
    const stream = this.openStream(bidirectional);
    if (stream) return Promise.resolve(stream);
    if (this.#closeInfo) return Promise.reject(new QuicTransportError('connection closed'));
    return new Promise((resolve, reject) => {
      this.#waiters.push({ bidirectional, resolve, reject });
      this.schedule();
    });
  }

  /** Queues an unreliable datagram (RFC 9221); false when it cannot be sent. */
  sendDatagram(payload: Uint8Array): boolean {
    if (this.#finished) return false;
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
    if (this.#finished) return 0;
    try {
      return this.native.dgramMaxWritableLen() ?? 0;
    } catch {
      return 0;
    }
  }

  /** CONNECTION_CLOSE (RFC 9000 §10.2): application close (0x1d) or transport close (0x1c). */
  close(application: boolean, code: number, reason = ''): void {
    if (this.#finished || this.#closeRequested) return;
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
    this.#closeRequested = true;
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

  /** The fallback: FINs that waited past the give-up deadline go out on the next pass. */
  #releaseOverdueFins(): void {
    for (const stream of [...this.#deferredFins]) {
      try {
        if (!stream.finishIfRoom(false)) continue;
      } catch {
        // stopped by the peer
      }
      this.#deferredFins.delete(stream);
    }
  }

  /** A reset hands the stream's unsent bytes' credit back: other streams may be writable. */
  streamShutDown(): void {
    this.#writableMayHaveChanged = true;
  }

  retire(stream: QuicStream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
  }

  #markEstablished(): void {
    this.#established = true;
    this.#establishedAt = Date.now();
    clearTimeout(this.#handshakeTimer);
    this.#options.onEstablished?.(this);
    this.#resolveEstablished();
    const keepAliveMs = this.#options.keepAliveMs;
    if (keepAliveMs !== undefined && keepAliveMs > 0) {
      this.#keepAlive = setInterval(() => {
        try {
          this.native.sendAckEliciting();
        } catch {
          // closing
        }
        this.schedule();
      }, keepAliveMs);
      this.#keepAlive.unref();
    }
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
      this.#dispatchReadable(handler);
    }
    if (this.#writableMayHaveChanged) this.#dispatchWritable(handler);
  }

  #dispatchReadable(handler: QuicConnectionHandler): void {
    for (const id of Array.from(this.native.readable())) {
      const stream = this.#streams.get(id) ?? this.#adoptPeerStream(id, handler);
      if (stream) stream.notifyReadable();
      else this.#discardForgotten(id);
    }
  }

  #dispatchWritable(handler: QuicConnectionHandler): void {
    this.#writableMayHaveChanged = false;
    for (const id of Array.from(this.native.writable())) {
      const stream = this.#streams.get(id) ?? this.#adoptPeerStream(id, handler);
      stream?.notifyWritable();
    }
  }

  #adoptPeerStream(id: number, handler: QuicConnectionHandler): QuicStream | undefined {
    if (initiatorOf(id) === this.role || !this.#peerStreams.markNew(id)) return undefined;
    const stream = new QuicStream(this, id);
    this.#streams.set(id, stream);
    handler.onStream(stream);
    return stream;
  }

  /** A stream we already forgot still has input (e.g. data racing our STOP_SENDING): drop it. */
  #discardForgotten(id: number): void {
    try {
      while (this.native.streamRecv(id, this.readBuffer) !== null) {
        // discard
      }
    } catch {
      // reset or finished: nothing left to discard
    }
  }

  #serveWaiters(): void {
    while (this.#waiters.length > 0) {
      const waiter = this.#waiters[0]!;
      const stream = this.openStream(waiter.bidirectional);
      if (!stream) {
        // Let a waiter of the other kind proceed if it can.
        const other = this.#waiters.findIndex((w) => w.bidirectional !== waiter.bidirectional);
        if (other < 0) return;
        const otherStream = this.openStream(this.#waiters[other]!.bidirectional);
        if (!otherStream) return;
        this.#waiters.splice(other, 1)[0]!.resolve(otherStream);
        continue;
      }
      this.#waiters.shift();
      waiter.resolve(stream);
    }
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
      if (this.#closeRequested && !this.native.isDraining() && ++this.#packetsWhileClosing > MAX_PACKETS_WHILE_CLOSING) {
        this.#finish(); // give up: forget the connection without further packets
        return false;
      }
      budget -= length;
      if (budget <= 0) return true;
    }
    return true;
  }

  #armTimer(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const timeout = this.native.timeout();
    if (timeout === null) return;
    this.#timer = setTimeout(this.#onTimer, Math.max(0, timeout));
    this.#timer.unref();
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    if (this.#finished) return;
    this.#writableMayHaveChanged = true;
    this.native.onTimeout();
    this.service();
  };

  /** The connection is closing or draining: no more application traffic either way. */
  #notifyClosing(): void {
    if (this.#closeInfo) return;
    const info = this.#describeClose();
    this.#closeInfo = info;
    clearTimeout(this.#handshakeTimer);
    clearInterval(this.#keepAlive);
    const error = new QuicTransportError(`connection closed (${info.initiator}, code ${info.code}${info.reason ? `: ${info.reason}` : ''})`);
    this.#rejectEstablished(error);
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    for (const stream of [...this.#streams.values()]) stream.terminate(error);
    this.#streams.clear();
    this.handler?.onClosed(info);
  }

  /** Servers confirm on completion (RFC 9001 §4.1.2); clients ~1 RTT later (HANDSHAKE_DONE). */
  #handshakeLikelyConfirmed(): boolean {
    if (!this.#established) return false;
    if (this.role === 'server') return true;
    const rttMs = this.native.pathStats()[0]?.rtt ?? 1;
    return this.#heardSinceEstablished && Date.now() - this.#establishedAt >= 2 * Math.max(1, rttMs) + 5;
  }

  #retryPendingClose(): void {
    const pending = this.#pendingClose;
    if (!pending || this.#finished) return;
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
    setTimeout(() => this.#retryPendingClose(), 5).unref();
  }

  /** quiche is done with the connection (draining period over), or we gave up on it. */
  #finish(): void {
    if (this.#finished) return;
    this.#notifyClosing();
    this.#finished = true;
    clearTimeout(this.#timer);
    const info = this.#closeInfo!;
    this.#options.onFinished?.(this, info);
    this.#resolveClosed(info);
  }

  get closeInfo(): ConnectionCloseInfo | undefined {
    return this.#closeInfo;
  }

  #describeClose(): ConnectionCloseInfo {
    if (this.#abandonReason !== undefined) return { initiator: 'timeout', isApplication: false, code: 0, reason: this.#abandonReason };
    const peer = this.native.peerError();
    if (peer) return { initiator: 'peer', isApplication: peer.isApp, code: peer.errorCode, reason: decodeReason(peer) };
    const local = this.native.localError();
    if (local) return { initiator: 'local', isApplication: local.isApp, code: local.errorCode, reason: decodeReason(local) };
    return { initiator: 'timeout', isApplication: false, code: 0, reason: this.native.isTimedOut() ? 'idle timeout' : 'closed' };
  }
}

/**
 * The streams of one QUIC connection: which QuicStream owns each ID, the IDs we open next,
 * which peer IDs we have seen, openers waiting for stream credit (MAX_STREAMS, RFC 9000
 * §4.6), FINs waiting for a safe moment, and dispatch of quiche's readable/writable sets.
 * The connection decides when any of this may run; the table only keeps the books.
 */
import { isNativeError } from './native-errors.ts';
import { QuicTransportError } from './quic-errors.ts';
import { QuicStream, type StreamHost } from './quic-stream.ts';
import { firstLocalStreamId, initiatorOf, PeerStreamTracker } from './stream-id.ts';

/** Fallback pass for deferred FINs, just past QuicStream's give-up deadline, even if nothing arrives. */
const DEFERRED_FIN_FALLBACK_MS = 10_100;

/** Who takes the streams the peer opens (the connection's handler). */
export interface StreamAcceptor {
  onStream(stream: QuicStream): void;
}

interface StreamWaiter {
  readonly bidirectional: boolean;
  readonly resolve: (stream: QuicStream) => void;
  readonly reject: (error: Error) => void;
}

export class StreamTable {
  readonly #host: StreamHost;
  readonly #streams = new Map<number, QuicStream>();
  readonly #peerStreams = new PeerStreamTracker();
  readonly #nextLocal: { bidi: number; uni: number };
  readonly #waiters: StreamWaiter[] = [];
  /** Streams whose FIN waits for a safe moment (QuicStream.finish). */
  readonly #deferredFins = new Set<QuicStream>();
  /**
   * Whether writable() could report something new since the last dispatch. quiche grows send
   * room (connection tx_cap, stream credit) and learns of STOP_SENDING only while processing a
   * packet, and hands back credit when we reset a stream; timers are included to be safe. In
   * between, writable() (a costly native iterator) would re-announce the same streams to
   * handlers with nothing new to do, so passes triggered by our own writes skip it.
   */
  #writableMayHaveChanged = true;

  constructor(host: StreamHost) {
    this.#host = host;
    this.#nextLocal = { bidi: firstLocalStreamId(host.role, true), uni: firstLocalStreamId(host.role, false) };
  }

  /** Opens a local stream now, or returns undefined when the peer's MAX_STREAMS limit is reached. */
  open(bidirectional: boolean): QuicStream | undefined {
    const native = this.#host.native;
    const left = bidirectional ? native.peerStreamsLeftBidi() : native.peerStreamsLeftUni();
    if (left <= 0) return undefined;
    const id = bidirectional ? this.#nextLocal.bidi : this.#nextLocal.uni;
    try {
      // A zero-length send makes quiche create the stream (and count it against the limit).
      native.streamSend(id, new Uint8Array(0), false);
    } catch (error) {
      if (isNativeError(error, 'StreamLimit')) return undefined;
      throw new QuicTransportError(`cannot open stream ${id}: ${String(error)}`);
    }
    if (bidirectional) this.#nextLocal.bidi += 4;
    else this.#nextLocal.uni += 4;
    const stream = new QuicStream(this.#host, id);
    this.#streams.set(id, stream);
    return stream;
  }

  /** Queues an opener until the peer grants stream credit; see serveWaiters(). */
  wait(bidirectional: boolean): Promise<QuicStream> {
    return new Promise((resolve, reject) => this.#waiters.push({ bidirectional, resolve, reject }));
  }

  /** Hands streams to waiting openers, in order, as far as credit goes; `open` may refuse. */
  serveWaiters(open: (bidirectional: boolean) => QuicStream | undefined): void {
    while (this.#waiters.length > 0) {
      const waiter = this.#waiters[0]!;
      const stream = open(waiter.bidirectional);
      if (!stream) {
        // Let a waiter of the other kind proceed if it can.
        const other = this.#waiters.findIndex((w) => w.bidirectional !== waiter.bidirectional);
        if (other < 0) return;
        const otherStream = open(this.#waiters[other]!.bidirectional);
        if (!otherStream) return;
        this.#waiters.splice(other, 1)[0]!.resolve(otherStream);
        continue;
      }
      this.#waiters.shift();
      waiter.resolve(stream);
    }
  }

  /** quiche may report new send room or STOP_SENDING (a packet, a timer, a reset of ours). */
  sendRoomMayHaveChanged(): void {
    this.#writableMayHaveChanged = true;
  }

  /** Notifies streams with input; a new peer stream goes to `acceptor` first. */
  dispatchReadable(acceptor: StreamAcceptor): void {
    for (const id of Array.from(this.#host.native.readable())) {
      const stream = this.#streams.get(id) ?? this.#adoptPeerStream(id, acceptor);
      if (stream) stream.notifyReadable();
      else this.#discardForgotten(id);
    }
  }

  /** Notifies streams with send room, only when quiche can have news (see #writableMayHaveChanged). */
  dispatchWritable(acceptor: StreamAcceptor): void {
    if (!this.#writableMayHaveChanged) return;
    this.#writableMayHaveChanged = false;
    for (const id of Array.from(this.#host.native.writable())) {
      const stream = this.#streams.get(id) ?? this.#adoptPeerStream(id, acceptor);
      stream?.notifyWritable();
    }
  }

  /** A stream whose parts both ended leaves the table; a later ID reuse cannot hit it. */
  retire(stream: QuicStream): void {
    if (this.#streams.get(stream.id) === stream) this.#streams.delete(stream.id);
  }

  get hasDeferredFins(): boolean {
    return this.#deferredFins.size > 0;
  }

  deferFin(stream: QuicStream): void {
    this.#deferredFins.add(stream);
    setTimeout(() => this.#host.schedule(), DEFERRED_FIN_FALLBACK_MS).unref();
  }

  /** Just after quiche processed a packet: queues the deferred FINs that fit; true if any did. */
  releaseDeferredFins(): boolean {
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
    return released;
  }

  /** The fallback: FINs that waited past the give-up deadline go out on the next pass. */
  releaseOverdueFins(): void {
    for (const stream of [...this.#deferredFins]) {
      try {
        if (!stream.finishIfRoom(false)) continue;
      } catch {
        // stopped by the peer
      }
      this.#deferredFins.delete(stream);
    }
  }

  /** The connection ended: waiting openers and every stream fail with `error`. */
  terminateAll(error: Error): void {
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
    for (const stream of [...this.#streams.values()]) stream.terminate(error);
    this.#streams.clear();
  }

  #adoptPeerStream(id: number, acceptor: StreamAcceptor): QuicStream | undefined {
    if (initiatorOf(id) === this.#host.role || !this.#peerStreams.markNew(id)) return undefined;
    const stream = new QuicStream(this.#host, id);
    this.#streams.set(id, stream);
    acceptor.onStream(stream);
    return stream;
  }

  /** A stream we already forgot still has input (e.g. data racing our STOP_SENDING): drop it. */
  #discardForgotten(id: number): void {
    try {
      while (this.#host.native.streamRecv(id, this.#host.readBuffer) !== null) {
        // discard
      }
    } catch {
      // reset or finished: nothing left to discard
    }
  }
}

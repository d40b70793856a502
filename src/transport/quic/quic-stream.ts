/**
 * One QUIC stream as quiche holds it, with the state this side tracks (RFC 9000 §3):
 * whether the receive part ended (FIN read, reset by the peer, or abandoned by us) and whether
 * the send part ended (FIN written, reset by us, or stopped by the peer). Once both parts have
 * ended the stream is forgotten by its connection. Consumers get readiness callbacks and call
 * read()/write(), which never block; the WHATWG wrappers build on that.
 */
import { isNativeError, streamResetCode, streamStoppedCode } from './native-errors.ts';
import { ShutdownDirection, type NativeConnection } from './native-quiche.ts';
import { QuicTransportError, StreamResetError, StreamStoppedError } from './quic-errors.ts';
import { initiatorOf, isBidirectional, type Role } from './stream-id.ts';

/** What a stream needs from its connection. */
export interface StreamHost {
  readonly role: Role;
  readonly native: NativeConnection;
  /** Scratch buffer for streamRecv; data is copied out before anyone else uses it. */
  readonly readBuffer: Uint8Array<ArrayBuffer>;
  /** Ask for a service pass (flush packets) soon. */
  schedule(): void;
  /** Counts flushes that sent packets: data written in the current epoch is still unsent. */
  readonly flushEpoch: number;
  /** A stream part was shut down (RESET_STREAM hands unsent bytes' credit back to quiche). */
  streamShutDown(): void;
  /** Retry `finishIfRoom()` right after the next received packet. */
  deferFinish(stream: QuicStream): void;
  retire(stream: QuicStream): void;
}

/**
 * Send room (bytes, i.e. free congestion window right after an ACK) quiche must report
 * before we hand it a deferred FIN; see finish(). Two full packets: the FIN frame then goes
 * out at once even if an ACK frame, control frames or a datagram take the first packet.
 */
const FIN_HEADROOM = 2 * 1350;
/** After this long, one packet of room will do (quiche's minimum window is two packets). */
const FIN_RELAXED_AFTER_MS = 2000;
/** After this long, hand the FIN over regardless: a stuck stream is worse than the small risk. */
const FIN_GIVE_UP_AFTER_MS = 10_000;

export interface StreamChunk {
  /** A copy that owns its ArrayBuffer (byte streams transfer it). */
  readonly data: Uint8Array<ArrayBuffer>;
  readonly fin: boolean;
}

export class QuicStream {
  readonly id: number;
  readonly bidirectional: boolean;
  readonly local: boolean;
  readonly #host: StreamHost;
  #receiveEnded: boolean;
  #sendEnded: boolean;
  #terminated = false;
  /** When the application asked for FIN but it is not handed to quiche yet. */
  #finRequestedAt: number | undefined;
  /** flushEpoch of the last accepted data write, -1 before any. */
  #lastWriteEpoch = -1;

  /** Called when quiche has data, a FIN or a reset for this stream. */
  onReadable: (() => void) | undefined;
  /** Called when quiche can take more data (or the peer sent STOP_SENDING). */
  onWritable: (() => void) | undefined;
  /** Called once if the connection (or the session owning the stream) dies first. */
  onTerminated: ((error: Error) => void) | undefined;

  constructor(host: StreamHost, id: number) {
    this.#host = host;
    this.id = id;
    this.bidirectional = isBidirectional(id);
    this.local = initiatorOf(id) === host.role;
    // A unidirectional stream has only the part its opener writes.
    this.#receiveEnded = !this.bidirectional && this.local;
    this.#sendEnded = !this.bidirectional && !this.local;
  }

  get receiveEnded(): boolean {
    return this.#receiveEnded;
  }

  get sendEnded(): boolean {
    return this.#sendEnded;
  }

  /**
   * Next available bytes (a fresh copy), or undefined when nothing is buffered yet.
   * Throws StreamResetError once if the peer reset the stream.
   */
  read(): StreamChunk | undefined {
    if (this.#receiveEnded) return undefined;
    let result: [number, boolean] | null;
    try {
      result = this.#host.native.streamRecv(this.id, this.#host.readBuffer);
    } catch (error) {
      const code = streamResetCode(error);
      if (code !== undefined) {
        this.#endReceive();
        throw new StreamResetError(code);
      }
      if (isNativeError(error, 'Done')) return undefined;
      this.#endReceive();
      throw new QuicTransportError(`stream ${this.id} receive failed: ${String(error)}`);
    }
    if (result === null) return undefined;
    const [length, fin] = result;
    if (fin) this.#endReceive();
    this.#host.schedule(); // reading frees flow-control credit worth announcing
    return { data: this.#host.readBuffer.slice(0, length), fin };
  }

  /** Bytes quiche accepted (0 when it has no room now). Throws StreamStoppedError on STOP_SENDING. */
  write(data: Uint8Array, fin = false): number {
    if (this.#sendEnded) throw new QuicTransportError(`stream ${this.id} is closed for sending`);
    let written: number | null;
    try {
      written = this.#host.native.streamSend(this.id, data, fin);
    } catch (error) {
      if (isNativeError(error, 'Done')) return 0;
      throw this.#sendFailure(error);
    }
    const accepted = written ?? 0;
    if (accepted > 0) this.#lastWriteEpoch = this.#host.flushEpoch;
    if (fin && accepted === data.byteLength) this.#endSend();
    if (accepted > 0 || fin) this.#host.schedule();
    return accepted;
  }

  /** Room for new data right now. Throws StreamStoppedError if the peer stopped the stream. */
  capacity(): number {
    if (this.#sendEnded) return 0;
    try {
      return this.#host.native.streamCapacity(this.id);
    } catch (error) {
      throw this.#sendFailure(error);
    }
  }

  /**
   * Sends FIN after the data already written.
   *
   * quiche 0.18 loses a zero-length FIN when the ACK that completes the stream's data is
   * processed after the FIN is queued but before a packet carries it: the stream then counts
   * as complete and is collected (cloudflare/quiche#2525). A FIN is therefore handed over
   * only when that cannot happen:
   * - data written since the last flush is still unsent, so the FIN rides on it;
   * - otherwise the FIN waits for the next received packet: right after quiche has processed
   *   it (its send capacity is then exact), if there is room the FIN is queued at the highest
   *   urgency and packets are flushed at once, before any further ACK. A PING makes sure a
   *   packet comes back.
   */
  finish(): void {
    if (this.#sendEnded || this.#finRequestedAt !== undefined) return;
    this.#finRequestedAt = Date.now();
    const dataStillUnsent = this.#lastWriteEpoch === -1 || this.#lastWriteEpoch === this.#host.flushEpoch;
    if (dataStillUnsent) this.write(new Uint8Array(0), true);
    else this.#host.deferFinish(this);
  }

  /**
   * For a deferred FIN; true when the FIN is queued (or moot). `justReceived`: called right
   * after quiche processed a packet, when its send capacity is exact; otherwise only the
   * give-up deadline applies. Throws StreamStoppedError if the peer stopped the stream.
   */
  finishIfRoom(justReceived: boolean): boolean {
    if (this.#sendEnded || this.#finRequestedAt === undefined) return true;
    const waited = Date.now() - this.#finRequestedAt;
    if (waited <= FIN_GIVE_UP_AFTER_MS) {
      if (!justReceived) return false;
      const headroom = waited > FIN_RELAXED_AFTER_MS ? FIN_HEADROOM / 2 : FIN_HEADROOM;
      if (this.capacity() < headroom) return false;
    }
    this.setPriority(0, false);
    this.write(new Uint8Array(0), true);
    return true;
  }

  /** RESET_STREAM: abandon what was not yet delivered. */
  reset(code: number): void {
    if (this.#sendEnded) return;
    this.#shutdown(ShutdownDirection.Write, code);
    this.#endSend();
  }

  /** STOP_SENDING: we will not read any more. */
  stopSending(code: number): void {
    if (this.#receiveEnded) return;
    this.#shutdown(ShutdownDirection.Read, code);
    this.#endReceive();
  }

  /** RFC 9218 urgency 0 (first) .. 7 (last); incremental streams of one urgency share bandwidth. */
  setPriority(urgency: number, incremental: boolean): void {
    if (this.#sendEnded) return;
    try {
      this.#host.native.streamPriority(this.id, urgency, incremental);
    } catch {
      // The stream is already complete in quiche; priority no longer matters.
    }
  }

  /** Ends both parts with `code` and tells the consumer why (session or connection gone). */
  terminate(error: Error, code?: number): void {
    if (code !== undefined) {
      this.reset(code);
      this.stopSending(code);
    }
    this.#receiveEnded = true;
    this.#sendEnded = true;
    this.#notifyTerminated(error);
    this.#host.retire(this);
  }

  /** Connection-side notifications. */
  notifyReadable(): void {
    this.onReadable?.();
  }

  notifyWritable(): void {
    this.onWritable?.();
  }

  #notifyTerminated(error: Error): void {
    if (this.#terminated) return;
    this.#terminated = true;
    this.onTerminated?.(error);
  }

  #sendFailure(error: unknown): Error {
    const code = streamStoppedCode(error);
    if (code !== undefined) {
      // RFC 9000 §3.5: answer STOP_SENDING with RESET_STREAM (quiche does; completing it here is harmless).
      this.#shutdown(ShutdownDirection.Write, code);
      this.#endSend();
      return new StreamStoppedError(code);
    }
    return new QuicTransportError(`stream ${this.id} send failed: ${String(error)}`);
  }

  #shutdown(direction: number, code: number): void {
    try {
      this.#host.native.streamShutdown(this.id, direction, code);
    } catch {
      // Already finished or collected by quiche.
    }
    this.#host.streamShutDown();
    this.#host.schedule();
  }

  #endReceive(): void {
    this.#receiveEnded = true;
    if (this.#sendEnded) this.#host.retire(this);
  }

  #endSend(): void {
    this.#sendEnded = true;
    if (this.#receiveEnded) this.#host.retire(this);
  }
}

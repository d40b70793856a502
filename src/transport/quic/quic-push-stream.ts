/**
 * A PushSendStream (../push-stream.ts) over a QUIC stream's send part: a write goes straight to
 * quiche when its stream buffer has room (quiche copies it; the connection flushes packets once
 * per service pass), and whatever quiche does not take waits here by reference. `onWritable`
 * (flow control or congestion window opened, RFC 9000 §4) moves the queue on and reports the
 * progress. No promise anywhere: the fan-out hot path is one native call per frame and viewer.
 */
import type { PushSendStream } from '../push-stream.ts';
import { StreamStoppedError } from './quic-errors.ts';
import type { QuicStream } from './quic-stream.ts';
import { urgencyForSendOrder } from './send-order.ts';

export interface PushStreamOptions {
  /** Bytes to send before any application data (a WebTransport stream header). */
  readonly prefix?: Uint8Array;
  readonly sendOrder: number;
  readonly fromWireCode: (code: number) => number | null;
  readonly toWireCode: (code: number) => number;
}

type State = 'open' | 'finishing' | 'done';

export class QuicPushStream implements PushSendStream {
  readonly #stream: QuicStream;
  readonly #options: PushStreamOptions;
  /** Chunks quiche has not taken yet, by reference; the head from #offset. */
  readonly #pending: Uint8Array[] = [];
  #offset = 0;
  #queued = 0;
  #state: State = 'open';
  #sendOrder: number;
  onProgress: (() => void) | undefined;
  onStopped: ((code: number | undefined) => void) | undefined;

  constructor(stream: QuicStream, options: PushStreamOptions) {
    this.#stream = stream;
    this.#options = options;
    this.#sendOrder = options.sendOrder;
    stream.setPriority(urgencyForSendOrder(options.sendOrder), true);
    stream.onWritable = () => this.#writable();
    stream.onTerminated = () => this.#gone(undefined);
    if (options.prefix) this.write(options.prefix);
  }

  get queuedBytes(): number {
    return this.#queued;
  }

  get ended(): boolean {
    return this.#state !== 'open';
  }

  get sendOrder(): number {
    return this.#sendOrder;
  }

  set sendOrder(value: number) {
    this.#sendOrder = value;
    this.#stream.setPriority(urgencyForSendOrder(value), true);
  }

  write(bytes: Uint8Array): void {
    if (this.#state !== 'open' || bytes.byteLength === 0) return;
    if (this.#pending.length === 0) {
      const taken = this.#send(bytes);
      if (taken === undefined || taken === bytes.byteLength) return;
      this.#pending.push(bytes);
      this.#offset = taken;
      this.#queued = bytes.byteLength - taken;
      return;
    }
    this.#pending.push(bytes);
    this.#queued += bytes.byteLength;
  }

  finish(): void {
    if (this.#state !== 'open') return;
    this.#state = 'finishing';
    if (this.#pending.length === 0) this.#fin();
  }

  reset(code: number): void {
    if (this.#state === 'done') return;
    this.#state = 'done';
    this.#clear();
    this.#stream.reset(this.#options.toWireCode(code));
  }

  /** quiche has room (or news: a STOP_SENDING shows up as a failing write). */
  #writable(): void {
    if (this.#state === 'done') return;
    if (this.#pending.length === 0) {
      if (this.#state === 'open') this.#probe();
      return;
    }
    const before = this.#queued;
    while (this.#pending.length > 0) {
      const head = this.#pending[0]!;
      const rest = head.byteLength - this.#offset;
      const taken = this.#send(this.#offset === 0 ? head : head.subarray(this.#offset));
      if (taken === undefined) return; // stopped: already reported
      this.#queued -= taken;
      if (taken < rest) {
        this.#offset += taken;
        break;
      }
      this.#pending.shift();
      this.#offset = 0;
    }
    if (this.#pending.length === 0 && this.#state === 'finishing') this.#fin();
    if (this.#queued < before) this.onProgress?.();
  }

  /** Bytes quiche took, or undefined when the stream can take no more (reported to onStopped). */
  #send(bytes: Uint8Array): number | undefined {
    try {
      const taken = this.#stream.write(bytes);
      // quiche answers "Done" both when it has no room and when it already collected a stream
      // the peer stopped (all data acked, so the STOP_SENDING code is gone): tell them apart.
      if (taken === 0) this.#stream.capacity();
      return taken;
    } catch (error) {
      this.#gone(error);
      return undefined;
    }
  }

  #fin(): void {
    this.#state = 'done';
    try {
      this.#stream.finish();
    } catch (error) {
      this.#gone(error);
    }
  }

  /** Nothing queued: just notice a STOP_SENDING early. */
  #probe(): void {
    try {
      this.#stream.capacity();
    } catch (error) {
      this.#gone(error);
    }
  }

  /** The peer stopped the stream (or the session / connection ended): no more bytes go out. */
  #gone(error: unknown): void {
    const wasDone = this.#state === 'done';
    this.#state = 'done';
    const hadQueued = this.#queued > 0;
    this.#clear();
    if (wasDone && !hadQueued) return; // after our own reset or FIN: nothing to report
    const code = error instanceof StreamStoppedError ? (this.#options.fromWireCode(error.code) ?? undefined) : undefined;
    this.onStopped?.(code);
  }

  #clear(): void {
    this.#pending.length = 0;
    this.#offset = 0;
    this.#queued = 0;
  }
}

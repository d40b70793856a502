/**
 * Sends one relay group to the client on its own uni stream: stream type 0, GROUP (subscribe
 * id, sequence), then each frame as size + payload, then FIN. Push, not pull: after the one
 * promise that opens the stream, every frame already in the group and then each new one (from
 * the group's listener, in the turn it arrives) is written synchronously as the bytes the relay
 * built once for every viewer (frameOnWire). Every write is charged to the session's SendBudget;
 * a dropped sender resets its stream (the client loses the whole group, never half of one
 * silently).
 */
import { RelayErrorCode, type Group, type GroupListener } from '../../relay/index.ts';
import type { PushSendStream } from '../../transport/push-stream.ts';
import { openPushSendStream } from '../../transport/writable-push-stream.ts';
import { ByteWriter } from '../../wire/byte-writer.ts';
import type { SessionContext } from './context.ts';
import { encodeGroupHeader, frameOnWire } from './group.ts';
import type { BudgetedSender } from '../send-budget.ts';
import { UniStreamType } from './stream-type.ts';

export class GroupSender implements BudgetedSender, GroupListener {
  #rank: number;
  #dropped = false;
  #stream: PushSendStream | undefined;
  /** The stream header, until it is written. */
  #header: Uint8Array | undefined;
  /** Index of the next frame to write. */
  #cursor = 0;
  /** FIN written: the sender completes once its stream's queue has drained. */
  #finished = false;
  #ended = false;
  readonly #done: Promise<void>;
  #resolveDone!: () => void;
  /** Resolves when the sender is stopped before its stream is open (with the reset code for it). */
  readonly #stoppedEarly: Promise<number>;
  #stopEarly!: (code: number) => void;

  constructor(
    private readonly ctx: SessionContext,
    readonly subscribeId: number,
    readonly group: Group,
    rank: number,
  ) {
    this.#rank = rank;
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
    this.#stoppedEarly = new Promise((resolve) => {
      this.#stopEarly = resolve;
    });
  }

  get rank(): number {
    return this.#rank;
  }

  get dropped(): boolean {
    return this.#dropped;
  }

  get sequence(): number {
    return this.group.sequence;
  }

  /** The stream is open (false while it waits for the transport, e.g. the peer's stream credit). */
  get opened(): boolean {
    return this.#stream !== undefined;
  }

  setRank(rank: number): void {
    this.#rank = rank;
    if (this.#stream) this.#stream.sendOrder = rank;
  }

  /** Fell behind: reset the stream (counted by whoever decided). */
  drop(_reason: string): void {
    this.#stop(RelayErrorCode.tooFarBehind);
  }

  /** The subscription ended: reset without counting it as a loss. */
  cancel(_reason: string): void {
    this.#stop(RelayErrorCode.cancelled);
  }

  /** Resolves once the group is sent (FIN, queue drained) or the sender stopped; never rejects. */
  async run(): Promise<void> {
    let stream: PushSendStream | number;
    const opening = openPushSendStream(this.ctx.transport, this.#rank);
    try {
      // A stream may wait for the peer's stream credit indefinitely (a peer that stopped reading
      // never grants more); a sender dropped meanwhile ends now, not holding its group until then.
      stream = await Promise.race([opening, this.#stoppedEarly]);
    } catch (error) {
      // Opening the stream failed: the transport is closing.
      if (!this.#dropped) this.ctx.logger.debug({ err: error, sequence: this.group.sequence }, 'group stream failed');
      this.#dropped = true;
      this.#end();
      return;
    }
    if (typeof stream === 'number') {
      void opening.then(resetLate(stream), () => undefined);
      this.#end();
      return;
    }
    if (this.#dropped || stream.ended) {
      stream.reset(RelayErrorCode.cancelled);
      this.#dropped = true;
      this.#end();
      return;
    }
    this.#stream = stream;
    if (stream.sendOrder !== this.#rank) stream.sendOrder = this.#rank;
    stream.onProgress = () => this.#progress();
    stream.onStopped = () => this.#stopped();
    this.#header = new ByteWriter(16)
      .varint(UniStreamType.Group)
      .bytes(encodeGroupHeader({ subscribeId: this.subscribeId, sequence: this.group.sequence }))
      .finish();
    this.group.listen(this);
    this.#pump();
    return this.#done;
  }

  // GroupListener: called synchronously by the relay.
  onFrame(): void {
    this.#pump();
  }

  onEnd(): void {
    this.#pump();
  }

  // BudgetedSender: bytes drained somewhere in the session.
  resume(): void {
    this.#pump();
  }

  /** Writes from the cursor as far as the budget allows; FIN (or the relay's reset) at the group's end. */
  #pump(): void {
    const stream = this.#stream;
    if (!stream || this.#ended || this.#finished) return;
    // The publisher reset the group (or the relay evicted it): so does the client's copy, at once.
    const error = this.group.error;
    if (error) return this.#stop(error.code);
    if (this.#header) {
      if (!this.#write(stream, this.#header)) return;
      this.#header = undefined;
    }
    const { frames, arrivals } = this.group;
    const observe = this.ctx.observeLatency;
    while (this.#cursor < frames.length) {
      if (!this.#write(stream, frameOnWire(frames[this.#cursor]!))) return;
      observe?.(performance.now() - arrivals[this.#cursor]!);
      this.#cursor++;
    }
    if (!this.group.done) return;
    this.#finished = true;
    this.group.unlisten(this);
    stream.finish();
    this.#progress();
  }

  /** One write, if the budget has room; false when paused (resume() follows) or ended. */
  #write(stream: PushSendStream, bytes: Uint8Array): boolean {
    const { budget, counters } = this.ctx;
    if (!budget.reserve(this, bytes.byteLength)) return false;
    stream.write(bytes);
    if (this.#ended) return false; // the write found the stream stopped
    counters.bytesSent += bytes.byteLength;
    budget.update(this, stream.queuedBytes);
    return true;
  }

  /** The stream's queue shrank. */
  #progress(): void {
    const stream = this.#stream;
    if (!stream || this.#ended) return;
    this.ctx.budget.update(this, stream.queuedBytes);
    if (this.#finished && stream.queuedBytes === 0) {
      this.ctx.counters.groupsSent++;
      this.#end();
    }
  }

  /** The client stopped this group (STOP_SENDING) or the session is gone. */
  #stopped(): void {
    if (this.#ended) return;
    this.#dropped = true;
    this.#end();
  }

  #stop(code: number): void {
    if (this.#dropped || this.#ended) return;
    this.#dropped = true;
    // Before the stream is open, run() ends now and resets the stream once it arrives.
    if (!this.#stream) return this.#stopEarly(code);
    this.#stream.reset(code);
    this.#end();
  }

  #end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.group.unlisten(this);
    if (this.#stream) {
      this.#stream.onProgress = undefined;
      this.#stream.onStopped = undefined;
    }
    // Bytes still queued never reached the network: they were not sent.
    this.ctx.counters.bytesSent -= this.ctx.budget.release(this);
    this.#resolveDone();
  }
}

/** Resets a stream that opened after its sender was dropped (captures only the code, not the sender). */
function resetLate(code: number): (stream: PushSendStream) => void {
  return (stream) => stream.reset(code);
}

/**
 * Sends one relay group to the client on its own uni stream: stream type 0, GROUP (subscribe
 * id, sequence), then each frame as size + payload, then FIN. Every write is charged to the
 * session's SendBudget; a dropped sender resets its stream (the client loses the whole group,
 * never half of one silently).
 */
import { RelayError, RelayErrorCode, type Group } from '../../relay/index.ts';
import { ByteWriter } from '../../wire/byte-writer.ts';
import { StreamAbortedError } from '../../wire/errors.ts';
import { StreamWriter } from '../../wire/stream-writer.ts';
import type { SessionContext } from './context.ts';
import { encodeGroupHeader, frameOnWire } from './group.ts';
import type { BudgetedSender } from './send-budget.ts';
import { UniStreamType } from './stream-type.ts';

export class GroupSender implements BudgetedSender {
  #rank: number;
  #dropped = false;
  #writer: StreamWriter | undefined;
  /** Resolves when the sender is dropped or cancelled, so a write the transport never accepts cannot hold it. */
  readonly #stopped: Promise<void>;
  #resolveStopped!: () => void;

  constructor(
    private readonly ctx: SessionContext,
    readonly subscribeId: number,
    readonly group: Group,
    rank: number,
  ) {
    this.#rank = rank;
    this.#stopped = new Promise((resolve) => {
      this.#resolveStopped = resolve;
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

  setRank(rank: number): void {
    this.#rank = rank;
    this.#writer?.setSendOrder(rank);
  }

  /** Fell behind: reset the stream (counted by whoever decided). */
  drop(reason: string): void {
    this.#stop(RelayErrorCode.tooFarBehind, reason);
  }

  /** The subscription ended: reset without counting it as a loss. */
  cancel(reason: string): void {
    this.#stop(RelayErrorCode.cancelled, reason);
  }

  /** Runs to completion; never rejects for stream-level endings. */
  async run(): Promise<void> {
    const { budget } = this.ctx;
    try {
      const writable = await this.ctx.transport.createUnidirectionalStream({ sendOrder: this.#rank });
      this.#writer = new StreamWriter(writable);
      this.#writer.setSendOrder(this.#rank);
      if (this.#dropped) return this.#writer.reset(RelayErrorCode.cancelled, 'dropped before start');
      const header = new ByteWriter(16).varint(UniStreamType.Group).bytes(encodeGroupHeader({ subscribeId: this.subscribeId, sequence: this.group.sequence }));
      if (!(await this.#send([header.finish()]))) return;
      const reader = this.group.reader();
      for (;;) {
        const frame = await reader.readFrame();
        if (this.#dropped) return;
        if (!frame) break;
        if (!(await this.#send([frameOnWire(frame)]))) return;
        this.ctx.observeLatency?.(performance.now() - reader.lastArrival);
      }
      this.ctx.counters.groupsSent++;
      await Promise.race([this.#writer.close(), this.#stopped]);
    } catch (error) {
      if (error instanceof RelayError) this.#stop(error.code, error.message);
      else if (error instanceof StreamAbortedError) this.#dropped = true; // the client stopped this group
      else if (!this.#dropped) {
        // Opening the stream failed: the transport is closing.
        this.#dropped = true;
        this.ctx.logger.debug({ err: error, sequence: this.group.sequence }, 'group stream failed');
      }
    } finally {
      budget.release(this);
    }
  }

  async #send(parts: Uint8Array[]): Promise<boolean> {
    const writer = this.#writer!;
    let size = 0;
    for (const part of parts) size += part.byteLength;
    if (!(await this.ctx.budget.reserve(this, size))) return false;
    try {
      // A WHATWG stream aborted during a write waits for that write before it aborts its sink,
      // and the write of a stalled transport never finishes: race it against our own drop so
      // this sender (and with it the whole group) is released at once (issue 24, point 1).
      const written = Promise.all(parts.map((part) => writer.write(part)));
      written.catch(() => undefined);
      await Promise.race([written, this.#stopped]);
      if (this.#dropped) return false;
      this.ctx.counters.bytesSent += size;
    } finally {
      this.ctx.budget.settle(this, size);
    }
    return !this.#dropped;
  }

  #stop(code: number, reason: string): void {
    if (this.#dropped) return;
    this.#dropped = true;
    this.#resolveStopped();
    this.ctx.budget.release(this);
    this.#writer?.reset(code, reason);
  }
}

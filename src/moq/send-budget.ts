/**
 * Bounds the bytes one subscriber has queued in the transport (written to its push streams and
 * not yet handed to the network) across all its group streams, synchronously: no promise per
 * write. When a write would exceed the budget, the least important in-flight group with queued
 * bytes — lowest send order: lower priority, then older when newest-first — is reset and its
 * bytes released at once (moq-lite §Prioritization: drop whole old groups rather than stall).
 * A sender that is itself the least important pauses and is resumed once bytes drain.
 */

export interface BudgetedSender {
  /** WebTransport send order; higher is more important. */
  readonly rank: number;
  /** Set once the budget (or anyone) dropped this sender. */
  readonly dropped: boolean;
  /** Reset the sender's stream because it fell behind; it releases its bytes itself. */
  drop(reason: string): void;
  /** reserve() turned this sender away and bytes have drained since: try again. */
  resume(): void;
}

export class SendBudget {
  /** Bytes each sender's stream holds now (only senders holding some). */
  readonly #held = new Map<BudgetedSender, number>();
  /** Senders reserve() turned away, waiting for room. */
  readonly #waiting = new Set<BudgetedSender>();
  #wakeQueued = false;
  #queued = 0;
  #peak = 0;
  #dropped = 0;
  /** When the transport last took bytes, or when the queue last became non-empty. */
  #progressAt = performance.now();

  constructor(readonly limitBytes: number) {}

  /**
   * How long bytes have been queued with none taken by the transport (ms); 0 when nothing
   * is queued. A subscriber that stopped reading its socket grows this without bound.
   */
  stalledMs(now = performance.now()): number {
    return this.#queued > 0 ? now - this.#progressAt : 0;
  }

  get queuedBytes(): number {
    return this.#queued;
  }

  get peakQueuedBytes(): number {
    return this.#peak;
  }

  /** Groups reset because the subscriber's queue was full. */
  get droppedGroups(): number {
    return this.#dropped;
  }

  /**
   * True when `sender` may write `bytes` now, after dropping less important senders as needed;
   * false when it must wait: it is then resumed (resume()) once bytes drain. One write larger
   * than the whole budget still goes through once nothing is queued, or it could never be sent.
   */
  reserve(sender: BudgetedSender, bytes: number): boolean {
    while (this.#queued > 0 && this.#queued + bytes > this.limitBytes) {
      const victim = this.#leastImportant(sender);
      if (!victim || victim.rank >= sender.rank) {
        this.#waiting.add(sender);
        return false;
      }
      this.#dropped++;
      victim.drop('subscriber queue full');
      this.release(victim);
    }
    return true;
  }

  /** True when `bytes` more fit without dropping anything (for sends that never queue, like datagrams). */
  hasRoom(bytes: number): boolean {
    return this.#queued + bytes <= this.limitBytes;
  }

  /** `sender`'s stream now holds `queued` bytes (after a write, or when the transport took some). */
  update(sender: BudgetedSender, queued: number): void {
    const before = this.#held.get(sender) ?? 0;
    if (queued === before) return;
    if (queued > 0) this.#held.set(sender, queued);
    else this.#held.delete(sender);
    if (queued > before) {
      if (this.#queued === 0) this.#progressAt = performance.now();
      this.#queued += queued - before;
      if (this.#queued > this.#peak) this.#peak = this.#queued;
    } else {
      this.#queued -= before - queued;
      this.#progressAt = performance.now();
      this.#wakeSoon();
    }
  }

  /** Forgets `sender` (it ended or was reset); returns the bytes it held. */
  release(sender: BudgetedSender): number {
    this.#waiting.delete(sender);
    const held = this.#held.get(sender);
    if (held === undefined) return 0;
    this.#held.delete(sender);
    this.#queued -= held;
    this.#wakeSoon();
    return held;
  }

  /**
   * Resumes waiting senders, most important first, once per turn rather than inside the
   * transport callback that freed the room (a resumed sender writes to other streams).
   */
  #wakeSoon(): void {
    if (this.#wakeQueued || this.#waiting.size === 0) return;
    this.#wakeQueued = true;
    queueMicrotask(() => {
      this.#wakeQueued = false;
      const waiting = [...this.#waiting].sort((a, b) => b.rank - a.rank);
      this.#waiting.clear();
      for (const sender of waiting) if (!sender.dropped) sender.resume();
    });
  }

  #leastImportant(except: BudgetedSender): BudgetedSender | undefined {
    let least: BudgetedSender | undefined;
    for (const candidate of this.#held.keys()) {
      if (candidate === except || candidate.dropped) continue;
      if (!least || candidate.rank < least.rank) least = candidate;
    }
    return least;
  }
}

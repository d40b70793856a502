/**
 * Bounds the bytes one subscriber has queued in the transport (handed to a send stream and not
 * yet accepted by it) across all its group streams. When a write would exceed the budget, the
 * least important in-flight group with queued bytes — lowest send order: lower priority, then
 * older when newest-first — is reset and its bytes released (moq-lite §Prioritization: drop
 * whole old groups rather than stall). A sender that is itself the least important waits.
 */
import { Notify } from '../../relay/notify.ts';

export interface BudgetedSender {
  /** WebTransport send order; higher is more important. */
  readonly rank: number;
  /** Set once the budget (or anyone) dropped this sender. */
  readonly dropped: boolean;
  /** Reset the sender's stream because it fell behind. */
  drop(reason: string): void;
}

export class SendBudget {
  readonly #pending = new Map<BudgetedSender, number>();
  readonly #drained = new Notify();
  #queued = 0;
  #peak = 0;
  #dropped = 0;
  /** When the transport last accepted bytes, or when the queue last became non-empty. */
  #progressAt = performance.now();

  constructor(readonly limitBytes: number) {}

  /**
   * How long bytes have been queued with none accepted by the transport (ms); 0 when nothing
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
   * Waits until `bytes` fit (dropping less important senders as needed) and charges them to
   * `sender`. Returns false if the sender was dropped meanwhile. One write larger than the whole
   * budget still goes through once nothing else is queued, or nothing could ever be sent.
   */
  async reserve(sender: BudgetedSender, bytes: number): Promise<boolean> {
    while (!sender.dropped && this.#queued > 0 && this.#queued + bytes > this.limitBytes) {
      const victim = this.#leastImportant(sender);
      if (victim && victim.rank < sender.rank) {
        this.#dropped++;
        this.release(victim);
        victim.drop('subscriber queue full');
        continue;
      }
      await this.#drained.wait();
    }
    if (sender.dropped) return false;
    if (this.#queued === 0) this.#progressAt = performance.now();
    this.#pending.set(sender, (this.#pending.get(sender) ?? 0) + bytes);
    this.#queued += bytes;
    this.#peak = Math.max(this.#peak, this.#queued);
    return true;
  }

  /** The transport accepted (or failed) `bytes` charged to `sender`. */
  settle(sender: BudgetedSender, bytes: number): void {
    const pending = this.#pending.get(sender);
    if (pending === undefined) return; // already released by a drop
    const settled = Math.min(pending, bytes);
    if (pending - settled === 0) this.#pending.delete(sender);
    else this.#pending.set(sender, pending - settled);
    this.#queued -= settled;
    if (settled > 0) this.#progressAt = performance.now();
    this.#drained.notify();
  }

  /** Forget everything charged to `sender` (it ended or was reset). */
  release(sender: BudgetedSender): void {
    const pending = this.#pending.get(sender);
    if (pending !== undefined) {
      this.#pending.delete(sender);
      this.#queued -= pending;
    }
    // Also wakes a sender that waits in reserve() and was just dropped by someone else.
    this.#drained.notify();
  }

  #leastImportant(except: BudgetedSender): BudgetedSender | undefined {
    let least: BudgetedSender | undefined;
    for (const candidate of this.#pending.keys()) {
      if (candidate === except || candidate.dropped) continue;
      if (!least || candidate.rank < least.rank) least = candidate;
    }
    return least;
  }
}

/** The synchronous per-session send budget: drop order, pause and resume, release on reset. */
import { describe, expect, it } from 'vitest';
import { SendBudget, type BudgetedSender } from '../../src/moq/send-budget.ts';

class Sender implements BudgetedSender {
  dropped = false;
  resumed = 0;
  constructor(
    readonly budget: SendBudget,
    readonly rank: number,
  ) {}
  drop(): void {
    this.dropped = true;
    this.budget.release(this);
  }
  resume(): void {
    this.resumed++;
  }
}

const microtasks = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

describe('SendBudget', () => {
  it('resets the least important holder first, and only as many as needed', () => {
    const budget = new SendBudget(300);
    const [low, mid, high, writer] = [1, 2, 3, 10].map((rank) => new Sender(budget, rank)) as [Sender, Sender, Sender, Sender];
    for (const sender of [mid, low, high]) {
      expect(budget.reserve(sender, 100)).toBe(true);
      budget.update(sender, 100);
    }
    expect(budget.queuedBytes).toBe(300);
    expect(budget.reserve(writer, 150)).toBe(true);
    expect([low.dropped, mid.dropped, high.dropped]).toEqual([true, true, false]);
    expect(budget.droppedGroups).toBe(2);
    expect(budget.queuedBytes).toBe(100);
    expect(budget.peakQueuedBytes).toBe(300);
  });

  it('pauses a writer that is itself the least important, and resumes it once bytes drain', async () => {
    const budget = new SendBudget(200);
    const high = new Sender(budget, 5);
    const low = new Sender(budget, 1);
    expect(budget.reserve(high, 150)).toBe(true);
    budget.update(high, 150);
    expect(budget.reserve(low, 100)).toBe(false);
    expect(high.dropped).toBe(false);
    budget.update(high, 150); // no change: no wake-up
    await microtasks();
    expect(low.resumed).toBe(0);
    budget.update(high, 40); // the transport took 110 bytes
    expect(low.resumed).toBe(0); // not inside the transport's callback
    await microtasks();
    expect(low.resumed).toBe(1);
    expect(budget.reserve(low, 100)).toBe(true);
  });

  it('an equal send order waits rather than resetting its peer', () => {
    const budget = new SendBudget(100);
    const a = new Sender(budget, 3);
    const b = new Sender(budget, 3);
    budget.update(a, 80);
    expect(budget.reserve(b, 40)).toBe(false);
    expect(a.dropped).toBe(false);
  });

  it('releases a reset sender at once and wakes the waiting', async () => {
    const budget = new SendBudget(100);
    const a = new Sender(budget, 1);
    const b = new Sender(budget, 1);
    budget.update(a, 90);
    expect(budget.reserve(b, 20)).toBe(false);
    expect(budget.release(a)).toBe(90);
    expect(budget.queuedBytes).toBe(0);
    expect(budget.release(a)).toBe(0);
    await microtasks();
    expect(b.resumed).toBe(1);
  });

  it('lets one write larger than the whole budget through when nothing is queued', () => {
    const budget = new SendBudget(100);
    const a = new Sender(budget, 1);
    expect(budget.reserve(a, 500)).toBe(true);
    budget.update(a, 500);
    expect(budget.reserve(a, 1)).toBe(false);
  });

  it('measures a stall from when bytes were last taken', () => {
    const budget = new SendBudget(1000);
    const a = new Sender(budget, 1);
    expect(budget.stalledMs()).toBe(0);
    budget.update(a, 10);
    const queuedAt = performance.now();
    expect(budget.stalledMs(queuedAt + 5000)).toBeGreaterThanOrEqual(4999);
    budget.update(a, 5);
    expect(budget.stalledMs(performance.now())).toBeLessThan(1000);
    budget.update(a, 0);
    expect(budget.stalledMs(performance.now() + 60_000)).toBe(0);
  });
});

import type { ChildProcess } from 'node:child_process';
import { isFleetAnswer, isFleetAsk, isLimitCount, type FleetAnswers, type FleetAsk, type FleetQueryMessage, type LimitOthers } from './worker-messages.ts';

/** How long an ask waits for the other workers before it is answered with what came in. */
const FLEET_ANSWER_MS = 1000;

interface PendingAsk {
  asker: number;
  askerId: number;
  waiting: Set<number>;
  answers: unknown[];
  timer: NodeJS.Timeout;
}

/**
 * The supervisor's half of app/workers/fleet.ts: forwards a worker's question to every other
 * live worker and hands back their answers, and sums the per-address session counts the workers
 * report so each knows what the others hold. Bounded: one pending entry per ask (each ends within
 * FLEET_ANSWER_MS), one count per address with open sessions.
 */
export class FleetRelay {
  #nextId = 1;
  readonly #pending = new Map<number, PendingAsk>();
  /** address → worker index → sessions that worker holds for it. */
  readonly #limits = new Map<string, Map<number, number>>();

  constructor(private readonly worker: (index: number) => ChildProcess | undefined, private readonly count: number) {}

  /** Handles `message` from worker `from` if it is the fleet's; false otherwise. */
  handle(from: number, message: unknown): boolean {
    if (isFleetAsk(message)) this.#ask(from, message);
    else if (isFleetAnswer(message)) this.#answered(message.id, from, message.answer);
    else if (isLimitCount(message)) this.#setCount(from, message.address, message.count);
    else return false;
    return true;
  }

  /** Worker `index` stopped: nobody waits for its answers, and its sessions no longer count. */
  workerGone(index: number): void {
    for (const [id, pending] of this.#pending) if (pending.waiting.has(index)) this.#answered(id, index, undefined);
    for (const [address, byWorker] of this.#limits) if (byWorker.has(index)) this.#setCount(index, address, 0);
  }

  /** What a (re)started worker must know: every address's count on the others. */
  limitsFor(index: number): LimitOthers[] {
    return [...this.#limits].map(([address, byWorker]) => ({ type: 'limit-others', address, count: othersThan(byWorker, index) }));
  }

  #ask(from: number, ask: FleetAsk): void {
    const id = this.#nextId++;
    const others = Array.from({ length: this.count }, (_, index) => index).filter((index) => index !== from && this.worker(index)?.connected);
    const pending: PendingAsk = { asker: from, askerId: ask.id, waiting: new Set(others), answers: [], timer: setTimeout(() => this.#finish(id), FLEET_ANSWER_MS) };
    pending.timer.unref();
    this.#pending.set(id, pending);
    for (const index of others) this.worker(index)?.send({ type: 'fleet-query', id, query: ask.query } satisfies FleetQueryMessage, (error) => error && this.#answered(id, index, undefined));
    if (others.length === 0) this.#finish(id);
  }

  #answered(id: number, from: number, answer: unknown): void {
    const pending = this.#pending.get(id);
    if (!pending?.waiting.delete(from)) return;
    if (answer !== undefined) pending.answers.push(answer);
    if (pending.waiting.size === 0) this.#finish(id);
  }

  #finish(id: number): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    clearTimeout(pending.timer);
    const asker = this.worker(pending.asker);
    if (asker?.connected) asker.send({ type: 'fleet-answers', id: pending.askerId, answers: pending.answers } satisfies FleetAnswers, () => undefined);
  }

  #setCount(from: number, address: string, count: number): void {
    let byWorker = this.#limits.get(address);
    if (!byWorker) this.#limits.set(address, (byWorker = new Map()));
    if (count > 0) byWorker.set(from, count);
    else byWorker.delete(from);
    if (byWorker.size === 0) this.#limits.delete(address);
    for (let index = 0; index < this.count; index++) {
      if (index === from) continue;
      const child = this.worker(index);
      if (child?.connected) child.send({ type: 'limit-others', address, count: othersThan(byWorker, index) } satisfies LimitOthers, () => undefined);
    }
  }
}

function othersThan(byWorker: Map<number, number>, index: number): number {
  let total = 0;
  for (const [worker, count] of byWorker) if (worker !== index) total += count;
  return total;
}

import { isFleetAnswers, isFleetQuery, isLimitOthers, type FleetAsk, type FleetAnswer, type FleetQuery, type LimitCount } from './worker-messages.ts';
import type { SharedLimits } from '../session-limiter.ts';

/** A worker gives up on the others after this (the supervisor answers within 1 s). */
const ASK_TIMEOUT_MS = 2000;

/** The IPC channel to the supervisor: `process` in a worker. */
export interface SupervisorChannel {
  send?(message: unknown, callback?: (error: Error | null) => void): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
}

/**
 * A worker's view of the other workers under `--workers N` (the supervisor relays, see
 * fleet-relay.ts): `ask` puts one question to all of them and resolves with the answers that
 * came in time, `answer` is how this worker answers theirs, and `limits` is what they hold per
 * address, for the session limiter.
 */
export class WorkerFleet implements SharedLimits {
  #nextId = 1;
  readonly #pending = new Map<number, (answers: unknown[]) => void>();
  readonly #others = new Map<string, number>();

  constructor(
    private readonly channel: SupervisorChannel,
    answer: (query: FleetQuery) => unknown,
  ) {
    channel.on('message', (message) => {
      if (isFleetQuery(message)) {
        void Promise.resolve()
          .then(() => answer(message.query))
          .catch(() => undefined)
          .then((value) => channel.send?.({ type: 'fleet-answer', id: message.id, answer: value } satisfies FleetAnswer, () => undefined));
      } else if (isFleetAnswers(message)) {
        this.#pending.get(message.id)?.(message.answers);
      } else if (isLimitOthers(message)) {
        if (message.count > 0) this.#others.set(message.address, message.count);
        else this.#others.delete(message.address);
      }
    });
  }

  /** Every other worker's answer to `query` (those that answered within the supervisor's wait). */
  ask(query: FleetQuery): Promise<unknown[]> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle([]), ASK_TIMEOUT_MS);
      const settle = (answers: unknown[]) => {
        clearTimeout(timer);
        this.#pending.delete(id);
        resolve(answers);
      };
      this.#pending.set(id, settle);
      if (!this.channel.send) return settle([]);
      this.channel.send({ type: 'fleet-ask', id, query } satisfies FleetAsk, (error) => error && settle([]));
    });
  }

  othersHold(address: string): number {
    return this.#others.get(address) ?? 0;
  }

  reportHeld(address: string, count: number): void {
    this.channel.send?.({ type: 'limit-count', address, count } satisfies LimitCount, () => undefined);
  }
}

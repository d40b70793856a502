/**
 * A level-triggered wake-up: waiters get a promise that settles at the next `notify()`.
 * Cheaper than an EventEmitter for the relay's hot path (one shared promise per change).
 */
export class Notify {
  #promise: Promise<void>;
  #resolve!: () => void;

  constructor() {
    this.#promise = this.#arm();
  }

  #arm(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#resolve = resolve;
    });
  }

  /** A promise that settles at the next notify(). */
  wait(): Promise<void> {
    return this.#promise;
  }

  notify(): void {
    const resolve = this.#resolve;
    this.#promise = this.#arm();
    resolve();
  }
}

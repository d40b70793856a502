/**
 * Coalesces work on connections into one pass per event-loop turn. Packets that arrive in the
 * same poll phase are all fed to quiche first; then each touched connection is serviced once
 * (streams dispatched, a burst of packets generated and flushed) from setImmediate, which runs
 * right after the poll phase. Writes by the application schedule the same pass.
 */
export interface Serviceable {
  service(): void;
  /** A service pass threw: the target must fail alone, without stalling the others. */
  fail(error: unknown): void;
}

export class ServiceQueue {
  readonly #dirty = new Set<Serviceable>();
  #scheduled = false;

  schedule(target: Serviceable): void {
    this.#dirty.add(target);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(this.#run);
  }

  readonly #run = (): void => {
    this.#scheduled = false;
    const targets = [...this.#dirty];
    this.#dirty.clear();
    for (const target of targets) {
      try {
        target.service();
      } catch (error) {
        target.fail(error);
      }
    }
  };
}

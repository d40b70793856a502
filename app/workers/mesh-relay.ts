import type { MeshAnnouncement } from '../../src/cluster/index.ts';

/**
 * The supervisor's half of the worker mesh: the broadcasts each worker reported as its own, so a
 * worker that (re)starts learns everything live on the others, and a worker that dies has its
 * broadcasts withdrawn for it (their viewers on other workers end and can resolve afresh).
 * Bounded by what the workers originate (each is bounded by --max-broadcasts).
 */
export class MeshRelay {
  readonly #byWorker = new Map<number, Map<string, MeshAnnouncement>>();

  /** Records `announcement` from worker `from`; returns what to send to every other worker. */
  report(from: number, announcement: MeshAnnouncement): MeshAnnouncement {
    let own = this.#byWorker.get(from);
    if (!own) this.#byWorker.set(from, (own = new Map()));
    if (announcement.active) own.set(announcement.path, announcement);
    else own.delete(announcement.path);
    return announcement;
  }

  /** Worker `index` is gone: its broadcasts, withdrawn, for the other workers. */
  withdraw(index: number): MeshAnnouncement[] {
    const own = this.#byWorker.get(index);
    this.#byWorker.delete(index);
    return [...(own?.values() ?? [])].map((announcement) => ({ ...announcement, active: false }));
  }

  /** Everything the other workers have live, for worker `index` that just started. */
  snapshotFor(index: number): MeshAnnouncement[] {
    return [...this.#byWorker].filter(([worker]) => worker !== index).flatMap(([, own]) => [...own.values()]);
  }
}

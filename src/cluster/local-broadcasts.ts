/**
 * The broadcasts this node originates (ingest publishers, MoQ publishers connected here), followed
 * through the relay's announcements. The Origin's watch also carries the remote broadcasts the
 * cluster itself announces, so each change is checked against the Origin's local index; and if
 * the bounded watcher ever overflows, the set is rebuilt from that index and watching resumes.
 */
import { normalizePath, type AnnouncementWatcher, type Origin } from '../relay/index.ts';

export type LocalChange = (path: string, active: boolean) => void;

export class LocalBroadcasts {
  readonly #paths = new Set<string>();
  #watcher: AnnouncementWatcher | undefined;
  #stopped = false;

  constructor(
    private readonly origin: Origin,
    private readonly onChange: LocalChange,
  ) {}

  /** Starts following; the broadcasts live now are in `paths()` when this returns (no change events for them). */
  start(): void {
    for (const path of this.#localNow()) this.#paths.add(path);
    void this.#follow();
  }

  paths(): string[] {
    return [...this.#paths];
  }

  has(path: string): boolean {
    return this.#paths.has(path);
  }

  /** Whether the Origin holds a live local broadcast at `path` right now. */
  isLocal(path: string): boolean {
    return this.origin.list(path).some((broadcast) => normalizePath(broadcast.path) === path);
  }

  stop(): void {
    this.#stopped = true;
    this.#watcher?.close();
  }

  async #follow(): Promise<void> {
    while (!this.#stopped) {
      const watcher = this.origin.watch('');
      this.#watcher = watcher;
      for (let next = await watcher.next(); next; next = await watcher.next()) this.#check(next.path);
      if (this.#stopped) return;
      // Overflowed: catch up from the index, then watch again.
      const now = new Set(this.#localNow());
      for (const path of [...this.#paths, ...now]) this.#check(path);
    }
  }

  #check(path: string): void {
    const local = this.isLocal(path);
    if (local === this.#paths.has(path)) return;
    if (local) this.#paths.add(path);
    else this.#paths.delete(path);
    this.onChange(path, local);
  }

  #localNow(): string[] {
    return this.origin.list('').map((broadcast) => normalizePath(broadcast.path));
  }
}

/**
 * Which other node originates each remote broadcast, as learned from announce messages and from
 * scans of the registrations. Pure bookkeeping: every change is reported to `onChange` (old and
 * new owner) and the cluster turns it into announcements and resolver invalidations.
 *
 * Rules:
 * - an active message sets the owner (a different node or URL is a change: a new publisher);
 * - an inactive message removes the entry only if it comes from the current owner;
 * - a scan adds what it finds and removes what it no longer finds (expired: the owner stopped
 *   heartbeating), except for paths a message touched while the scan ran (the message is newer),
 *   and removals can be suspended (`allowRemovals: false`) right after a Redis outage, while the
 *   other nodes are still re-registering;
 * - this node's own registrations are not remote and are ignored.
 */
import type { NodeAddress, Registration } from './records.ts';

export type DirectoryChange = (path: string, previous: NodeAddress | undefined, next: NodeAddress | undefined) => void;

export class RemoteDirectory {
  readonly #entries = new Map<string, NodeAddress>();
  /** Paths a message changed since the current scan started. */
  #touchedDuringScan: Set<string> | undefined;
  #refusedOverLimit = false;

  constructor(
    private readonly self: string,
    private readonly onChange: DirectoryChange,
    /** Bound on remote broadcasts held (memory); more are ignored. */
    private readonly maxEntries = 100_000,
  ) {}

  get size(): number {
    return this.#entries.size;
  }

  get(path: string): NodeAddress | undefined {
    return this.#entries.get(path);
  }

  entries(): Registration[] {
    return [...this.#entries].map(([path, address]) => ({ path, ...address }));
  }

  /** True once some registration was ignored because the directory was full. */
  get overLimit(): boolean {
    return this.#refusedOverLimit;
  }

  /** An announce message from another node. */
  apply(message: Registration & { active: boolean }): void {
    if (message.node === this.self) return;
    this.#touchedDuringScan?.add(message.path);
    if (message.active) this.#set(message.path, { node: message.node, url: message.url });
    else if (this.#entries.get(message.path)?.node === message.node) this.#delete(message.path);
  }

  /** Marks the start of a scan: messages from now on win over its snapshot. */
  beginScan(): void {
    this.#touchedDuringScan = new Set();
  }

  /** Applies a scan's snapshot (see the rules above). */
  completeScan(snapshot: readonly Registration[], options: { allowRemovals: boolean }): void {
    const touched = this.#touchedDuringScan ?? new Set<string>();
    this.#touchedDuringScan = undefined;
    const seen = new Set<string>();
    for (const registration of snapshot) {
      if (registration.node === this.self || touched.has(registration.path)) continue;
      seen.add(registration.path);
      this.#set(registration.path, { node: registration.node, url: registration.url });
    }
    if (!options.allowRemovals) return;
    for (const path of [...this.#entries.keys()]) {
      if (!seen.has(path) && !touched.has(path)) this.#delete(path);
    }
  }

  /** Forgets everything (shutdown), reporting each removal. */
  clear(): void {
    for (const path of [...this.#entries.keys()]) this.#delete(path);
  }

  #set(path: string, next: NodeAddress): void {
    const previous = this.#entries.get(path);
    if (previous && previous.node === next.node && previous.url === next.url) return;
    if (!previous && this.#entries.size >= this.maxEntries) {
      this.#refusedOverLimit = true;
      return;
    }
    this.#entries.set(path, next);
    this.onChange(path, previous, next);
  }

  #delete(path: string): void {
    const previous = this.#entries.get(path);
    if (!previous) return;
    this.#entries.delete(path);
    this.onChange(path, previous, undefined);
  }
}

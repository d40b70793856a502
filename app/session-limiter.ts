/** A per-address limit on open sessions, shared by every protocol (MoQ, RTMP, WHIP). */
class SessionLimitError extends Error {
  override name = 'SessionLimitError';
}

/**
 * What other processes hold per address (under `--workers N`, app/workers/fleet.ts), so the limit
 * holds for the whole gateway. Counts travel over IPC: two workers admitting the same address in
 * the same instant can pass the limit by one each; sessions opened one after another cannot.
 */
export interface SharedLimits {
  othersHold(address: string): number;
  reportHeld(address: string, count: number): void;
}

/**
 * Counts live sessions per remote address. Only established sessions count: half-open
 * connections are bounded by the handshake timeouts instead, so a flood of them cannot lock a
 * legitimate client on the same address out.
 */
export class SessionLimiter {
  readonly #open = new Map<string, number>();

  constructor(
    readonly perAddress: number,
    private readonly shared?: SharedLimits,
  ) {}

  /** Count one session for `address`; returns its release. Throws past the limit. */
  acquire(address: string): () => void {
    const key = normalizeAddress(address);
    const count = this.#open.get(key) ?? 0;
    if (count + (this.shared?.othersHold(key) ?? 0) >= this.perAddress) throw new SessionLimitError(`too many sessions from ${key} (limit ${this.perAddress})`);
    this.#set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#set(key, (this.#open.get(key) ?? 1) - 1);
    };
  }

  /** Sessions `address` holds, on this process and (with `shared`) the others. */
  count(address: string): number {
    const key = normalizeAddress(address);
    return (this.#open.get(key) ?? 0) + (this.shared?.othersHold(key) ?? 0);
  }

  #set(key: string, count: number): void {
    if (count <= 0) this.#open.delete(key);
    else this.#open.set(key, count);
    this.shared?.reportHeld(key, Math.max(0, count));
  }
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are the same peer. */
function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/** A per-address limit on open sessions, shared by every protocol (MoQ, RTMP, WHIP). */
class SessionLimitError extends Error {
  override name = 'SessionLimitError';
}

/**
 * Counts live sessions per remote address. Only established sessions count: half-open
 * connections are bounded by the handshake timeouts instead, so a flood of them cannot lock a
 * legitimate client on the same address out.
 */
export class SessionLimiter {
  readonly #open = new Map<string, number>();

  constructor(readonly perAddress: number) {}

  /** Count one session for `address`; returns its release. Throws past the limit. */
  acquire(address: string): () => void {
    const key = normalizeAddress(address);
    const count = this.#open.get(key) ?? 0;
    if (count >= this.perAddress) throw new SessionLimitError(`too many sessions from ${key} (limit ${this.perAddress})`);
    this.#open.set(key, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#open.get(key) ?? 1) - 1;
      if (left <= 0) this.#open.delete(key);
      else this.#open.set(key, left);
    };
  }

  count(address: string): number {
    return this.#open.get(normalizeAddress(address)) ?? 0;
  }
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are the same peer. */
function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

/**
 * RFC 9000 §2.1: the two low bits of a stream ID say who opened it (bit 0: 0 client, 1 server)
 * and its direction (bit 1: 0 bidirectional, 1 unidirectional).
 */
export type Role = 'client' | 'server';

export const isBidirectional = (id: number): boolean => (id & 0b10) === 0;
export const initiatorOf = (id: number): Role => ((id & 0b01) === 0 ? 'client' : 'server');

/** First stream ID of each kind an endpoint opens itself. */
export function firstLocalStreamId(role: Role, bidirectional: boolean): number {
  return (role === 'client' ? 0 : 1) | (bidirectional ? 0 : 2);
}

/**
 * Which peer-opened stream IDs were already seen, so a stream that we forgot after it ended
 * is not mistaken for a new one. IDs may arrive out of order; a watermark per kind plus a
 * small set of IDs above it keeps the memory bounded by the reordering, not the stream count.
 */
export class PeerStreamTracker {
  /** Every ID of a kind below this watermark has been seen. Indexed by (id & 0b11). */
  readonly #contiguous = [0, 1, 2, 3];
  readonly #above = new Set<number>();

  /** True the first time an ID shows up. */
  markNew(id: number): boolean {
    const kind = id & 0b11;
    if (id < this.#contiguous[kind]! || this.#above.has(id)) return false;
    this.#above.add(id);
    let next = this.#contiguous[kind]!;
    while (this.#above.delete(next)) next += 4;
    this.#contiguous[kind] = next;
    return true;
  }
}

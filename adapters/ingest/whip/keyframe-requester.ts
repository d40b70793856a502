/**
 * When to ask the sender for a key frame with an RTCP PLI (RFC 4585 §6.3.1): on demand (a new
 * viewer, a loss that broke the group), and whenever the last key frame is older than
 * `staleAfterMs`, so the relay always holds a recent group for late joiners. Browsers send one
 * key frame at start and then only on request. Requests are spaced by `minIntervalMs`: the
 * answer takes a round trip and an encode, and a PLI storm only degrades the picture.
 */
export interface KeyframeRequesterOptions {
  minIntervalMs: number;
  staleAfterMs: number;
}

export const DEFAULT_KEYFRAME_OPTIONS: KeyframeRequesterOptions = { minIntervalMs: 500, staleAfterMs: 2000 };

export class KeyframeRequester {
  #lastRequestAt = Number.NEGATIVE_INFINITY;
  #lastKeyframeAt: number;
  requests = 0;

  constructor(
    private readonly sendPli: () => void,
    private readonly options: KeyframeRequesterOptions = DEFAULT_KEYFRAME_OPTIONS,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#lastKeyframeAt = now();
  }

  keyframeSeen(): void {
    this.#lastKeyframeAt = this.now();
  }

  /** Ask for a key frame unless one was asked for very recently. Returns whether a PLI went out. */
  request(): boolean {
    const now = this.now();
    if (now - this.#lastRequestAt < this.options.minIntervalMs) return false;
    this.#lastRequestAt = now;
    this.requests++;
    this.sendPli();
    return true;
  }

  /** Called periodically: ask again while the newest key frame is stale. */
  tick(): void {
    if (this.now() - this.#lastKeyframeAt > this.options.staleAfterMs) this.request();
  }
}

/**
 * One time base per HLS session, shared by its renditions so their tfdt values line up:
 * media time 0 sits a margin before the first timestamp seen, which keeps decode times positive
 * whichever track starts first, and maps broadcast µs to wall-clock for
 * EXT-X-PROGRAM-DATE-TIME (RFC 8216bis §4.4.4.6).
 */
export class SessionClock {
  static readonly marginUs = 10_000_000;
  #epochUs: number | undefined;
  #wallAtEpochMs = 0;

  /** Fix the epoch at the first timestamp any rendition sees. */
  observe(timestampUs: number): void {
    if (this.#epochUs !== undefined) return;
    this.#epochUs = timestampUs - SessionClock.marginUs;
    this.#wallAtEpochMs = Date.now() - SessionClock.marginUs / 1000;
  }

  /** Timestamp in `timescale` units since the epoch (negative before it). */
  ticks(timestampUs: number, timescale: number): number {
    return Math.round(((timestampUs - (this.#epochUs ?? timestampUs)) * timescale) / 1_000_000);
  }

  wallClockMs(timestampUs: number): number {
    return this.#wallAtEpochMs + (timestampUs - (this.#epochUs ?? timestampUs)) / 1000;
  }
}

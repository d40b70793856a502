/**
 * RTMP timestamps are 32-bit milliseconds that wrap after ~49.7 days (RTMP 1.0, 5.3.1.2.1), and
 * audio and video messages interleave with small backward steps between them. One
 * RtmpTimeline per connection unwraps every media message onto a single continuous timeline,
 * so audio and video stay in sync (they are never rebased separately).
 */
export class RtmpTimeline {
  private lastRaw: number | null = null;
  private currentMs = 0;

  /** Continuous ms for a raw 32-bit timestamp: each step is the signed 32-bit difference. */
  unwrap(raw: number): number {
    if (this.lastRaw === null) {
      this.currentMs = raw;
    } else {
      this.currentMs += (raw - this.lastRaw) | 0;
    }
    this.lastRaw = raw;
    return this.currentMs;
  }
}

/**
 * Keeps one track's decode timestamps non-decreasing (the frame model's promise) and never
 * negative: a step backwards is clamped to the previous DTS and reported to the caller.
 */
export class TrackClock {
  private last = 0;
  private started = false;

  /** Returns the DTS to use and how far (µs) it had to be moved forward. */
  next(dtsUs: number): { dts: number; clampedByUs: number } {
    const floor = this.started ? this.last : 0;
    this.started = true;
    const dts = Math.max(dtsUs, floor);
    this.last = dts;
    return { dts, clampedByUs: dts - dtsUs };
  }
}

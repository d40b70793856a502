/**
 * What the load generator measures, per process: frames and media bytes per viewer whose stamp
 * (lib/stamp.ts) falls in the window [from, until), and the latency histograms. A frame is
 * counted once its last byte arrived; its stamp is read from the first bytes only.
 */
import { findStamp, now } from '../lib/stamp.ts';
import { Histogram } from '../lib/stats.ts';

/** Bytes of a frame's start kept for the stamp search (the stamp sits in its first ~80 bytes). */
export const HEAD_BYTES = 160;
/** Frames this large are keyframes in the bench media (~120 KB; others ~9 KB). */
const LARGE_FRAME_BYTES = 40_000;

export interface ViewerCounts {
  frames: number;
  bytes: number;
  ended: boolean;
}

export class Tally {
  readonly latency = new Histogram();
  readonly latencyLarge = new Histogram();
  from = Number.POSITIVE_INFINITY;
  until = Number.POSITIVE_INFINITY;
  /** Frames with no stamp in their head (should stay 0). */
  unstamped = 0;

  window(from: number, until: number, viewers: Iterable<ViewerCounts>): void {
    this.from = from;
    this.until = until;
    this.latency.reset();
    this.latencyLarge.reset();
    this.unstamped = 0;
    for (const v of viewers) {
      v.frames = 0;
      v.bytes = 0;
    }
  }

  /** A whole frame of `size` bytes arrived; `head` holds its first min(size, HEAD_BYTES) bytes. */
  frame(viewer: ViewerCounts, head: Uint8Array, size: number): void {
    const stamp = findStamp(head);
    if (!stamp) {
      this.unstamped++;
      return;
    }
    if (stamp.sentAt < this.from || stamp.sentAt >= this.until) return;
    const ms = now() - stamp.sentAt;
    viewer.frames++;
    viewer.bytes += size;
    this.latency.record(ms);
    if (size >= LARGE_FRAME_BYTES) this.latencyLarge.record(ms);
  }
}

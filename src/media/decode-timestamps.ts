/**
 * Decode timestamps for a stream that carries only presentation times in decode order (hang's
 * legacy container, LOC without a DTS property). Formats that need DTS (ISO BMFF `trun`,
 * MPEG-TS PES) can rebuild them because, for any decoder, the k-th frame decoded may be stamped
 * with the k-th smallest presentation time: DTS is then monotonic and each frame's DTS is the
 * PTS of some frame decoded no later than it (ISO/IEC 14496-12 §8.6.1: DTS strictly increasing,
 * CT(n) = DT(n) + CTTS(n)).
 *
 * The k-th smallest PTS is known once every frame that may still precede it in presentation
 * order has arrived: with B-frames that is a few frames later (the reorder depth). The depth is
 * learnt from the stream (the largest number of earlier-decoded frames showing after a frame),
 * starting from a hint, so streams without reordering cost no latency at all.
 *
 * With `shift = 0` a keyframe that opens a closed GOP gets DTS = PTS, which CMAF prefers (the
 * fragment's decode time is its earliest presentation time) at the cost of negative composition
 * offsets for B-frames (trun version 1). A constant `shift` (e.g. the reorder depth in frame
 * durations) yields DTS <= PTS instead, for formats without signed offsets.
 */

export interface DecodeTimestampOptions {
  /** Frames of lookahead before the first reordering is seen (0 for codecs without B-frames). */
  initialDepth?: number;
  /** Upper bound on the learnt depth, which also bounds memory. */
  maxDepth?: number;
  /** Subtracted from every DTS (same unit as the timestamps). */
  shift?: number;
}

export interface TimestampedFrame<T> {
  pts: number;
  dts: number;
  frame: T;
}

const DEFAULT_MAX_REORDER_DEPTH = 16;

export class DecodeTimestampReconstructor<T> {
  readonly #maxDepth: number;
  readonly #shift: number;
  #depth: number;
  /** Frames waiting for their DTS, in decode order. */
  readonly #pending: { pts: number; frame: T }[] = [];
  /** PTS values of pending frames, ascending (small: at most maxDepth + 1 entries). */
  readonly #pool: number[] = [];
  /** PTS of the latest frames in decode order, to measure how far a new frame was reordered. */
  readonly #recent: number[] = [];
  #lastDts = Number.NEGATIVE_INFINITY;

  constructor(options: DecodeTimestampOptions = {}) {
    this.#maxDepth = Math.max(0, options.maxDepth ?? DEFAULT_MAX_REORDER_DEPTH);
    this.#depth = Math.min(this.#maxDepth, Math.max(0, options.initialDepth ?? 0));
    this.#shift = options.shift ?? 0;
  }

  /** Frames of lookahead currently applied. */
  get depth(): number {
    return this.#depth;
  }

  /** Add the next frame in decode order; returns the frames whose DTS is now known. */
  push(pts: number, frame: T): TimestampedFrame<T>[] {
    let displacement = 0;
    for (const earlier of this.#recent) if (earlier > pts) displacement++;
    if (displacement > this.#depth) this.#depth = Math.min(this.#maxDepth, displacement);
    this.#recent.push(pts);
    if (this.#recent.length > this.#maxDepth) this.#recent.shift();

    this.#pending.push({ pts, frame });
    insertSorted(this.#pool, pts);
    const out: TimestampedFrame<T>[] = [];
    while (this.#pending.length > this.#depth) out.push(this.#emit());
    return out;
  }

  /** Every waiting frame (end of a closed GOP, or end of stream). */
  flush(): TimestampedFrame<T>[] {
    const out: TimestampedFrame<T>[] = [];
    while (this.#pending.length > 0) out.push(this.#emit());
    return out;
  }

  #emit(): TimestampedFrame<T> {
    const { pts, frame } = this.#pending.shift()!;
    const smallest = this.#pool.shift()!;
    // Reordering deeper than the depth learnt so far (only before it is learnt) would step
    // back in time: keep DTS strictly increasing, as every container requires.
    let dts = smallest - this.#shift;
    if (dts <= this.#lastDts) dts = nextAfter(this.#lastDts);
    this.#lastDts = dts;
    return { pts, dts, frame };
  }
}

function insertSorted(list: number[], value: number): void {
  let i = list.length;
  while (i > 0 && list[i - 1]! > value) i--;
  list.splice(i, 0, value);
}

/** The next representable step: +1 for integer clocks (µs, ticks), an ulp-scale step otherwise. */
function nextAfter(value: number): number {
  return Number.isInteger(value) ? value + 1 : value + Math.max(Number.EPSILON, Math.abs(value) * Number.EPSILON);
}

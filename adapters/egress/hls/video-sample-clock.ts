import { DecodeTimestampReconstructor } from '../../../src/media/decode-timestamps.ts';
import type { SessionClock } from './session-clock.ts';
import type { TimedSample } from './timed-sample.ts';

interface PendingFrame {
  data: Uint8Array;
  keyframe: boolean;
  groupStart: boolean;
}

/**
 * Turns legacy-container video frames (PTS only, decode order) into CMAF samples: rebuilds DTS
 * (src/media/decode-timestamps.ts), converts to 90 kHz, and holds one sample back until the next
 * one gives its duration (trun needs sample_duration; the last one of a stream repeats the
 * previous duration).
 */
export class VideoSampleClock {
  static readonly timescale = 90_000;
  readonly #reorder: DecodeTimestampReconstructor<PendingFrame>;
  #held: { sample: Omit<TimedSample, 'duration'> } | undefined;
  #lastDuration = 3000;
  #lastDts = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly clock: SessionClock,
    reorderDepthHint: number,
    /** Longest duration one sample may claim: a jump in time becomes a gap, not a huge sample. */
    private readonly maxDurationTicks: number,
  ) {
    this.#reorder = new DecodeTimestampReconstructor({ initialDepth: reorderDepthHint });
  }

  /** The next frame in decode order; returns samples now complete. */
  push(ptsUs: number, data: Uint8Array, groupStart: boolean): TimedSample[] {
    const out: TimedSample[] = [];
    // A group is a closed GOP: nothing after it reorders with anything in it.
    if (groupStart) for (const f of this.#reorder.flush()) this.#timed(f.pts, f.dts, f.frame, out);
    for (const f of this.#reorder.push(ptsUs, { data, keyframe: groupStart, groupStart })) this.#timed(f.pts, f.dts, f.frame, out);
    return out;
  }

  /**
   * Everything still waiting: at the end of the stream, or before a new init segment (then
   * `nextPtsUs`, the first presentation time after the change, ends the last sample, so the
   * old configuration's samples all go out under the old init and leave no hole).
   */
  flush(nextPtsUs?: number): TimedSample[] {
    const out: TimedSample[] = [];
    for (const f of this.#reorder.flush()) this.#timed(f.pts, f.dts, f.frame, out);
    if (this.#held) {
      const held = this.#held.sample;
      const until = nextPtsUs === undefined ? undefined : this.clock.ticks(nextPtsUs, VideoSampleClock.timescale) - held.dts;
      const duration = until !== undefined && until > 0 ? Math.min(until, this.maxDurationTicks) : this.#lastDuration;
      out.push({ ...held, duration });
    }
    this.#held = undefined;
    return out;
  }

  #timed(ptsUs: number, dtsUs: number, frame: PendingFrame, out: TimedSample[]): void {
    this.clock.observe(dtsUs);
    const timescale = VideoSampleClock.timescale;
    let dts = this.clock.ticks(dtsUs, timescale);
    if (dts <= this.#lastDts) dts = this.#lastDts + 1; // µs that round to the same tick
    this.#lastDts = dts;
    const pts = this.clock.ticks(ptsUs, timescale);
    const sample = { dts, compositionOffset: pts - dts, keyframe: frame.keyframe, groupStart: frame.groupStart, timeUs: dtsUs, data: frame.data };
    if (this.#held) {
      const duration = Math.min(dts - this.#held.sample.dts, this.maxDurationTicks);
      this.#lastDuration = duration;
      out.push({ ...this.#held.sample, duration });
    }
    this.#held = { sample };
  }
}

import type { SessionClock } from './session-clock.ts';
import type { TimedSample } from './timed-sample.ts';

/**
 * Audio frames to CMAF samples in the codec's sample clock. Every audio frame is a sync
 * sample with a known length (AAC: 1024 samples; Opus: from its TOC), so nothing is held back.
 * Ingest timestamps are often millisecond-rounded (RTMP/FLV): a frame within half a frame of
 * where the previous one ended is placed exactly there, so the fragments tile without the
 * 1-sample gaps and overlaps that make MSE drop or click; a larger jump resynchronizes.
 */
export class AudioSampleClock {
  #nextDts: number | undefined;

  constructor(
    private readonly clock: SessionClock,
    readonly timescale: number,
    /** Samples in one frame, or a function reading it from the packet (Opus). */
    private readonly frameSamples: (packet: Uint8Array) => number | undefined,
  ) {}

  push(ptsUs: number, data: Uint8Array, groupStart: boolean): TimedSample[] {
    const duration = this.frameSamples(data);
    if (duration === undefined || duration <= 0) return [];
    this.clock.observe(ptsUs);
    let dts = this.clock.ticks(ptsUs, this.timescale);
    if (this.#nextDts !== undefined && Math.abs(dts - this.#nextDts) <= duration / 2) dts = this.#nextDts;
    // Overlapping the previous frame by more than half a frame: drop, the timeline must advance.
    if (this.#nextDts !== undefined && dts < this.#nextDts) return [];
    this.#nextDts = dts + duration;
    return [{ dts, duration, compositionOffset: 0, keyframe: true, groupStart, timeUs: ptsUs, data }];
  }

  /** Nothing is held back: each audio frame knows its own duration. */
  flush(_nextPtsUs?: number): TimedSample[] {
    return [];
  }
}

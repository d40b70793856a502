import { buildFragment } from './fmp4/fragment.ts';
import type { CutSchedule } from './cut-schedule.ts';
import type { PlaylistWindow } from './playlist-window.ts';
import type { TimedSample } from './timed-sample.ts';

/**
 * How a rendition decides where segments and parts start:
 * - `leader`: the default video. Segments start at relay groups (GOPs); its cuts are published
 *   to the schedule for the other renditions.
 * - `video`: other video renditions, cut the same way on their own groups.
 * - `follower`: audio next to a video leader, cut where the caller says (the leader's cuts).
 * - `self`: audio without video, cut by duration.
 */
export type SegmenterRole =
  | { kind: 'leader'; schedule: CutSchedule }
  | { kind: 'video' }
  | { kind: 'follower'; schedule: CutSchedule }
  | { kind: 'self' };

export interface SegmenterOptions {
  trackId: number;
  /** PART-TARGET in µs: no part is longer. */
  partTargetUs: number;
  /**
   * Where a leader closes parts, a little under PART-TARGET so a follower's part, which ends at
   * the first audio frame past the same instant, still fits in it.
   */
  leaderPartUs: number;
  /** GOPs shorter than this are merged into one segment. */
  minSegmentUs: number;
  /** Bound on the first segment (the target duration is derived from it). */
  firstSegmentMaxUs: number;
}

/** A cut a follower must make before a sample, taken from the leader's schedule. */
export interface ForcedCut {
  /** Start a new segment with this Media Sequence Number (or the next free one). */
  segmentMsn?: number;
  /** ...which begins a discontinuity. */
  discontinuity?: boolean;
  part?: boolean;
}

/**
 * Cuts one rendition's samples into LL-HLS parts (one CMAF chunk, moof+mdat, each) and
 * segments (a run of parts starting, normally, at a keyframe), and records them in the window.
 */
export class Segmenter {
  readonly #samples: TimedSample[] = [];
  #partTicks = 0;
  #segmentTicks = 0;
  #segmentOpen = false;
  #fragmentSequence = 1;
  /** Set by restart(), which comes before the first sample. */
  #timescale = 90_000;
  #initVersion = 1;
  #restart = false;
  #discontinuity = false;

  constructor(
    private readonly window: PlaylistWindow,
    private readonly role: SegmenterRole,
    private readonly options: SegmenterOptions,
  ) {}

  /** A new init segment applies from the next sample on, which starts a new segment. */
  restart(initVersion: number, discontinuity: boolean, timescale: number): void {
    this.#closeSegment(); // what came before goes out with the old settings
    this.#timescale = timescale;
    this.#initVersion = initVersion;
    this.#restart = true;
    this.#discontinuity ||= discontinuity;
  }

  push(sample: TimedSample, forced: ForcedCut = {}): void {
    if (sample.dts < 0) return; // before the session epoch: cannot be placed in a tfdt
    const cut = this.#decide(sample, forced);
    if (forced.discontinuity) this.#discontinuity = true;
    if (cut === 'segment') {
      this.#closeSegment();
      this.#openSegment(sample, forced.segmentMsn);
    } else if (cut === 'part') {
      this.#closePart();
    }
    if (this.role.kind === 'leader') {
      const schedule = this.role.schedule;
      if (this.#samples.length === 0 && cut !== 'segment') schedule.announce({ timeUs: sample.timeUs, kind: 'part', msn: this.window.current?.msn ?? 0 });
    }
    this.#samples.push(sample);
    this.#partTicks += sample.duration;
    this.#segmentTicks += sample.duration;
    if (this.role.kind === 'leader') this.role.schedule.advance(sample.timeUs);
    // Close a part as soon as the next sample of the same length would not fit, rather than
    // when that sample arrives: the part is listed one frame earlier. Followers cut only
    // where the leader did.
    if (this.role.kind !== 'follower' && this.#partTicks + sample.duration > this.#ticks(this.#partBudgetUs())) this.#closePart();
  }

  /** End of media: close the open part and segment. */
  finish(): void {
    this.#closeSegment();
  }

  #decide(sample: TimedSample, forced: ForcedCut): 'segment' | 'part' | undefined {
    if (!this.#segmentOpen || this.#restart) return 'segment';
    const next = sample.duration;
    const segmentFull = this.#segmentTicks + next > this.#ticks(this.#maxSegmentUs());
    const partFull = this.#samples.length > 0 && this.#partTicks + next > this.#ticks(this.#partBudgetUs());
    switch (this.role.kind) {
      case 'leader':
      case 'video':
        if (sample.groupStart && this.#segmentTicks >= this.#ticks(this.options.minSegmentUs)) return 'segment';
        if (segmentFull) return 'segment';
        // A keyframe inside a merged segment starts its own part: a place players can join.
        if (partFull || (sample.keyframe && this.#samples.length > 0)) return 'part';
        return undefined;
      case 'follower':
        if (forced.segmentMsn !== undefined || segmentFull) return 'segment';
        if (forced.part || partFull) return 'part';
        return undefined;
      case 'self':
        if (this.#segmentTicks + next > this.#ticks(Math.max(this.options.minSegmentUs, 1_000_000))) return 'segment';
        return partFull ? 'part' : undefined;
    }
  }

  #partBudgetUs(): number {
    return this.role.kind === 'leader' || this.role.kind === 'video' ? this.options.leaderPartUs : this.options.partTargetUs;
  }

  /** Segments may run to just under target + 0.5 s: EXTINF rounded MUST NOT exceed it (§4.4.3.1). */
  #maxSegmentUs(): number {
    const target = this.window.targetDuration;
    return target === undefined ? this.options.firstSegmentMaxUs : (target + 0.45) * 1_000_000;
  }

  #ticks(us: number): number {
    return (us * this.#timescale) / 1_000_000;
  }

  #openSegment(sample: TimedSample, msnHint: number | undefined): void {
    // A playlist numbers its segments implicitly (MEDIA-SEQUENCE + position, RFC 8216bis
    // §4.4.3.2), so numbers never skip: a follower takes the leader's number only for its first
    // segment, and from then on they agree as long as the follower follows every cut.
    const current = this.window.current;
    const msn = current === undefined ? (msnHint ?? 0) : current.msn + 1;
    const discontinuity = this.#discontinuity && this.window.segments.length > 0;
    this.window.beginSegment({ msn, startUs: sample.timeUs, discontinuity, initVersion: this.#initVersion });
    this.#segmentOpen = true;
    this.#segmentTicks = 0;
    this.#restart = false;
    this.#discontinuity = false;
    if (this.role.kind === 'leader') this.role.schedule.announce({ timeUs: sample.timeUs, kind: 'segment', msn, discontinuity });
  }

  #closePart(): void {
    if (this.#samples.length === 0) return;
    const bytes = buildFragment({
      trackId: this.options.trackId,
      sequenceNumber: this.#fragmentSequence++,
      baseMediaDecodeTime: this.#samples[0]!.dts,
      samples: this.#samples,
    });
    this.window.addPart({ duration: this.#partTicks / this.#timescale, independent: this.#samples[0]!.keyframe, bytes });
    this.#samples.length = 0;
    this.#partTicks = 0;
  }

  #closeSegment(): void {
    this.#closePart();
    if (!this.#segmentOpen) return;
    this.#segmentOpen = false;
    const duration = this.#segmentTicks / this.#timescale;
    this.window.completeSegment();
    if (this.window.targetDuration === undefined) this.#settleTargetDuration(duration);
  }

  /**
   * EXT-X-TARGETDURATION from the first segment (a whole GOP), rounded up but forgiving the
   * rounding of timestamps, so a 1.0004 s GOP gives 1. Followers take the leader's.
   */
  #settleTargetDuration(firstSegmentSeconds: number): void {
    if (this.role.kind === 'follower') {
      // The leader's, once known; our own only when there is no leader to wait for.
      const shared = this.role.schedule.targetDuration;
      if (shared !== undefined) this.window.setTargetDuration(shared);
      else if (!this.role.schedule.leaderActive) this.window.setTargetDuration(Math.max(1, Math.ceil(firstSegmentSeconds - 0.05)));
      return;
    }
    const target = Math.max(1, Math.ceil(firstSegmentSeconds - 0.05));
    this.window.setTargetDuration(target);
    if (this.role.kind === 'leader') this.role.schedule.setTargetDuration(target);
  }
}

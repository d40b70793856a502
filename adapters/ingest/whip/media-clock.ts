import { SenderReportCheck } from './sender-report-check.ts';

/**
 * RTP clocks → one µs timeline per session (what MediaFrame.timestamp carries).
 *
 * Each track's RTP timestamps start at a random value and tick at the codec's clock rate, so
 * they only become comparable across tracks through RTCP sender reports, which pair an RTP
 * timestamp with the sender's NTP wallclock (RFC 3550 §6.4.1). Until a track's first report it
 * is placed by arrival time; the first report of the session fixes the NTP → local offset so
 * that this track continues without a jump, and every track with a report then follows the
 * sender's wallclock: audio and video line up as they were captured. Reports are checked
 * first (sender-report-check.ts); once any disagrees with the media, the whole session goes
 * back to RTP timestamps anchored on arrival.
 */
const TWO_32 = 2 ** 32;

/** 64-bit NTP timestamp (seconds since 1900 . 32-bit fraction) → µs. */
export function ntpToMicros(ntp: bigint): number {
  const seconds = Number(ntp >> 32n);
  const fraction = Number(ntp & 0xffffffffn);
  return seconds * 1e6 + (fraction * 1e6) / TWO_32;
}

/** 32-bit RTP timestamps → a monotonic-ish extended count, across wraps (RFC 3550 §5.1). */
export class RtpTimestampUnwrapper {
  #highest: number | undefined;

  unwrap(timestamp: number): number {
    if (this.#highest === undefined) {
      this.#highest = timestamp;
      return timestamp;
    }
    const low = ((this.#highest % TWO_32) + TWO_32) % TWO_32;
    let delta = (((timestamp - low) % TWO_32) + TWO_32) % TWO_32;
    if (delta >= TWO_32 / 2) delta -= TWO_32; // an older timestamp
    const extended = this.#highest + delta;
    if (extended > this.#highest) this.#highest = extended;
    return extended;
  }
}

/** The state every track of a session shares: where the timeline starts and the NTP offset. */
export class SessionTimeline {
  /** Local µs of timestamp 0. */
  #epochUs: number | undefined;
  /** Local µs − sender NTP µs, fixed by the session's first sender report. */
  ntpOffsetUs: number | undefined;
  /** Cleared for good when any track's reports disagree with its media: every track then runs on arrival. */
  #reportsTrusted = true;

  constructor(
    readonly nowUs: () => number = () => performance.now() * 1000,
    /** Told once, when the session stops following sender reports. */
    private readonly onReportsDistrusted: (reason: string, clockRate: number) => void = () => undefined,
  ) {}

  get reportsTrusted(): boolean {
    return this.#reportsTrusted;
  }

  distrustReports(reason: string, clockRate: number): void {
    if (!this.#reportsTrusted) return;
    this.#reportsTrusted = false;
    this.onReportsDistrusted(reason, clockRate);
  }

  /** Timeline position of a local time; the first call defines 0. */
  position(localUs: number): number {
    this.#epochUs ??= localUs;
    return localUs - this.#epochUs;
  }
}

interface Anchor {
  rtp: number;
  localUs: number;
}

/**
 * Frames pushed onto their predecessor (+1 µs) although their RTP timestamps advance, for this
 * much media, mean the reports place the media in the past: they are wrong.
 */
const MAX_COLLAPSED_US = 1_000_000;

export class TrackClock {
  readonly #unwrapper = new RtpTimestampUnwrapper();
  readonly #check: SenderReportCheck;
  /** First frame: its RTP time at its arrival. */
  #arrival: Anchor | undefined;
  /** Latest sender report, its NTP time already moved onto the local clock. */
  #report: Anchor | undefined;
  #last = -1;
  #lastRtp: number | undefined;
  #lastArrivalUs = 0;
  /** Media (µs of RTP time) squeezed onto the previous frame in a row while following reports. */
  #collapsedUs = 0;

  constructor(
    private readonly timeline: SessionTimeline,
    private readonly clockRate: number,
  ) {
    this.#check = new SenderReportCheck(clockRate);
  }

  #local(anchor: Anchor, rtp: number): number {
    return anchor.localUs + ((rtp - anchor.rtp) * 1e6) / this.clockRate;
  }

  onSenderReport(ntpTimestamp: bigint, rtpTimestamp: number): void {
    if (ntpTimestamp === 0n) return; // a sender without a wallclock
    if (!this.timeline.reportsTrusted) return;
    const rtp = this.#unwrapper.unwrap(rtpTimestamp);
    const ntpUs = ntpToMicros(ntpTimestamp);
    const arrivalUs = this.timeline.nowUs();
    // Where the media's RTP clock is now: the latest frame's, moved on by the time since it came
    // (a sender pausing, e.g. Opus DTX, keeps its RTP clock running, RFC 3550 §5.1).
    const mediaRtp = this.#lastRtp === undefined ? undefined : this.#lastRtp + ((arrivalUs - this.#lastArrivalUs) * this.clockRate) / 1e6;
    const problem = this.#check.check({ rtp, ntpUs, arrivalUs, mediaRtp });
    if (problem) {
      this.timeline.distrustReports(problem, this.clockRate);
      return;
    }
    if (this.timeline.ntpOffsetUs === undefined) {
      const localUs = this.#arrival ? this.#local(this.#arrival, rtp) : this.timeline.nowUs();
      this.timeline.ntpOffsetUs = localUs - ntpUs;
    }
    this.#report = { rtp, localUs: ntpUs + this.timeline.ntpOffsetUs };
  }

  /** Timeline µs of a frame with this RTP timestamp, arriving now. Strictly increasing per track. */
  frameTime(rtpTimestamp: number): number {
    const rtp = this.#unwrapper.unwrap(rtpTimestamp);
    this.#arrival ??= { rtp, localUs: this.timeline.nowUs() };
    const followReport = this.#report !== undefined && this.timeline.reportsTrusted;
    if (this.#report && !followReport) {
      // Back on arrival anchoring after untrusted reports: continue from the last frame, never back.
      this.#report = undefined;
      const behindUs = this.#last - this.timeline.position(this.#local(this.#arrival, rtp));
      if (behindUs >= 0) this.#arrival = { ...this.#arrival, localUs: this.#arrival.localUs + behindUs + 1 };
    }
    const position = Math.round(this.timeline.position(this.#local(followReport ? this.#report! : this.#arrival, rtp)));
    const time = Math.max(0, position, this.#last + 1);
    if (followReport && position <= this.#last && this.#lastRtp !== undefined && rtp > this.#lastRtp) {
      this.#collapsedUs += ((rtp - this.#lastRtp) * 1e6) / this.clockRate;
      if (this.#collapsedUs > MAX_COLLAPSED_US) {
        this.timeline.distrustReports(`sender reports put ${(this.#collapsedUs / 1e6).toFixed(1)} s of media before the frames already sent`, this.clockRate);
      }
    } else {
      this.#collapsedUs = 0;
    }
    this.#last = time;
    this.#lastRtp = rtp;
    this.#lastArrivalUs = this.timeline.nowUs();
    return time;
  }
}

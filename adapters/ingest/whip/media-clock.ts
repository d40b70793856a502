/**
 * RTP clocks → one µs timeline per session (what MediaFrame.timestamp carries).
 *
 * Each track's RTP timestamps start at a random value and tick at the codec's clock rate, so
 * they only become comparable across tracks through RTCP sender reports, which pair an RTP
 * timestamp with the sender's NTP wallclock (RFC 3550 §6.4.1). Until a track's first report it
 * is placed by arrival time; the first report of the session fixes the NTP → local offset so
 * that this track continues without a jump, and every track with a report then follows the
 * sender's wallclock: audio and video line up as they were captured.
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

  constructor(readonly nowUs: () => number = () => performance.now() * 1000) {}

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

export class TrackClock {
  readonly #unwrapper = new RtpTimestampUnwrapper();
  /** First frame: its RTP time at its arrival. */
  #arrival: Anchor | undefined;
  /** Latest sender report, its NTP time already moved onto the local clock. */
  #report: Anchor | undefined;
  #last = -1;

  constructor(
    private readonly timeline: SessionTimeline,
    private readonly clockRate: number,
  ) {}

  #local(anchor: Anchor, rtp: number): number {
    return anchor.localUs + ((rtp - anchor.rtp) * 1e6) / this.clockRate;
  }

  onSenderReport(ntpTimestamp: bigint, rtpTimestamp: number): void {
    if (ntpTimestamp === 0n) return; // a sender without a wallclock
    const rtp = this.#unwrapper.unwrap(rtpTimestamp);
    const ntpUs = ntpToMicros(ntpTimestamp);
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
    const localUs = this.#local(this.#report ?? this.#arrival, rtp);
    const time = Math.max(0, Math.round(this.timeline.position(localUs)), this.#last + 1);
    this.#last = time;
    return time;
  }
}

/**
 * Whether a sender's RTCP sender reports can be believed. An SR pairs an RTP timestamp with the
 * sender's NTP wallclock at the same instant (RFC 3550 §6.4.1), so between two reports of one
 * stream the RTP span (at the clock rate) must equal the NTP span, the NTP span must match the
 * time between their arrivals, and the SR's RTP time must stay as far ahead of the media's RTP
 * timestamps as it was (the sender's capture-to-send delay). GStreamer 1.22's webrtcbin sends
 * reports whose RTP time runs about twice as fast as their NTP time: followed, they squeeze
 * every frame onto the previous one. The first disagreement is returned as a reason.
 */

/** Rate disagreement tolerated between two spans (10 %), plus a fixed slack for short spans. */
const RATE_TOLERANCE = 0.1;
/** Sender-side spans (RTP vs NTP of one report) are exact up to rounding. */
const SENDER_SLACK_US = 20_000;
/** Spans measured on arrival also carry network and event-loop jitter. */
const ARRIVAL_SLACK_US = 250_000;

export interface ReportSample {
  /** Extended RTP timestamp of the report. */
  rtp: number;
  /** The report's NTP time in µs. */
  ntpUs: number;
  /** Local µs when it arrived. */
  arrivalUs: number;
  /** The media's RTP time when the report arrived (from the latest frame), if any frame came yet. */
  mediaRtp: number | undefined;
}

export class SenderReportCheck {
  #previous: ReportSample | undefined;

  constructor(private readonly clockRate: number) {}

  /** Checks a report against the previous one; undefined when they agree (or it is the first). */
  check(report: ReportSample): string | undefined {
    const previous = this.#previous;
    this.#previous = report;
    if (!previous) return undefined;
    const ntpSpan = report.ntpUs - previous.ntpUs;
    const rtpSpan = ((report.rtp - previous.rtp) * 1e6) / this.clockRate;
    const arrivalSpan = report.arrivalUs - previous.arrivalUs;
    if (ntpSpan <= 0) return `NTP time did not advance between reports (${fmt(ntpSpan)})`;
    if (disagree(rtpSpan, ntpSpan, SENDER_SLACK_US)) return `RTP time advanced ${fmt(rtpSpan)} in ${fmt(ntpSpan)} of NTP time`;
    if (disagree(ntpSpan, arrivalSpan, ARRIVAL_SLACK_US)) return `NTP time advanced ${fmt(ntpSpan)} in ${fmt(arrivalSpan)} between arrivals`;
    if (previous.mediaRtp !== undefined && report.mediaRtp !== undefined) {
      const mediaSpan = ((report.mediaRtp - previous.mediaRtp) * 1e6) / this.clockRate;
      if (disagree(rtpSpan, mediaSpan, ARRIVAL_SLACK_US)) return `RTP time advanced ${fmt(rtpSpan)} while the media advanced ${fmt(mediaSpan)}`;
    }
    return undefined;
  }
}

function disagree(span: number, reference: number, slackUs: number): boolean {
  return Math.abs(span - reference) > RATE_TOLERANCE * Math.abs(reference) + slackUs;
}

function fmt(us: number): string {
  return `${(us / 1e6).toFixed(3)} s`;
}

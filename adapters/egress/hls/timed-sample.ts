/** A media sample on its way into a CMAF fragment, with timing in the track's timescale. */
export interface TimedSample {
  /** Decode time, track timescale units since the session epoch. */
  dts: number;
  /** Decode duration in timescale units. */
  duration: number;
  /** PTS − DTS in timescale units (signed). */
  compositionOffset: number;
  keyframe: boolean;
  /** First sample of a relay group (a GOP for video): where segments preferably start. */
  groupStart: boolean;
  /** Decode time on the broadcast's µs timeline, shared across renditions for aligned cuts. */
  timeUs: number;
  data: Uint8Array;
}

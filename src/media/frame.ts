/**
 * The one frame model every ingest produces and every egress consumes.
 *
 * Timestamps are microseconds on the broadcast's own timeline (monotonic per track, in decode
 * order). Video payloads are length-prefixed (AVCC / HVCC, 4-byte lengths); audio payloads are
 * raw access units (AAC without ADTS, Opus packets).
 */

export type MediaKind = 'video' | 'audio';

export interface MediaFrame {
  /** Decode timestamp in µs. Monotonic (non-decreasing) per track. */
  timestamp: number;
  /**
   * Presentation offset in µs (PTS − DTS), signed; 0 when the codec has no reordering.
   * Kept so that egress formats with composition offsets (CMAF) can use it.
   */
  compositionOffset: number;
  /** True for a random-access point (IDR / keyframe); a video group starts with one. */
  keyframe: boolean;
  payload: Uint8Array;
}

export interface VideoTrackInfo {
  kind: 'video';
  /** WebCodecs codec string, e.g. `avc1.64001f`, `hvc1.1.6.L93.B0`, `av01.0.08M.08`, `vp09.00.10.08`. */
  codec: string;
  /** Codec configuration record (avcC / hvcC / av1C / vpcC), or undefined when in-band only. */
  description?: Uint8Array;
  codedWidth: number;
  codedHeight: number;
  framerate?: number;
  bitrate?: number;
}

export interface AudioTrackInfo {
  kind: 'audio';
  /** WebCodecs codec string, e.g. `mp4a.40.2`, `opus`. */
  codec: string;
  /** AudioSpecificConfig for AAC, OpusHead for Opus (optional for Opus). */
  description?: Uint8Array;
  sampleRate: number;
  numberOfChannels: number;
  bitrate?: number;
}

export type TrackInfo = VideoTrackInfo | AudioTrackInfo;

/**
 * Where an ingest adapter delivers normalized media. One sink per published broadcast.
 * Implemented by src/media/publisher.ts, which maps it onto relay tracks and the catalogs.
 */
export interface MediaSink {
  /**
   * Declare or replace a track's description. Replacing it (e.g. new SPS/PPS) makes the next
   * frame of that track start a new group and republishes the catalog.
   */
  setTrack(name: string, info: TrackInfo): void;
  /** Append a frame to a declared track. Video keyframes start a new group. */
  writeFrame(name: string, frame: MediaFrame): void;
  /** Remove a track (e.g. encoder stopped sending audio). */
  removeTrack(name: string): void;
  /**
   * The publisher is gone (clean or not). Unless `final`, the broadcast waits out the reconnect
   * grace for the encoder to come back; `final` means it ended deliberately (WHIP DELETE).
   */
  close(reason?: string, options?: { final?: boolean }): void;
}

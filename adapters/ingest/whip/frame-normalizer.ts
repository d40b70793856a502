import type { TrackInfo } from '../../../src/media/frame.ts';
import type { CodecFrame } from './rtp-frame-assembler.ts';

/** A depacketized codec frame in the frame model's terms. */
export interface NormalizedFrame {
  /** AVCC (4-byte lengths) for H.264, OBUs with sizes for AV1, the frame as sent for VP8/VP9/Opus. */
  payload: Uint8Array;
  keyframe: boolean;
  /** Set when the track description starts or changes (first key frame, new SPS, new size). */
  info?: TrackInfo;
}

/**
 * Turns one codec's depacketized frames into frame-model frames and track descriptions, from
 * in-band configuration (SPS/PPS, key frame headers, sequence headers). Throws MediaParseError
 * on malformed bitstream; returns undefined for a frame that cannot be used yet (no
 * configuration seen: wait for a key frame).
 */
export interface FrameNormalizer {
  normalize(frame: CodecFrame): NormalizedFrame | undefined;
}

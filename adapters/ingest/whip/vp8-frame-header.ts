import { MediaParseError } from '../../../src/media/errors.ts';

/** The frame tag and, for key frames, the picture size of a VP8 frame (RFC 6386 §9.1). */
export interface Vp8FrameHeader {
  keyframe: boolean;
  /** Present on key frames only. */
  width?: number;
  height?: number;
}

const START_CODE = [0x9d, 0x01, 0x2a];

export function parseVp8FrameHeader(frame: Uint8Array): Vp8FrameHeader {
  if (frame.length < 3) throw new MediaParseError('VP8 frame shorter than its 3-byte frame tag');
  const keyframe = (frame[0]! & 0x01) === 0; // frame_type: 0 = key frame
  if (!keyframe) return { keyframe };
  // Key frame: tag, start code 9d 01 2a, then 14-bit width and height, each with 2 scale bits.
  if (frame.length < 10) throw new MediaParseError('VP8 key frame shorter than its 10-byte header');
  if (START_CODE.some((b, i) => frame[3 + i] !== b)) throw new MediaParseError('VP8 key frame without the 9d 01 2a start code');
  const width = (frame[6]! | (frame[7]! << 8)) & 0x3fff;
  const height = (frame[8]! | (frame[9]! << 8)) & 0x3fff;
  if (width === 0 || height === 0) throw new MediaParseError('VP8 key frame with a zero picture size');
  return { keyframe, width, height };
}

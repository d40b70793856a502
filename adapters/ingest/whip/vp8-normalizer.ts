import type { VideoTrackInfo } from '../../../src/media/frame.ts';
import type { FrameNormalizer, NormalizedFrame } from './frame-normalizer.ts';
import type { CodecFrame } from './rtp-frame-assembler.ts';
import { parseVp8FrameHeader } from './vp8-frame-header.ts';

/** VP8 frames (RFC 7741 depacketized) pass through; key frames give the picture size. */
export class Vp8Normalizer implements FrameNormalizer {
  #info: VideoTrackInfo | undefined;

  normalize(frame: CodecFrame): NormalizedFrame | undefined {
    const header = parseVp8FrameHeader(frame.data);
    let info: VideoTrackInfo | undefined;
    if (header.keyframe && (header.width !== this.#info?.codedWidth || header.height !== this.#info?.codedHeight)) {
      info = { kind: 'video', codec: 'vp8', codedWidth: header.width!, codedHeight: header.height! };
      this.#info = info;
    }
    if (!this.#info) return undefined;
    return { payload: frame.data, keyframe: header.keyframe, ...(info ? { info } : {}) };
  }
}

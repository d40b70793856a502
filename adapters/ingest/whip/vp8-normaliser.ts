import type { VideoTrackInfo } from '../../../src/media/frame.ts';
import type { FrameNormaliser, NormalisedFrame } from './frame-normaliser.ts';
import type { CodecFrame } from './rtp-frame-assembler.ts';
import { parseVp8FrameHeader } from './vp8-frame-header.ts';

/** VP8 frames (RFC 7741 depacketized) pass through; key frames give the picture size. */
export class Vp8Normaliser implements FrameNormaliser {
  #info: VideoTrackInfo | undefined;

  normalise(frame: CodecFrame): NormalisedFrame | undefined {
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

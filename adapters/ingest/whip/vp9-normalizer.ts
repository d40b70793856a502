import type { VideoTrackInfo } from '../../../src/media/frame.ts';
import { bytesEqual } from '../../../src/media/nal.ts';
import { vp9CodecString } from '../../../src/media/vp9.ts';
import type { FrameNormalizer, NormalizedFrame } from './frame-normalizer.ts';
import type { CodecFrame } from './rtp-frame-assembler.ts';
import { buildVpcC, parseVp9FrameHeader } from './vp9-frame-header.ts';

/** VP9 frames pass through; key frame headers give profile, bit depth and size (a vpcC). */
export class Vp9Normalizer implements FrameNormalizer {
  #info: VideoTrackInfo | undefined;

  normalize(frame: CodecFrame): NormalizedFrame | undefined {
    const header = parseVp9FrameHeader(frame.data);
    let info: VideoTrackInfo | undefined;
    if (header.keyframe) {
      const vpcc = buildVpcC(header);
      if (!this.#info?.description || !bytesEqual(vpcc, this.#info.description) || this.#info.codedWidth !== header.width || this.#info.codedHeight !== header.height) {
        info = { kind: 'video', codec: vp9CodecString(vpcc), description: vpcc, codedWidth: header.width!, codedHeight: header.height! };
        this.#info = info;
      }
    }
    if (!this.#info) return undefined;
    return { payload: frame.data, keyframe: header.keyframe, ...(info ? { info } : {}) };
  }
}

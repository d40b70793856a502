import { Av1Normalizer } from './av1-normalizer.ts';
import type { FrameNormalizer } from './frame-normalizer.ts';
import { H264Normalizer } from './h264-normalizer.ts';
import type { CodecName } from './offer-plan.ts';
import { OpusNormalizer } from './opus-normalizer.ts';
import type { DepacketizerName } from './rtp-frame-assembler.ts';
import { Vp8Normalizer } from './vp8-normalizer.ts';
import { Vp9Normalizer } from './vp9-normalizer.ts';

export interface CodecPipeline {
  depacketizer: DepacketizerName;
  normalizer: FrameNormalizer;
  /** RTP packets one frame may span before it is dropped as broken. */
  maxPacketsPerFrame: number;
}

/**
 * werift reassembles H.264 FU-A fragments by concatenating the growing NAL unit once per
 * packet, which is quadratic: measured 0.27 s for a 1024-packet (1.2 MB) frame, 5 s for 2048.
 * 1024 packets is far above what WebRTC encoders send (key frames of a few hundred KB) and
 * bounds what a hostile sender can cost. The other depacketizers are linear.
 */
const H264_MAX_PACKETS_PER_FRAME = 1024;
const MAX_PACKETS_PER_FRAME = 4096;

/** The depacketizer and frame normalizer for a negotiated codec. */
export function codecPipeline(name: CodecName): CodecPipeline {
  switch (name) {
    case 'H264':
      return { depacketizer: 'MPEG4/ISO/AVC', normalizer: new H264Normalizer(), maxPacketsPerFrame: H264_MAX_PACKETS_PER_FRAME };
    case 'VP8':
      return { depacketizer: 'VP8', normalizer: new Vp8Normalizer(), maxPacketsPerFrame: MAX_PACKETS_PER_FRAME };
    case 'VP9':
      return { depacketizer: 'VP9', normalizer: new Vp9Normalizer(), maxPacketsPerFrame: MAX_PACKETS_PER_FRAME };
    case 'AV1':
      return { depacketizer: 'AV1', normalizer: new Av1Normalizer(), maxPacketsPerFrame: MAX_PACKETS_PER_FRAME };
    case 'OPUS':
      return { depacketizer: 'OPUS', normalizer: new OpusNormalizer(), maxPacketsPerFrame: 1 };
  }
}

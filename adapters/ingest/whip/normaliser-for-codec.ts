import { Av1Normaliser } from './av1-normaliser.ts';
import type { FrameNormaliser } from './frame-normaliser.ts';
import { H264Normaliser } from './h264-normaliser.ts';
import type { CodecName } from './offer-plan.ts';
import { OpusNormaliser } from './opus-normaliser.ts';
import type { DepacketizerName } from './rtp-frame-assembler.ts';
import { Vp8Normaliser } from './vp8-normaliser.ts';
import { Vp9Normaliser } from './vp9-normaliser.ts';

export interface CodecPipeline {
  depacketizer: DepacketizerName;
  normaliser: FrameNormaliser;
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

/** The depacketizer and frame normaliser for a negotiated codec. */
export function codecPipeline(name: CodecName): CodecPipeline {
  switch (name) {
    case 'H264':
      return { depacketizer: 'MPEG4/ISO/AVC', normaliser: new H264Normaliser(), maxPacketsPerFrame: H264_MAX_PACKETS_PER_FRAME };
    case 'VP8':
      return { depacketizer: 'VP8', normaliser: new Vp8Normaliser(), maxPacketsPerFrame: MAX_PACKETS_PER_FRAME };
    case 'VP9':
      return { depacketizer: 'VP9', normaliser: new Vp9Normaliser(), maxPacketsPerFrame: MAX_PACKETS_PER_FRAME };
    case 'AV1':
      return { depacketizer: 'AV1', normaliser: new Av1Normaliser(), maxPacketsPerFrame: MAX_PACKETS_PER_FRAME };
    case 'OPUS':
      return { depacketizer: 'OPUS', normaliser: new OpusNormaliser(), maxPacketsPerFrame: 1 };
  }
}
